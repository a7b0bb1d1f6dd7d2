// Copyright 2026 Trainyard authors.
//
// The handlers' one place to validate API requests and convert them into the
// typed queries the stores and views take (stores never see request protos).
// Every error is kInvalidArgument with a field violation naming the request
// field, as the API documents it.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/series/curve_query.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// GetLossCurve (R-DASH-04, R-X-06), as documented on GetLossCurveRequest:
// series empty -> train_loss, val_loss, duplicates answered once, at most
// kMaxCurveSeries; start_step/end_step >= 0 and start <= end; last_steps >= 0
// and not with start/end; max_points >= 0, normalized (NormalizeMaxPoints).
// Fields: "job_id", "series", "start_step", "end_step", "last_steps",
// "max_points".
absl::StatusOr<CurveQuery> ParseGetLossCurve(
    const v1::GetLossCurveRequest& request);

// The curve of GetJobOverview and SubscribeJob for `job_id`, with the same
// rules; fields are named `field_prefix` + the option ("curve.max_points").
absl::StatusOr<CurveQuery> ParseCurveOptions(std::string_view job_id,
                                             const v1::CurveOptions& options,
                                             std::string_view field_prefix);

// ListEvents (R-EVT-01, R-EVT-02, R-EVT-03), as documented on
// ListEventsRequest: job_id; page_size >= 0 (0 -> 50, above 100 -> 100); the
// selection (CompileEventQuery: "query.types", "query.keyword",
// "query.time_range", "filter" with reason INVALID_FILTER, "order_by"); a
// page_token from ListEventsPageToken for the same job and selection, at most
// 24 h old at `now` ("page_token", reason INVALID_PAGE_TOKEN otherwise; the
// page size may change between pages).
absl::StatusOr<EventListQuery> ParseListEvents(
    const v1::ListEventsRequest& request, absl::Time now);

// The next_page_token of `query`'s page that ends at `next`, issued at `now`:
// the shared opaque token (common/paging), bound to the job and the canonical
// selection, carrying the cursor and its issue time.
std::string ListEventsPageToken(const EventListQuery& query,
                                const EventCursor& next, absl::Time now);

// ExportEvents (R-EVT-05): job_id, the selection as ListEvents', format
// (UNSPECIFIED -> CSV; "format" for a value that is not a known format).
absl::StatusOr<EventExportQuery> ParseExportEvents(
    const v1::ExportEventsRequest& request);

}  // namespace trainyard::metrics
