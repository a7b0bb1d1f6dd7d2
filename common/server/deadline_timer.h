// Copyright 2026 Trainyard authors.
//
// Runs callbacks at deadlines read from a Clock, on one thread of its own.
// Used to bound unary calls that carry no deadline. With a FakeClock, tests
// advance the clock and call Kick() instead of waiting.
#pragma once

#include <cstdint>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"

namespace trainyard::server {

class DeadlineTimer {
 public:
  using Id = uint64_t;

  // `clock` must outlive the timer.
  explicit DeadlineTimer(const Clock& clock);
  // Drops pending callbacks without running them, then joins.
  ~DeadlineTimer();

  // Runs `fn` on the timer thread once clock.Now() >= at. Thread-safe.
  Id Schedule(absl::Time at, absl::AnyInvocable<void() &&> fn);
  // Removes a pending callback; false when it already ran or is running.
  bool Cancel(Id id);
  // Re-reads the clock now (after a FakeClock moved).
  void Kick();
  // Kick, then wait until every callback due at the clock's time has run,
  // including those they schedule for that time (tests with a FakeClock).
  // Not from a callback.
  void KickAndWait();

 private:
  void Run();

  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::pair<absl::Time, Id>, absl::AnyInvocable<void() &&>> pending_
      ABSL_GUARDED_BY(mu_);
  std::map<Id, absl::Time> when_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t kicks_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;  // a callback is running
  std::thread thread_;
};

}  // namespace trainyard::server
