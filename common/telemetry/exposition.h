// Copyright 2026 Trainyard authors.
//
// What a service's GET /metrics answers: the Prometheus text format of its
// registry and of any other collectables (e.g. RocksDB statistics).
//
// Thread-safe. Collectables are held by shared_ptr, so a scrape that races
// with shutdown never reads freed memory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"

namespace trainyard::telemetry {

// The content type of the text exposition format.
inline constexpr char kPrometheusContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

class Exposition {
 public:
  void Add(std::shared_ptr<const prometheus::Collectable> collectable);
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::telemetry
