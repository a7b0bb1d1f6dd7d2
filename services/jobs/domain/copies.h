// Copyright 2026 Trainyard authors.
//
// Job-control's copies of each job's progress (from metrics) and cost summary
// (from cost), kept on the Job so the jobs list can show, filter and sort by
// them (R-LIST-01, R-LIST-02, R-LIST-07). Pure rules: what a refreshed figure
// does to a record, and which records still need refreshing.
//
// A copy is a cache of another service's truth, so it never changes the
// job's etag (jobs.proto: the etag ignores progress and cost refreshes).
// Rules:
// - while a job is not terminal, each refresh replaces the copy;
// - a COMPLETED job shows step total/total, 100 %, stage finalization, fixed
//   when it completes;
// - a FAILED or CANCELLED job keeps the last step metrics reports, fixed once
//   metrics says its figures are final (it ingested the terminal event);
// - the cost copy is fixed by a final figure (FinalizeJobCost's answer, or a
//   refresh once cost finalized it), accepted only while the job is terminal
//   (a retry reopens the cost and clears `final`).
#pragma once

#include "absl/time/time.h"
#include "common/api/summaries.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/jobs/internal/job_record.pb.h"

namespace trainyard::jobs {

// Applies metrics' progress of the job to `record` (see the rules above).
// Progress of a job metrics does not know (only job_id set) is ignored.
void CopyProgress(internal::JobRecord& record,
                  const common::v1::Progress& progress);
// Applies a refreshed cost summary. Summaries of jobs cost does not know
// (only job_id set) are ignored.
void CopyCost(internal::JobRecord& record, const common::v1::CostSummary& cost);

// A COMPLETED job's progress: every step done.
void CompleteProgress(internal::JobRecord& record, absl::Time now);

// A retry reopens both copies.
void ReopenCopies(internal::JobRecord& record);

// True while a refresh can still change one of the record's copies: the job
// is not deleted, and it is active or queued or paused, or its copies are not
// fixed yet.
bool NeedsCopyRefresh(const internal::JobRecord& record);

}  // namespace trainyard::jobs
