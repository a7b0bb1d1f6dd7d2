// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/analytics.h"

#include <algorithm>
#include <cmath>

#include "common/time/proto_time.h"

namespace trainyard::scheduler {
namespace {

// Nearest-rank percentile of sorted values. REQUIRES: !sorted.empty().
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

absl::Duration Mean(const std::vector<absl::Duration>& values) {
  if (values.empty()) return absl::ZeroDuration();
  absl::Duration sum;
  for (absl::Duration d : values) sum += d;
  return sum / static_cast<int64_t>(values.size());
}

}  // namespace

absl::Time DayOf(absl::Time t) {
  int64_t s = absl::ToUnixSeconds(t);
  int64_t day = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  return absl::FromUnixSeconds(day * 86400);
}

v1::GetQueueAnalyticsResponse ComputeAnalytics(
    const std::vector<internal::StartRecord>& starts, absl::Time start,
    absl::Time end, const std::map<absl::Time, int>& max_depth_by_day) {
  v1::GetQueueAnalyticsResponse out;
  *out.mutable_period()->mutable_start_time() = ToProto(start);
  *out.mutable_period()->mutable_end_time() = ToProto(end);

  std::vector<absl::Duration> waits, errors, abs_errors;
  std::map<v1::Confidence, std::vector<absl::Duration>> abs_by_confidence;
  struct Day {
    int started = 0;
    absl::Duration wait_sum;
  };
  std::map<absl::Time, Day> days;
  absl::Duration longest = -absl::InfiniteDuration();
  for (const internal::StartRecord& s : starts) {
    absl::Time at = FromProto(s.start_time());
    if (at < start || at > end) continue;
    absl::Duration wait = at - FromProto(s.enqueue_time());
    waits.push_back(wait);
    if (wait > longest) {
      longest = wait;
      out.set_longest_wait_job_id(s.job_id());
    }
    Day& day = days[DayOf(at)];
    ++day.started;
    day.wait_sum += wait;
    if (s.has_initial_estimated_start_time()) {
      absl::Duration error = at - FromProto(s.initial_estimated_start_time());
      errors.push_back(error);
      abs_errors.push_back(absl::AbsDuration(error));
      abs_by_confidence[s.initial_confidence()].push_back(
          absl::AbsDuration(error));
    }
  }
  out.set_jobs_started(static_cast<int32_t>(waits.size()));
  double period_days = absl::ToDoubleHours(end - start) / 24.0;
  out.set_throughput_jobs_per_day(period_days > 0 ? waits.size() / period_days
                                                  : 0.0);
  if (!waits.empty()) {
    std::sort(waits.begin(), waits.end());
    *out.mutable_average_wait() = ToProto(Mean(waits));
    *out.mutable_median_wait() = ToProto(Percentile(waits, 0.5));
    *out.mutable_p90_wait() = ToProto(Percentile(waits, 0.9));
    *out.mutable_longest_wait() = ToProto(longest);
  }
  v1::EstimateAccuracy& accuracy = *out.mutable_estimate_accuracy();
  accuracy.set_sample_count(static_cast<int32_t>(abs_errors.size()));
  accuracy.set_calibration_factor(1.0);
  if (!abs_errors.empty()) {
    std::sort(abs_errors.begin(), abs_errors.end());
    *accuracy.mutable_mean_absolute_error() = ToProto(Mean(abs_errors));
    *accuracy.mutable_mean_error() = ToProto(Mean(errors));
    *accuracy.mutable_p50_absolute_error() =
        ToProto(Percentile(abs_errors, 0.5));
    *accuracy.mutable_p90_absolute_error() =
        ToProto(Percentile(abs_errors, 0.9));
  }
  for (const auto& [confidence, values] : abs_by_confidence) {
    v1::ConfidenceAccuracy& c = *accuracy.add_by_confidence();
    c.set_confidence(confidence);
    c.set_sample_count(static_cast<int32_t>(values.size()));
    *c.mutable_mean_absolute_error() = ToProto(Mean(values));
  }
  // One row per day of the period, oldest first.
  for (absl::Time day = DayOf(start); day < end; day += absl::Hours(24)) {
    v1::DailyQueueStats& row = *out.add_daily();
    *row.mutable_day() = ToProto(day);
    auto it = days.find(day);
    if (it != days.end()) {
      row.set_jobs_started(it->second.started);
      *row.mutable_average_wait() =
          ToProto(it->second.wait_sum / it->second.started);
    }
    auto depth = max_depth_by_day.find(day);
    if (depth != max_depth_by_day.end()) row.set_max_depth(depth->second);
  }
  return out;
}

}  // namespace trainyard::scheduler
