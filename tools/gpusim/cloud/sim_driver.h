// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/cloud/sim_driver.h
// -----------------------------------------------------------------------------
// Test helper: drives gpusim on a FakeClock. Time jumps from one due timer to
// the next; after each, the driver waits (on a condition) until the sender
// threads have delivered what is ready, so every state change the simulated
// time causes has happened when a call returns. No test sleeps.
#pragma once

#include <functional>

#include "absl/time/time.h"
#include "common/time/clock.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/scheduler.h"

namespace trainyard::gpusim::testing {

class SimDriver {
 public:
  SimDriver(FakeClock& clock, Scheduler& scheduler, WebhookSender& sender)
      : clock_(clock), scheduler_(scheduler), sender_(sender) {}

  // Plays `d` of simulated time. Returns false if the sender did not go idle
  // within a minute of wall time (a hang).
  bool RunFor(absl::Duration d) {
    return RunUntil([] { return false; }, d) || !hung_;
  }

  // Plays simulated time until `done()` holds (checked after each timer) or
  // `limit` has passed. Returns whether `done()` held.
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    absl::Time end = clock_.Now() + limit;
    hung_ = false;
    while (true) {
      if (!sender_.WaitIdle(absl::Minutes(1))) {
        hung_ = true;
        return false;
      }
      if (done()) return true;
      absl::Time next = scheduler_.NextDue();
      if (next > end) break;
      if (next > clock_.Now()) clock_.Set(next);
      scheduler_.RunDue();
    }
    clock_.Set(end);
    scheduler_.RunDue();
    hung_ = !sender_.WaitIdle(absl::Minutes(1));
    return !hung_ && done();
  }

 private:
  FakeClock& clock_;
  Scheduler& scheduler_;
  WebhookSender& sender_;
  bool hung_ = false;
};

}  // namespace trainyard::gpusim::testing
