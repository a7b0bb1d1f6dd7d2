// Copyright 2026 Trainyard authors.
#include "services/metrics/domain/trend.h"

#include <cmath>

#include "common/time/proto_time.h"

namespace trainyard::metrics {

using common::v1::MetricValue;
using common::v1::Trend;

MetricValue NextMetricValue(const MetricValue* prev, double value, int64_t step,
                            absl::Time time, Better better,
                            double unchanged_percent) {
  MetricValue out;
  out.set_value(value);
  out.set_step(step);
  *out.mutable_time() = ToProto(time);
  if (prev == nullptr) return out;  // first report: no trend
  double before = prev->value();
  out.set_previous_value(before);
  if (!std::isfinite(value)) {
    if (better != Better::kNeither) out.set_trend(common::v1::TREND_WORSENING);
    return out;
  }
  if (!std::isfinite(before) || before == 0) return out;
  double change = (value - before) / std::fabs(before) * 100.0;
  out.set_percent_change(change);
  if (better == Better::kNeither) return out;
  Trend trend;
  if (std::fabs(change) < unchanged_percent) {
    trend = common::v1::TREND_UNCHANGED;
  } else if ((change < 0) == (better == Better::kLower)) {
    trend = common::v1::TREND_IMPROVING;
  } else {
    trend = common::v1::TREND_WORSENING;
  }
  out.set_trend(trend);
  return out;
}

}  // namespace trainyard::metrics
