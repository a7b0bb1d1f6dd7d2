// Copyright 2026 Trainyard authors.
//
// Job notifications (orchestration.md "Notifications") through the one
// common/notify Notifier: each notify effect of the lifecycle (training
// started, completed, failed, cancelled, paused, resumed, budget and cost
// alerts, SPEED_DROP / METRIC_SILENCE warnings) becomes one Notification to
// the job's owner naming the job id, its name, the owner and what happened.
//
// Exactly once across crashes, as far as a webhook allows: the effect leaves
// the outbox only after the sinks are done with it. The first Notify hands
// it to the Notifier and waits up to `wait` (a JSONL line is written in
// microseconds); if delivery is still going on (a webhook retrying) it
// answers kUnavailable and the effect runner asks again later (without
// waiting: the runner's loop is never held up twice), so a crash
// before delivery sends it again after the restart. A crash between delivery
// and the outbox write repeats it once: the Notification's id (the effect's
// request_id) is the same, so readers can drop the repeat.
//
// Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/notify/notifier.h"
#include "services/jobs/app/clients.h"

namespace trainyard::jobs {

// The notification of a notify effect of `job`.
notify::Notification ToNotification(const v1::Job& job,
                                    const internal::Effect& effect);

class JobNotifier final : public Notifier {
 public:
  // `notifier` must outlive this.
  explicit JobNotifier(notify::Notifier& notifier,
                       absl::Duration wait = absl::Milliseconds(50));
  absl::StatusOr<notify::DeliveryOutcome> Notify(
      const v1::Job& job, const internal::Effect& effect) override;

 private:
  // Shared with the notifier's callbacks, which may outlive this.
  struct Sent {
    absl::Mutex mu;
    // Handed to the notifier: request_id -> how it ended (unset while in
    // delivery).
    absl::flat_hash_map<std::string, std::optional<notify::DeliveryOutcome>>
        done ABSL_GUARDED_BY(mu);
  };
  notify::Notifier& notifier_;
  const absl::Duration wait_;
  const std::shared_ptr<Sent> sent_ = std::make_shared<Sent>();
};

}  // namespace trainyard::jobs
