// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/access.h"

namespace trainyard::cost {

const auth::AccessPolicy& CostServiceAccess() {
  using auth::Role;
  static const auto* policy = new auth::AccessPolicy(
      "trainyard.cost.v1.CostService", {
                                           {"GetRateCard", Role::kViewer},
                                           {"UpdateRateCard", Role::kAdmin},
                                           {"EstimateCost", Role::kViewer},
                                           {"RegisterJob", Role::kService},
                                           {"GetJobCost", Role::kViewer},
                                           {"BatchGetJobCosts", Role::kViewer},
                                           {"OpenMeter", Role::kService},
                                           {"CloseMeter", Role::kService},
                                           {"ListLedgerEntries", Role::kViewer},
                                           {"SetJobBudget", Role::kService},
                                           {"WatchBudgetAlerts", Role::kViewer},
                                           {"FinalizeJobCost", Role::kService},
                                           {"GetCostReport", Role::kViewer},
                                           {"DeleteJobData", Role::kService},
                                       });
  return *policy;
}

}  // namespace trainyard::cost
