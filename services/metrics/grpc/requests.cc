// Copyright 2026 Trainyard authors.
#include "services/metrics/grpc/requests.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/paging/opaque_token.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {
namespace {

namespace common = ::trainyard::common::v1;

constexpr int32_t kDefaultEventPageSize = 50;
constexpr int32_t kMaxEventPageSize = 100;
// Page tokens older than this are refused (common.proto: 24 h).
constexpr absl::Duration kPageTokenTtl = absl::Hours(24);
constexpr std::string_view kEventsTokenKind = "metrics.events";

// What a ListEvents page token is bound to: the job and everything that
// selects and orders its events (job ids have no newline).
std::string EventsTokenBinding(const EventListQuery& query) {
  return absl::StrCat(query.job_id, "\n", query.selector.canonical());
}

// The fields both requests share (CurveOptions is a subset of
// GetLossCurveRequest).
struct CurveFields {
  std::string_view job_id;
  const google::protobuf::RepeatedPtrField<std::string>& series;
  std::optional<int64_t> start_step;
  std::optional<int64_t> end_step;
  int64_t last_steps;
  int32_t max_points;
  bool include_rolled_back;
};

absl::StatusOr<CurveQuery> Parse(const CurveFields& in,
                                 std::string_view prefix) {
  auto field = [prefix](std::string_view name) {
    return absl::StrCat(ToAbsl(prefix), ToAbsl(name));
  };
  RETURN_IF_ERROR(RequireJobId(in.job_id));
  if (in.series.size() > kMaxCurveSeries) {
    return InvalidFieldError(
        field("series"), absl::StrCat("at most ", kMaxCurveSeries, " series"));
  }
  CurveQuery query;
  query.job_id = std::string(in.job_id);
  for (const std::string& name : in.series) {
    RETURN_IF_ERROR(ValidateSeriesName(field("series"), name));
    if (std::find(query.series.begin(), query.series.end(), name) ==
        query.series.end()) {
      query.series.push_back(name);
    }
  }
  if (query.series.empty()) {
    query.series.assign(std::begin(kDefaultCurveSeries),
                        std::end(kDefaultCurveSeries));
  }
  if (in.start_step && *in.start_step < 0) {
    return InvalidFieldError(field("start_step"), "must be >= 0");
  }
  if (in.end_step && *in.end_step < 0) {
    return InvalidFieldError(field("end_step"), "must be >= 0");
  }
  if (in.start_step && in.end_step && *in.start_step > *in.end_step) {
    return InvalidFieldError(field("start_step"), "must be <= end_step");
  }
  if (in.last_steps < 0) {
    return InvalidFieldError(field("last_steps"), "must be >= 0");
  }
  if (in.last_steps > 0 && (in.start_step || in.end_step)) {
    return InvalidFieldError(field("last_steps"),
                             "cannot be combined with start_step or end_step");
  }
  if (in.max_points < 0) {
    return InvalidFieldError(field("max_points"), "must be >= 0");
  }
  query.start_step = in.start_step;
  query.end_step = in.end_step;
  query.last_steps = in.last_steps;
  query.max_points = NormalizeMaxPoints(in.max_points);
  query.include_rolled_back = in.include_rolled_back;
  return query;
}

}  // namespace

absl::StatusOr<CurveQuery> ParseGetLossCurve(const v1::GetLossCurveRequest& r) {
  return Parse({.job_id = r.job_id(),
                .series = r.series(),
                .start_step = r.has_start_step() ? std::optional(r.start_step())
                                                 : std::nullopt,
                .end_step = r.has_end_step() ? std::optional(r.end_step())
                                             : std::nullopt,
                .last_steps = r.last_steps(),
                .max_points = r.max_points(),
                .include_rolled_back = r.include_rolled_back()},
               "");
}

absl::StatusOr<CurveQuery> ParseCurveOptions(std::string_view job_id,
                                             const v1::CurveOptions& o,
                                             std::string_view field_prefix) {
  return Parse({.job_id = job_id,
                .series = o.series(),
                .start_step = std::nullopt,
                .end_step = std::nullopt,
                .last_steps = o.last_steps(),
                .max_points = o.max_points(),
                .include_rolled_back = o.include_rolled_back()},
               field_prefix);
}

absl::StatusOr<EventListQuery> ParseListEvents(const v1::ListEventsRequest& r,
                                               absl::Time now) {
  RETURN_IF_ERROR(RequireJobId(r.job_id()));
  if (r.page_size() < 0) {
    return InvalidFieldError("page_size", "must not be negative");
  }
  EventListQuery query;
  query.job_id = r.job_id();
  query.page_size = r.page_size() == 0
                        ? kDefaultEventPageSize
                        : std::min(r.page_size(), kMaxEventPageSize);
  ASSIGN_OR_RETURN(query.selector,
                   CompileEventQuery(r.query(), r.filter(), r.order_by()));
  if (r.page_token().empty()) return query;
  ASSIGN_OR_RETURN(
      std::string payload,
      paging::DecodeOpaqueToken("page_token", kEventsTokenKind,
                                EventsTokenBinding(query), r.page_token()));
  std::string_view rest = payload;
  EventCursor cursor;
  uint64_t issue_seconds = 0;
  if (!storage::ConsumeUint64(&rest, &cursor.anchor_job_seq) ||
      !storage::ConsumeUint64(&rest, &cursor.last_job_seq) ||
      !storage::ConsumeUint64(&rest, &issue_seconds) || !rest.empty()) {
    return paging::InvalidTokenError("page_token", "malformed token");
  }
  if (now - absl::FromUnixSeconds(static_cast<int64_t>(issue_seconds)) >
      kPageTokenTtl) {
    return paging::InvalidTokenError(
        "page_token", "token expired; start again from the first page");
  }
  query.after = cursor;
  return query;
}

std::string ListEventsPageToken(const EventListQuery& query,
                                const EventCursor& next, absl::Time now) {
  std::string payload;
  storage::AppendUint64(&payload, next.anchor_job_seq);
  storage::AppendUint64(&payload, next.last_job_seq);
  storage::AppendUint64(&payload,
                        static_cast<uint64_t>(absl::ToUnixSeconds(now)));
  return paging::EncodeOpaqueToken(kEventsTokenKind, EventsTokenBinding(query),
                                   payload);
}

absl::StatusOr<EventExportQuery> ParseExportEvents(
    const v1::ExportEventsRequest& r) {
  RETURN_IF_ERROR(RequireJobId(r.job_id()));
  EventExportQuery query;
  query.job_id = r.job_id();
  query.format = r.format() == common::EXPORT_FORMAT_UNSPECIFIED
                     ? common::EXPORT_FORMAT_CSV
                     : r.format();
  if (query.format != common::EXPORT_FORMAT_CSV &&
      query.format != common::EXPORT_FORMAT_JSON &&
      query.format != common::EXPORT_FORMAT_JSONL) {
    return InvalidFieldError(
        "format", absl::StrCat("unknown export format ", r.format()));
  }
  ASSIGN_OR_RETURN(query.selector,
                   CompileEventQuery(r.query(), r.filter(), r.order_by()));
  return query;
}

}  // namespace trainyard::metrics
