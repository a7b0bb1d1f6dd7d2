// Copyright 2026 Trainyard authors.
//
// Conversions between messages of trainyard/common/v1/common.proto that more
// than one service makes. Pure functions.
#pragma once

#include "trainyard/common/v1/common.pb.h"

namespace trainyard {

// The list row's cost fields (R-LIST-01) of a job's cost tracker: what cost
// answers in BatchGetJobCosts and what job-control copies into Job.cost.
common::v1::CostSummary SummaryOf(const common::v1::CostTracker& tracker);

}  // namespace trainyard
