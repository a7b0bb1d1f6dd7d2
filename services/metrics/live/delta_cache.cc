// Copyright 2026 Trainyard authors.
#include "services/metrics/live/delta_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings/absl_view.h"

namespace trainyard::metrics {

void RecordRewind(int64_t step, v1::JobDelta* delta) {
  delta->set_rewound_to_step(delta->has_rewound_to_step()
                                 ? std::min(delta->rewound_to_step(), step)
                                 : step);
}

int64_t DropPointsPast(int64_t step, v1::SeriesAppend* append) {
  auto* points = append->mutable_points();
  auto past = std::remove_if(
      points->begin(), points->end(),
      [step](const common::v1::CurvePoint& p) { return p.step() > step; });
  const int64_t dropped = points->end() - past;
  points->erase(past, points->end());
  return dropped;
}

void AppendDelta(const SharedDelta& next, SharedDelta* into) {
  v1::JobDelta& to = into->delta;
  const v1::JobDelta& from = next.delta;
  if (from.has_rewound_to_step()) {
    // The client drops its points past the step, then ours past it.
    const int64_t step = from.rewound_to_step();
    RecordRewind(step, &to);
    for (v1::SeriesAppend& append : *to.mutable_curve_points()) {
      into->points -= DropPointsPast(step, &append);
    }
  }
  for (const v1::SeriesAppend& append : from.curve_points()) {
    auto same = std::find_if(to.mutable_curve_points()->begin(),
                             to.mutable_curve_points()->end(),
                             [&](const v1::SeriesAppend& a) {
                               return a.series() == append.series();
                             });
    if (same == to.mutable_curve_points()->end()) {
      *to.add_curve_points() = append;
    } else {
      same->mutable_points()->MergeFrom(append.points());
    }
  }
  into->points += next.points;
  to.mutable_events()->MergeFrom(from.events());
  if (from.has_progress()) *to.mutable_progress() = from.progress();
  if (from.has_current_metrics()) {
    *to.mutable_current_metrics() = from.current_metrics();
  }
  if (from.has_stages()) *to.mutable_stages() = from.stages();
  to.set_job_seq(from.job_seq());
}

std::string DeltaOptionsKey(const v1::SubscribeJobRequest& request) {
  // Series names are free text: each is length-prefixed, so no two lists
  // print alike.
  std::string key;
  auto add_series = [&key](std::string_view name) {
    absl::StrAppend(&key, name.size(), ":", ToAbsl(name));
  };
  if (request.curve().series().empty()) {
    add_series("train_loss");
    add_series("val_loss");
  } else {
    for (const std::string& name : request.curve().series()) add_series(name);
  }
  if (request.include_events()) {
    absl::StrAppend(
        &key, "|events:", absl::StrJoin(request.event_query().types(), ","));
  }
  return key;
}

std::string SnapshotOptionsKey(const v1::SubscribeJobRequest& request) {
  // Everything of the request but the job, the resume token and the update
  // interval. No map fields in these messages: the bytes are canonical.
  v1::SubscribeJobRequest shape = request;
  shape.clear_job_id();
  shape.clear_resume_token();
  shape.clear_min_update_interval();
  return shape.SerializeAsString();
}

}  // namespace trainyard::metrics
