// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/jobs/views/job_query.h
// -----------------------------------------------------------------------------
//
// The jobs list's query language (R-LIST-02, R-LIST-03), typed: a JobRow is
// what the in-memory index keeps of a job; ParseJobQuery turns ListJobs'
// filter, keyword and order_by into a JobQuery once (in grpc/), and the index
// evaluates it over rows. The filter syntax is the suite's AIP-160 subset
// (common/search), bound by its filter binder to the fields and operators of
// jobs.proto's ListJobsRequest.filter.
//
// Keyword search: case-insensitive substring of the display name, notes or
// any tag, with Unicode simple case folding (ICU, as the event log's search).
//
// Pure functions and plain data: thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "trainyard/jobs/internal/job_record.pb.h"

namespace trainyard::jobs {

// What the index keeps per job. Strings used for matching are folded.
struct JobRow {
  std::string job_id;
  common::v1::JobState state = common::v1::JOB_STATE_UNSPECIFIED;
  std::string creator_id;
  std::string creator_name;         // as shown (ListCreators)
  std::string creator_name_folded;  // sort key
  std::string name_folded;          // display_name
  // name, notes and tags, folded, each followed by '\n': the keyword's text.
  std::string text_folded;
  std::vector<std::string> tags_folded;
  std::string base_model_folded;
  common::v1::Preset preset = common::v1::PRESET_UNSPECIFIED;
  common::v1::GpuType gpu_type = common::v1::GPU_TYPE_UNSPECIFIED;
  common::v1::Pricing pricing = common::v1::PRICING_UNSPECIFIED;
  // Unix microseconds; 0 when unset (start/end of a job that never started or
  // has not ended).
  int64_t create_us = 0;
  int64_t update_us = 0;
  int64_t start_us = 0;
  int64_t end_us = 0;
  int64_t cost_micros = 0;  // spend (final once the job ended)
  double progress_percent = 0;
  bool stalled = false;
  // The fields WatchJobs reports as changed.
  int64_t step = 0;
  common::v1::Stage stage = common::v1::STAGE_UNSPECIFIED;
  std::string etag;
  int64_t cost_as_of_us = 0;
};

// The row of a stored record (deleted records have none: the caller drops
// them).
JobRow MakeJobRow(const internal::JobRecord& record);

enum class SortField {
  kDisplayName,
  kState,
  kPreset,
  kGpuType,
  kPricing,
  kCreatedBy,
  kCreateTime,
  kStartTime,
  kDuration,
  kCost,
  kProgress,
  kUpdateTime,
};

struct JobOrder {
  SortField field = SortField::kCreateTime;
  bool desc = true;
};

// One typed restriction of the filter.
struct JobRestriction {
  enum class Field {
    kState,
    kActive,
    kTerminal,
    kCreatedBy,
    kCreateTime,
    kStartTime,
    kEndTime,
    kPreset,
    kGpuType,
    kPricing,
    kCost,
    kTags,
    kBaseModel,
    kStalled,
  };
  Field field = Field::kState;
  // '=', '!=', '<', '<=', '>', '>=', ':' (FilterOp as int).
  int op = 0;
  int64_t number = 0;  // enum value, unix micros, micro-dollars, or bool 0/1
  std::string text;    // folded string values
};

struct JobQuery {
  // AND of ORs.
  std::vector<std::vector<JobRestriction>> all_of;
  std::string keyword_folded;  // empty: none
  JobOrder order;
  // What page tokens bind to: the canonical filter, keyword and order.
  std::string binding;
};

inline constexpr size_t kMaxKeywordCodePoints = 200;

// Parses ListJobs' filter, keyword and order_by. INVALID_ARGUMENT with a field
// violation naming "filter" (reason INVALID_FILTER, position and token in the
// description), "keyword" or "order_by".
absl::StatusOr<JobQuery> ParseJobQuery(std::string_view filter,
                                       std::string_view keyword,
                                       std::string_view order_by);

// True when `row` passes the filter and the keyword.
bool Matches(const JobQuery& query, const JobRow& row);

// A row's position under an order. Views into the row (or into a SortKey):
// valid while it lives.
struct KeyView {
  bool missing = false;  // no value (never started): last in both directions
  int64_t number = 0;
  std::string_view text;  // string columns
  int64_t create_us = 0;
  std::string_view job_id;
};

// The key of `row` under `order` at `now` (duration ticks for running jobs).
KeyView KeyOf(const JobRow& row, SortField field, int64_t now_us);

// Strict weak order: missing values last, then the column in the order's
// direction, then create_time descending, then job_id ascending.
bool SortLess(const KeyView& a, const KeyView& b, bool desc);

// An owned KeyView: a page token's position (the key of a page's last row).
struct SortKey {
  bool missing = false;
  int64_t number = 0;
  std::string text;
  int64_t create_us = 0;
  std::string job_id;

  static SortKey Of(const KeyView& v);
  KeyView view() const { return {missing, number, text, create_us, job_id}; }
};

// A page token's payload and back.
std::string EncodeSortKey(const SortKey& key);
// kInvalidArgument on "page_token" when malformed.
absl::StatusOr<SortKey> DecodeSortKey(std::string_view payload);

}  // namespace trainyard::jobs
