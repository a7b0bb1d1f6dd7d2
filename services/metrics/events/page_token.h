// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/metrics/events/page_token.h
// -----------------------------------------------------------------------------
//
// ListEvents page tokens (R-EVT-03). A token is the web-safe base64 (no
// padding) of 33 bytes:
//
//   version (1 byte, = 1) | binding (8) | anchor_job_seq (8) |
//   last_job_seq (8) | issue time, unix seconds (8)
//
// integers big-endian. `binding` is a 64-bit FNV-1a hash of the job id and
// the request's canonical selection (EventSelector::canonical), so a token
// reused with another job, query, filter or order is refused. `anchor` is the
// job's latest job_seq when the first page was served: every page of the
// sequence looks at events <= anchor only, so events arriving while a client
// pages never shift pages or change total_size. `last_job_seq` is the last
// event of the previous page; the next page continues after (oldest first) or
// before (newest first) it.
//
// Tokens are not signed: tampering can only select events of the same job,
// which the caller may read anyway.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace trainyard::metrics {

struct PageToken {
  uint64_t binding = 0;
  uint64_t anchor_job_seq = 0;
  uint64_t last_job_seq = 0;
  absl::Time issue_time;
};

// The binding of a token to a job and a canonical selection.
uint64_t PageTokenBinding(std::string_view job_id, std::string_view canonical);

std::string EncodePageToken(const PageToken& token);

// Decodes `text`. INVALID_ARGUMENT on "page_token" (reason
// INVALID_PAGE_TOKEN) if it is malformed.
absl::StatusOr<PageToken> DecodePageToken(std::string_view text);

// INVALID_ARGUMENT with a field violation on "page_token" and reason
// INVALID_PAGE_TOKEN.
absl::Status InvalidPageTokenError(std::string_view description);

}  // namespace trainyard::metrics
