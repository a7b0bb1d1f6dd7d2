// Copyright 2026 Trainyard authors.
//
// What ListAuditEntries selects and in which order (jobs.proto,
// ListAuditEntriesRequest), validated once and compiled into a predicate over
// audit entries, and the page of a listing with its token.
//
//   filter    AIP-160 subset (common/search/filter_parser.h):
//     action  =, !=              CANCELLED or AUDIT_ACTION_CANCELLED, ...;
//                                OR groups: (action = PAUSED OR action = ...)
//     actor   =                  a user_id, bare or "quoted" ("system" for
//                                automatic actions)
//     time    <, <=, >, >=       "RFC 3339", e.g. "2026-11-29T03:05:00Z"
//   order_by  "time" | "time asc" (default, oldest first) | "time desc"
//
// Entries are ordered by (time, entry sequence); a page token holds the last
// entry's position and is bound to the job id, the filter and the order, so
// a token of another listing is refused and entries appended while paging
// never shift a page.
//
// Errors are INVALID_ARGUMENT with a field violation on "filter" (reason
// INVALID_FILTER, naming the position and the offending token), "order_by"
// or "page_token".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search/filter_parser.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::jobs {

class AuditQuery {
 public:
  // True when `entry` passes the filter.
  bool Matches(const v1::AuditEntry& entry) const;
  bool newest_first() const { return newest_first_; }
  // Everything that selects and orders entries; page tokens are bound to it.
  const std::string& canonical() const { return canonical_; }

 private:
  friend absl::StatusOr<AuditQuery> CompileAuditQuery(std::string_view,
                                                      std::string_view);
  enum class Field { kAction, kActor, kTime };
  struct Restriction {
    Field field;
    FilterOp op;
    int64_t number = 0;  // action, or time in nanoseconds
    std::string text;    // actor
  };
  static bool Holds(const Restriction& r, const v1::AuditEntry& entry);

  std::vector<std::vector<Restriction>> filter_;  // AND of ORs
  bool newest_first_ = false;
  std::string canonical_;
};

absl::StatusOr<AuditQuery> CompileAuditQuery(std::string_view filter,
                                             std::string_view order_by);

struct AuditPage {
  std::vector<v1::AuditEntry> entries;
  std::string next_page_token;
  // Entries matching the filter, all pages.
  int32_t total_size = 0;
};

// One page of `entries` (any order; entry_id is the entry's sequence
// number) for the listing of `job_id` ("-" for all) under `query`, after
// `page_token` (empty: the first page). REQUIRES: page_size > 0.
absl::StatusOr<AuditPage> PageAudit(std::vector<v1::AuditEntry> entries,
                                    const AuditQuery& query,
                                    std::string_view job_id,
                                    std::string_view page_token, int page_size);

}  // namespace trainyard::jobs
