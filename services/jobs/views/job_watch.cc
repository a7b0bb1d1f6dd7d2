// Copyright 2026 Trainyard authors.
#include "services/jobs/views/job_watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/paging/opaque_token.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"

namespace trainyard::jobs {
namespace {

constexpr char kTokenKind[] = "jobs.watch";

}  // namespace

absl::StatusOr<WatchView> ParseWatchView(
    std::string_view filter, std::string_view keyword,
    const google::protobuf::RepeatedPtrField<std::string>& job_ids) {
  WatchView view;
  ASSIGN_OR_RETURN(view.query, ParseJobQuery(filter, keyword, ""));
  if (job_ids.size() > kMaxWatchIds) {
    return InvalidFieldError(
        "job_ids",
        absl::StrCat("at most ", kMaxWatchIds, " ids, got ", job_ids.size()));
  }
  for (int i = 0; i < job_ids.size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat("job_ids[", i, "]"), job_ids[i]));
    view.job_ids.insert(job_ids[i]);
  }
  std::vector<std::string> sorted(view.job_ids.begin(), view.job_ids.end());
  std::sort(sorted.begin(), sorted.end());
  view.binding =
      absl::StrCat(view.query.binding, "\n", absl::StrJoin(sorted, ","));
  return view;
}

bool InView(const WatchView& view, const JobRow* row) {
  if (row == nullptr) return false;
  if (!view.job_ids.empty() && !view.job_ids.contains(row->job_id)) {
    return false;
  }
  return Matches(view.query, *row);
}

v1::ChangeType ClassifyChange(const WatchView& view, const JobRow* before,
                              const JobRow* after,
                              std::vector<std::string>* changed_fields) {
  changed_fields->clear();
  const bool was = InView(view, before), is = InView(view, after);
  if (!was && !is) return v1::CHANGE_TYPE_UNSPECIFIED;
  if (!was) return v1::CHANGE_TYPE_ADDED;
  if (!is) return v1::CHANGE_TYPE_REMOVED;
  const JobRow& a = *before;
  const JobRow& b = *after;
  if (a.state != b.state || a.end_us != b.end_us || a.start_us != b.start_us) {
    changed_fields->push_back("state");
  }
  if (a.step != b.step || a.progress_percent != b.progress_percent ||
      a.stage != b.stage || a.stalled != b.stalled) {
    changed_fields->push_back("progress");
  }
  if (a.cost_micros != b.cost_micros || a.cost_as_of_us != b.cost_as_of_us) {
    changed_fields->push_back("cost");
  }
  if (a.text_folded != b.text_folded || a.preset != b.preset ||
      a.gpu_type != b.gpu_type || a.pricing != b.pricing) {
    changed_fields->push_back("spec");
  }
  if (a.etag != b.etag) changed_fields->push_back("etag");
  return changed_fields->empty() ? v1::CHANGE_TYPE_UNSPECIFIED
                                 : v1::CHANGE_TYPE_MODIFIED;
}

std::string EncodeWatchToken(const WatchView& view, WatchPosition position) {
  return paging::EncodeOpaqueToken(
      kTokenKind, view.binding,
      absl::StrCat(storage::EncodeUint64(position.epoch),
                   storage::EncodeUint64(position.seq)));
}

absl::StatusOr<WatchPosition> DecodeWatchToken(const WatchView& view,
                                               std::string_view token) {
  ASSIGN_OR_RETURN(std::string payload,
                   paging::DecodeOpaqueToken("resume_token", kTokenKind,
                                             view.binding, token));
  std::string_view rest(payload);
  WatchPosition p;
  if (!storage::ConsumeUint64(&rest, &p.epoch) ||
      !storage::ConsumeUint64(&rest, &p.seq) || !rest.empty()) {
    return paging::InvalidTokenError("resume_token", "malformed token");
  }
  return p;
}

}  // namespace trainyard::jobs
