// Copyright 2026 Trainyard authors.
//
// Notifications to people (orchestration.md "Notifications"): one Notifier per
// process fans each notification out to its sinks from a background thread,
// retrying a sink that fails transiently, and records how each delivery
// ended. Sinks: a Slack-compatible incoming webhook (webhook_sink.h) and a
// JSONL file (jsonl_sink.h). Generic: the scheduler and job-control use it
// alike.
//
//   Notifier notifier(std::move(sinks), wall_clock, {});
//   notifier.Send({.kind = "QUEUE_POSITION_ONE", .job_id = "j-1",
//                  .recipient = "ana", .text = "Your job is next!",
//                  .time = clock.Now()});
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"

namespace trainyard::notify {

struct Notification {
  // What happened, UPPER_SNAKE (e.g. "QUEUE_POSITION_ONE").
  std::string kind;
  std::string job_id;
  // A user id, or a group such as "approvers".
  std::string recipient;
  // The human-readable message.
  std::string text;
  // When it happened (suite time).
  absl::Time time;
  // Where the recipient wants it (e.g. their own incoming-webhook URL); empty:
  // each sink's default.
  std::string destination;
  // The sender's idempotency key, equal when a notification is sent again
  // (after a crash) so readers can drop the repeat; empty: none.
  std::string id;
};

// Delivers one notification somewhere. Called from the Notifier's thread only.
class Sink {
 public:
  virtual ~Sink() = default;
  // A short name for records and logs ("webhook", "jsonl").
  virtual std::string_view name() const = 0;
  // kUnavailable (or kDeadlineExceeded, kResourceExhausted) for a transient
  // failure worth retrying; any other error is final.
  virtual absl::Status Deliver(const Notification& notification) = 0;
};

// How one delivery to one sink ended.
struct DeliveryRecord {
  Notification notification;
  std::string sink;
  int attempts = 0;
  bool delivered = false;
  std::string last_error;  // empty when delivered at the first attempt
};

// How a notification ended over every sink: delivered when each sink took
// it; the most attempts any sink needed, and the first sink's last error.
struct DeliveryOutcome {
  bool delivered = true;
  int attempts = 0;
  std::string error;
};

struct RetryPolicy {
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Seconds(1);  // doubled per retry
  absl::Duration max_backoff = absl::Seconds(30);
  // Delivery records kept (oldest dropped first).
  size_t max_records = 1000;
};

// Thread-safe. Send never blocks on delivery.
class Notifier {
 public:
  Notifier(std::vector<std::unique_ptr<Sink>> sinks, RetryPolicy policy = {});
  // Stops after the notification in delivery (the rest are dropped, and
  // counted as dropped).
  ~Notifier();

  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues `notification` for every sink. `done` (may be empty) is called on
  // the Notifier's thread with the outcome once every sink has delivered it
  // or given up; not when the Notifier stops first.
  using Done = std::function<void(const DeliveryOutcome&)>;
  void Send(Notification notification, Done done = {});

  // Waits until every notification sent so far has been delivered or given
  // up on (tests and shutdown).
  void Flush();

  // How recent deliveries ended, oldest first.
  std::vector<DeliveryRecord> Deliveries() const;

  int64_t delivered() const;
  int64_t failed() const;

 private:
  void Run();
  DeliveryOutcome DeliverToAll(const Notification& notification);

  const std::vector<std::unique_ptr<Sink>> sinks_;
  const RetryPolicy policy_;
  mutable absl::Mutex mu_;
  struct Queued {
    Notification notification;
    Done done;
  };
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  std::deque<DeliveryRecord> records_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace trainyard::notify
