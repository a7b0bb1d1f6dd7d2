// Copyright 2026 Trainyard authors.
//
// The minimum role of each RPC of trainyard.scheduler.v1.SchedulerService, in
// one table. The proto's "Role:" comments document the same for clients.
#pragma once

#include "common/auth/access_policy.h"

namespace trainyard::scheduler {

const auth::AccessPolicy& SchedulerServiceAccess();

}  // namespace trainyard::scheduler
