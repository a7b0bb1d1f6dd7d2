// Copyright 2026 Trainyard authors.
//
// The minimum role of each RPC of trainyard.cost.v1.CostService, in one table.
// The proto's "Role:" comments document the same for clients.
#pragma once

#include "common/auth/access_policy.h"

namespace trainyard::cost {

const auth::AccessPolicy& CostServiceAccess();

}  // namespace trainyard::cost
