// Copyright 2026 Trainyard authors.
#include "services/metrics/live/delta_cache.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings/absl_view.h"

namespace trainyard::metrics {

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
