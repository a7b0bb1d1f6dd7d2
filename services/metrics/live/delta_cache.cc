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

uint64_t DeltaCache::Generation(std::string_view job_id) {
  absl::MutexLock lock(&mu_);
  auto it = generations_.find(ToAbsl(job_id));
  return it == generations_.end() ? 0 : it->second;
}

void DeltaCache::Put(std::string_view job_id, std::string_view options_key,
                     uint64_t from_seq,
                     std::shared_ptr<const SharedDelta> delta,
                     uint64_t generation) {
  if (delta->delta.job_seq() <= from_seq) return;  // nothing to share
  std::string key = Key(job_id, options_key, from_seq);
  const size_t bytes = key.size() + delta->delta.ByteSizeLong();
  absl::MutexLock lock(&mu_);
  auto gen = generations_.find(ToAbsl(job_id));
  if ((gen == generations_.end() ? 0 : gen->second) != generation) return;
  if (index_.contains(key)) return;  // built twice at once: keep the first
  lru_.push_front(Entry{key, std::string(job_id), std::move(delta), bytes});
  index_.emplace(std::move(key), lru_.begin());
  bytes_ += bytes;
  EvictLocked();
}

void DeltaCache::EvictLocked() {
  while (!lru_.empty() && (lru_.size() > capacity_ || bytes_ > max_bytes_)) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void DeltaCache::Forget(std::string_view job_id) {
  absl::MutexLock lock(&mu_);
  ++generations_[ToAbsl(job_id)];
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->job_id == job_id) {
      bytes_ -= it->bytes;
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace trainyard::metrics
