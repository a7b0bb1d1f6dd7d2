// Copyright 2026 Trainyard authors.
#include "services/metrics/series/series_points.h"

#include <algorithm>

namespace trainyard::metrics {

EventPoints SeriesPoints(const v1::Event& event) {
  EventPoints out;
  std::vector<PointInput>& points = out.points;
  if (!event.has_metrics()) return out;
  const v1::MetricsPayload& m = event.metrics();
  auto add = [&](const char* name, bool present, double value) {
    if (present) points.push_back({name, m.step(), value, event.attempt()});
  };
  add("train_loss", m.has_train_loss(), m.train_loss());
  add("val_loss", m.has_val_loss(), m.val_loss());
  add("learning_rate", m.has_learning_rate(), m.learning_rate());
  add("grad_norm", m.has_grad_norm(), m.grad_norm());
  add("gpu_utilization", m.has_gpu_utilization(), m.gpu_utilization());
  add("gpu_memory_used_bytes", m.has_gpu_memory_used_bytes(),
      static_cast<double>(m.gpu_memory_used_bytes()));
  add("tokens_per_second", m.has_tokens_per_second(), m.tokens_per_second());
  add("perplexity", m.has_perplexity(), m.perplexity());
  // Map order is unspecified: sort the extras so replays stage identically.
  std::vector<std::pair<std::string, double>> extra(m.extra().begin(),
                                                    m.extra().end());
  std::sort(extra.begin(), extra.end());
  // Names first: views into a vector being filled would dangle.
  for (const auto& [key, value] : extra)
    out.extra_names.push_back("extra." + key);
  for (size_t i = 0; i < extra.size(); ++i) {
    points.push_back(
        {out.extra_names[i], m.step(), extra[i].second, event.attempt()});
  }
  return out;
}

}  // namespace trainyard::metrics
