// Copyright 2026 Trainyard authors.
//
// Each request validated once and converted into what the Scheduler takes.
// Errors are INVALID_ARGUMENT naming the field (BadRequest).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/scheduler/app/scheduler.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

absl::StatusOr<EnqueueCommand> ToEnqueue(const v1::EnqueueRequest& r);
absl::StatusOr<RemoveCommand> ToRemove(const v1::RemoveFromQueueRequest& r);
absl::StatusOr<ReleaseCommand> ToRelease(const v1::ReleaseSlotRequest& r);
absl::StatusOr<PromotionCommand> ToPromotion(
    const v1::RequestPromotionRequest& r);

struct ReconcileQuery {
  std::vector<HeldJobView> held;
  uint64_t cursor_seq = 0;
  bool validate_only = false;
};
absl::StatusOr<ReconcileQuery> ToReconcile(const v1::ReconcileRequest& r);

// A page of a list: the matching predicate (null: all), where to start and
// how many, and the binding of its page tokens.
template <typename T>
struct ListQuery {
  std::function<bool(const T&)> match;
  int64_t offset = 0;
  int page_size = 0;
  std::string binding;
};

absl::StatusOr<ListQuery<v1::QueueEntry>> ToQueueQuery(
    const v1::ListQueueEntriesRequest& r);

struct SlotQuery {
  ListQuery<v1::Slot> list;
  bool by_assign_time = false;
};
absl::StatusOr<SlotQuery> ToSlotQuery(const v1::ListActiveSlotsRequest& r);

struct PromotionQuery {
  ListQuery<v1::Promotion> list;
  // "create_time desc" (default), "create_time", "expire_time".
  std::string order_by;
};
absl::StatusOr<PromotionQuery> ToPromotionQuery(
    const v1::ListPromotionsRequest& r);

// The page token for the page after this one, or "" at the end.
std::string NextPageToken(std::string_view kind, const std::string& binding,
                          int64_t offset, size_t returned, int64_t total);

struct AnalyticsPeriod {
  absl::Time start;
  absl::Time end;
};
absl::StatusOr<AnalyticsPeriod> ToPeriod(const v1::GetQueueAnalyticsRequest& r,
                                         absl::Time now);

struct NotificationUpdate {
  v1::QueueNotificationSettings settings;
  bool triggers = true;
  bool targets = true;
};
absl::StatusOr<NotificationUpdate> ToNotificationUpdate(
    const v1::UpdateQueueNotificationSettingsRequest& r);

absl::StatusOr<std::vector<std::string>> ToSettingsPaths(
    const v1::UpdateQueueSettingsRequest& r);

}  // namespace trainyard::scheduler
