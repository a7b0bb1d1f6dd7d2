// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/delivery/webhook_sender.h
// -----------------------------------------------------------------------------
// WebhookSender: delivers the webhooks of many pods the way a real container
// would (shared/docs/webhooks.md), with a small pool of threads:
//
//   * Each pod has an outbox. Its deliveries go out in order, one at a time:
//     the next is sent only after the previous was answered 2xx or given up.
//   * Each attempt is signed (common/webhook Sign) with the current real
//     wall-clock time (webhooks.md: webhook-timestamp is never suite time)
//     and the same webhook-id, so a retry is never stale, a receiver with
//     another --time_origin agrees, and the receiver's dedupe drops what it
//     already stored.
//   * 408/425/429/5xx and connection errors are retried after
//     delivery/backoff.h's delay (Retry-After honored), waiting on the
//     Scheduler, not on a thread; other answers (400, 401, 413, 415) are final
//     and the delivery is dropped as rejected.
//   * Ready outboxes are served round-robin, so one slow pod cannot starve
//     the others.
//
// Thread-safety: thread-safe. Callbacks (on_drained) run on a sender thread
// without the sender's lock held.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"
#include "common/webhook/signature.h"
#include "tools/gpusim/delivery/backoff.h"
#include "tools/gpusim/delivery/transport.h"
#include "tools/gpusim/sim/latency_histogram.h"
#include "tools/gpusim/sim/scheduler.h"

namespace trainyard::gpusim {

struct SenderOptions {
  int threads = 4;
  BackoffPolicy backoff;
  uint64_t seed = 1;  // jitter
};

struct SenderStats {
  int64_t enqueued = 0;
  int64_t delivered = 0;  // answered 2xx
  int64_t attempts = 0;   // requests sent, first tries and retries
  int64_t retries = 0;    // attempts that will be tried again
  int64_t connection_errors = 0;
  int64_t rejected = 0;  // final non-2xx answers
  int64_t dropped = 0;   // discarded: outbox closed, or gave up
  int64_t queued = 0;    // waiting in open outboxes (incl. in flight)
  // From the event's time to its 2xx answer, in simulated time.
  LatencyHistogram delivery_lag;
};

// One webhook to deliver.
struct Delivery {
  std::string webhook_id;
  std::string body;
  absl::Time event_time;  // when the event happened (suite time)
};

class WebhookSender {
 public:
  using OutboxId = uint64_t;

  // `clock` is suite time (retry delays, lag statistics), `wall_clock` real
  // time (webhook-timestamp). All references must outlive the sender.
  WebhookSender(const Clock& clock, const Clock& wall_clock,
                Scheduler& scheduler, WebhookTransport& transport,
                SenderOptions options = {});
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;
  // Stop().
  ~WebhookSender();

  // Starts the sender threads. Deliveries enqueued before wait for it.
  void Start();
  // Joins the threads; an attempt in flight completes first. Idempotent.
  void Stop();

  // Opens an outbox for the pod whose webhooks go to `url`, signed with
  // `secret`. `on_drained` (may be empty) is called whenever the outbox
  // becomes empty after a delivery ends.
  OutboxId Open(std::string url, webhook::Secret secret,
                std::function<void()> on_drained = nullptr);

  // Appends one delivery to the outbox. `event_time` is when the event
  // happened (for the lag statistics). Ignored if the outbox is closed.
  void Enqueue(OutboxId id, std::string webhook_id, std::string body,
               absl::Time event_time);

  // Closes the outbox: what it still holds is dropped (an attempt in flight
  // completes, its answer ignored) and on_drained is never called again.
  void Close(OutboxId id);

  // Deliveries in the outbox, the one in flight included; 0 once closed.
  size_t Pending(OutboxId id) const;
  // Those deliveries, in order (copies).
  std::vector<Delivery> Queued(OutboxId id) const;

  SenderStats Stats() const;

  // Waits until no delivery is ready to send or in flight and no callback is
  // running (retries waiting for their time do not count), up to `timeout`.
  // Returns whether that state was reached.
  bool WaitIdle(absl::Duration timeout) const;

 private:
  enum class State { kIdle, kReady, kInFlight, kWaiting };
  struct Item {
    std::string webhook_id;
    std::string body;
    absl::Time event_time;
    absl::Time first_attempt = absl::InfiniteFuture();
    int failures = 0;
  };
  struct Outbox {
    std::string url;
    webhook::Secret secret;
    std::function<void()> on_drained;
    std::deque<Item> items;
    State state = State::kIdle;
  };

  void Worker();
  // Makes a waiting outbox ready again (a retry's time has come).
  void Retry(OutboxId id);
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const Clock& wall_clock_;
  Scheduler& scheduler_;
  WebhookTransport& transport_;
  const SenderOptions options_;

  mutable absl::Mutex mu_;
  std::map<OutboxId, Outbox> outboxes_ ABSL_GUARDED_BY(mu_);
  std::deque<OutboxId> ready_ ABSL_GUARDED_BY(mu_);
  OutboxId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int callbacks_running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  SenderStats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace trainyard::gpusim
