// Copyright 2026 Trainyard authors.
#include "common/telemetry/exposition.h"

#include <sstream>

#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace trainyard::telemetry {

void Exposition::Add(
    std::shared_ptr<const prometheus::Collectable> collectable) {
  absl::MutexLock lock(&mu_);
  collectables_.push_back(std::move(collectable));
}

std::string Exposition::Render() const {
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables;
  {
    absl::MutexLock lock(&mu_);
    collectables = collectables_;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& c : collectables) {
    std::vector<prometheus::MetricFamily> more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace trainyard::telemetry
