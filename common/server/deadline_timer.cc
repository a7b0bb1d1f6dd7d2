// Copyright 2026 Trainyard authors.
#include "common/server/deadline_timer.h"

namespace trainyard::server {

DeadlineTimer::DeadlineTimer(const Clock& clock)
    : clock_(clock), thread_([this] { Run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    pending_.clear();
  }
  thread_.join();
}

DeadlineTimer::Id DeadlineTimer::Schedule(absl::Time at,
                                          absl::AnyInvocable<void() &&> fn) {
  absl::MutexLock lock(&mu_);
  Id id = next_id_++;
  pending_.emplace(std::make_pair(at, id), std::move(fn));
  when_.emplace(id, at);
  ++kicks_;
  return id;
}

bool DeadlineTimer::Cancel(Id id) {
  absl::MutexLock lock(&mu_);
  auto it = when_.find(id);
  if (it == when_.end()) return false;
  pending_.erase({it->second, id});
  when_.erase(it);
  return true;
}

void DeadlineTimer::Kick() {
  absl::MutexLock lock(&mu_);
  ++kicks_;
}

void DeadlineTimer::KickAndWait() {
  absl::MutexLock lock(&mu_);
  ++kicks_;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ ||
           (!running_ &&
            (pending_.empty() || pending_.begin()->first.first > clock_.Now()));
  };
  mu_.Await(absl::Condition(&idle));
}

void DeadlineTimer::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = clock_.Now();
    if (!pending_.empty() && pending_.begin()->first.first <= now) {
      auto node = pending_.extract(pending_.begin());
      when_.erase(node.key().second);
      running_ = true;
      mu_.Unlock();
      std::move(node.mapped())();
      mu_.Lock();
      running_ = false;
      continue;
    }
    absl::Duration wait = pending_.empty()
                              ? absl::InfiniteDuration()
                              : pending_.begin()->first.first - now;
    uint64_t seen = kicks_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || kicks_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&changed), wait);
  }
}

}  // namespace trainyard::server
