// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/access.h"

namespace trainyard::scheduler {

const auth::AccessPolicy& SchedulerServiceAccess() {
  using auth::Role;
  static const auto* policy = new auth::AccessPolicy(
      "trainyard.scheduler.v1.SchedulerService",
      {
          {"Enqueue", Role::kService},
          {"RemoveFromQueue", Role::kService},
          {"ReleaseSlot", Role::kService},
          {"WatchAssignments", Role::kService},
          {"Reconcile", Role::kService},
          {"GetQueueEntry", Role::kViewer},
          {"ListQueueEntries", Role::kViewer},
          {"ListActiveSlots", Role::kViewer},
          {"GetQueueStatus", Role::kViewer},
          {"GetQueueSettings", Role::kViewer},
          {"UpdateQueueSettings", Role::kAdmin},
          {"RequestPromotion", Role::kManager},
          {"ApprovePromotion", Role::kManager},
          {"DenyPromotion", Role::kManager},
          {"GetPromotion", Role::kViewer},
          {"ListPromotions", Role::kViewer},
          {"GetQueueAnalytics", Role::kViewer},
          {"GetQueueNotificationSettings", Role::kViewer},
          {"UpdateQueueNotificationSettings", Role::kViewer},
          {"WatchQueue", Role::kViewer},
      });
  return *policy;
}

}  // namespace trainyard::scheduler
