// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/queue_rules.h"

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/time/proto_time.h"

namespace trainyard::scheduler {

QueueKey KeyOf(const v1::QueueEntry& entry) {
  return {entry.promoted(),
          entry.promoted() ? FromProto(entry.promote_time()) : absl::Time(),
          FromProto(entry.create_time()), entry.job_id()};
}

v1::DepthLevel DepthLevelOf(int depth, int limit, int long_queue_threshold) {
  if (depth <= limit) return v1::DEPTH_LEVEL_LOW;
  if (depth <= long_queue_threshold) return v1::DEPTH_LEVEL_MODERATE;
  return v1::DEPTH_LEVEL_HIGH;
}

std::string LongQueueWarning(int depth, int long_queue_threshold) {
  if (depth <= long_queue_threshold) return "";
  return absl::StrCat(
      "Queue unusually long (", depth,
      " jobs). Consider increasing limit or cancelling non-essential jobs");
}

v1::QueueSettings DefaultSettings() {
  v1::QueueSettings s;
  s.set_concurrency_limit(3);
  s.set_long_queue_threshold(10);
  *s.mutable_provisioning_buffer() = ToProto(absl::Minutes(5));
  *s.mutable_promotion_expiry() = ToProto(absl::Hours(24));
  return s;
}

absl::StatusOr<v1::QueueSettings> ApplySettingsUpdate(
    const v1::QueueSettings& current, const v1::QueueSettings& update,
    const std::vector<std::string>& paths) {
  v1::QueueSettings next = current;
  std::vector<FieldViolation> bad;
  auto wants = [&](std::string_view name) {
    if (paths.empty()) return true;
    for (const auto& p : paths) {
      if (p == name) return true;
    }
    return false;
  };
  for (const auto& p : paths) {
    if (p != "concurrency_limit" && p != "long_queue_threshold" &&
        p != "provisioning_buffer" && p != "promotion_expiry") {
      bad.push_back({"update_mask", absl::StrCat("unknown path '", p, "'")});
    }
  }
  if (wants("concurrency_limit")) {
    if (update.concurrency_limit() < 1 || update.concurrency_limit() > 100) {
      bad.push_back({"settings.concurrency_limit", "must be 1..100"});
    }
    next.set_concurrency_limit(update.concurrency_limit());
  }
  if (wants("long_queue_threshold")) {
    if (update.long_queue_threshold() < 1 ||
        update.long_queue_threshold() > 1000) {
      bad.push_back({"settings.long_queue_threshold", "must be 1..1000"});
    }
    next.set_long_queue_threshold(update.long_queue_threshold());
  }
  if (wants("provisioning_buffer")) {
    absl::Duration d = FromProto(update.provisioning_buffer());
    if (d < absl::ZeroDuration() || d > absl::Hours(1)) {
      bad.push_back({"settings.provisioning_buffer", "must be 0s..1h"});
    }
    *next.mutable_provisioning_buffer() = update.provisioning_buffer();
  }
  if (wants("promotion_expiry")) {
    absl::Duration d = FromProto(update.promotion_expiry());
    if (d < absl::Hours(1) || d > absl::Hours(24 * 7)) {
      bad.push_back({"settings.promotion_expiry", "must be 1h..7d"});
    }
    *next.mutable_promotion_expiry() = update.promotion_expiry();
  }
  if (!bad.empty()) return InvalidFieldsError(bad);
  return next;
}

}  // namespace trainyard::scheduler
