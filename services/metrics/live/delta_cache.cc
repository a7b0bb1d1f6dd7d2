// Copyright 2026 Trainyard authors.
#include "services/metrics/live/delta_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings/absl_view.h"

namespace trainyard::metrics {

void AppendDelta(const SharedDelta& next, SharedDelta* into) {
  v1::JobDelta& to = into->delta;
  const v1::JobDelta& from = next.delta;
  if (from.has_rewound_to_step()) {
    // R-X-06: the client drops its points past the step, then ours past it.
    const int64_t step = from.rewound_to_step();
    to.set_rewound_to_step(
        to.has_rewound_to_step() ? std::min(to.rewound_to_step(), step) : step);
    for (v1::SeriesAppend& append : *to.mutable_curve_points()) {
      auto* points = append.mutable_points();
      auto past = std::remove_if(
          points->begin(), points->end(),
          [step](const common::v1::CurvePoint& p) { return p.step() > step; });
      into->points -= points->end() - past;
      points->erase(past, points->end());
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
  std::string key;
  if (request.curve().series().empty()) {
    key = "train_loss,val_loss";
  } else {
    key = absl::StrJoin(request.curve().series(), ",");
  }
  if (request.include_events()) {
    absl::StrAppend(
        &key, "|events:", absl::StrJoin(request.event_query().types(), ","));
  }
  return key;
}

std::string DeltaCache::Key(std::string_view job_id,
                            std::string_view options_key, uint64_t from_seq) {
  // Length-prefixed: unambiguous whatever the id holds.
  return absl::StrCat(job_id.size(), ":", ToAbsl(job_id), from_seq, ":",
                      ToAbsl(options_key));
}

std::shared_ptr<const SharedDelta> DeltaCache::Find(
    std::string_view job_id, std::string_view options_key, uint64_t from_seq) {
  std::string key = Key(job_id, options_key, from_seq);
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->delta;
}

void DeltaCache::Put(std::string_view job_id, std::string_view options_key,
                     uint64_t from_seq,
                     std::shared_ptr<const SharedDelta> delta) {
  std::string key = Key(job_id, options_key, from_seq);
  absl::MutexLock lock(&mu_);
  if (index_.contains(key)) return;  // built twice at once: keep the first
  lru_.push_front(Entry{key, std::string(job_id), std::move(delta)});
  index_.emplace(std::move(key), lru_.begin());
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void DeltaCache::Forget(std::string_view job_id) {
  absl::MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->job_id == job_id) {
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace trainyard::metrics
