// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/jobs/views/job_watch.h
// -----------------------------------------------------------------------------
//
// WatchJobs' rules (R-LIST-07), apart from the stream: which jobs a watcher
// sees (ListJobs' filter and keyword, AND an optional id list), how a change
// between two rows of a job reads to it (added to, modified in or removed
// from its view, and which Job fields changed), and its resume token.
//
// Pure functions and plain data: thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "services/jobs/views/job_query.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::jobs {

// The jobs one watcher sees.
struct WatchView {
  JobQuery query;
  absl::flat_hash_set<std::string> job_ids;  // empty: any job
  // What resume tokens bind to: the query and the id list.
  std::string binding;
};

inline constexpr int kMaxWatchIds = 500;

// Parses WatchJobs' filter, keyword and job_ids. INVALID_ARGUMENT naming
// "filter", "keyword", "job_ids" (more than kMaxWatchIds) or "job_ids[i]"
// (empty).
absl::StatusOr<WatchView> ParseWatchView(
    std::string_view filter, std::string_view keyword,
    const google::protobuf::RepeatedPtrField<std::string>& job_ids);

// True when the job with this row is in the view; false for no row (a job
// that did not exist yet, or deleted).
bool InView(const WatchView& view, const JobRow* row);

// How a job's change from `before` to `after` (null: absent) reads to the
// view: ADDED (entered it), REMOVED (left it, or deleted), MODIFIED (stayed,
// and a field it reports changed), or UNSPECIFIED (nothing to say).
// `changed_fields` gets the Job fields that differ ("state", "progress",
// "cost", "spec", "etag"; empty for ADDED and REMOVED).
v1::ChangeType ClassifyChange(const WatchView& view, const JobRow* before,
                              const JobRow* after,
                              std::vector<std::string>* changed_fields);

// A resume token: the change log's epoch and the last change covered.
struct WatchPosition {
  uint64_t epoch = 0;
  uint64_t seq = 0;
};
std::string EncodeWatchToken(const WatchView& view, WatchPosition position);
// INVALID_ARGUMENT on "resume_token" when malformed or issued for another
// view.
absl::StatusOr<WatchPosition> DecodeWatchToken(const WatchView& view,
                                               std::string_view token);

}  // namespace trainyard::jobs
