// Copyright 2026 Trainyard authors.
//
// The minimum role of each RPC of trainyard.jobs.v1.JobService, in one table.
// The proto's "Role:" comments document the same for clients.
#pragma once

#include "common/auth/access_policy.h"

namespace trainyard::jobs {

const auth::AccessPolicy& JobServiceAccess();

}  // namespace trainyard::jobs
