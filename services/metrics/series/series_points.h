// Copyright 2026 Trainyard authors.
//
// The metric points a METRICS event carries, one per reported value, named as
// the curve API names series: "train_loss", "val_loss", "learning_rate",
// "grad_norm", "gpu_utilization", "gpu_memory_used_bytes",
// "tokens_per_second", "perplexity", and "extra.<key>".
#pragma once

#include <string>
#include <vector>

#include "services/metrics/series/series_store.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// The points of one event. `points` refer to `extra_names` (and to string
// literals): keep the EventPoints alive while the points are used.
struct EventPoints {
  std::vector<std::string> extra_names;
  std::vector<PointInput> points;
};

EventPoints SeriesPoints(const v1::Event& event);

}  // namespace trainyard::metrics
