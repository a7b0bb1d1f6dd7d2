// Copyright 2026 Trainyard authors.
//
// CompareJobs' pieces (R-LIST-05): one job's column from its fetched parts,
// and the configuration fields whose values differ between the jobs.
//
// Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "services/jobs/views/dashboard.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::jobs {

// `job` with its current (final, once ended) metrics, best validation loss,
// curve and cost; the job's copied cost figures when cost did not answer.
v1::JobComparison CompareEntry(const v1::Job& job, const DashboardParts& parts);

// Paths ("config.hyperparameters.learning_rate") of the fields of `messages`
// (all of one type) that differ between them, depth first in field order. A
// message field is compared field by field; a repeated field as a whole.
std::vector<std::string> DifferingFields(
    const std::vector<const common::v1::TrainingConfig*>& messages,
    std::string_view prefix);

}  // namespace trainyard::jobs
