// Copyright 2026 Trainyard authors.
//
// The minimum role of each RPC of trainyard.metrics.v1.MetricsService, in one
// table. The proto's "Role:" comments document the same for clients.
#pragma once

#include "common/auth/access_policy.h"

namespace trainyard::metrics {

const auth::AccessPolicy& MetricsServiceAccess();

}  // namespace trainyard::metrics
