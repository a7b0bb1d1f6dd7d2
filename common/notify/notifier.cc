// Copyright 2026 Trainyard authors.
#include "common/notify/notifier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace trainyard::notify {
namespace {

bool Transient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsResourceExhausted(s);
}

}  // namespace

Notifier::Notifier(std::vector<std::unique_ptr<Sink>> sinks, RetryPolicy policy)
    : sinks_(std::move(sinks)), policy_(policy) {
  thread_ = std::thread([this] { Run(); });
}

Notifier::~Notifier() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void Notifier::Send(Notification notification, Done done) {
  absl::MutexLock lock(&mu_);
  if (stop_) return;
  queue_.push_back({std::move(notification), std::move(done)});
}

void Notifier::Flush() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](Notifier* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(n->mu_) {
        return n->stop_ || (n->queue_.empty() && !n->busy_);
      },
      this));
}

std::vector<DeliveryRecord> Notifier::Deliveries() const {
  absl::MutexLock lock(&mu_);
  return {records_.begin(), records_.end()};
}

int64_t Notifier::delivered() const {
  absl::MutexLock lock(&mu_);
  return delivered_;
}

int64_t Notifier::failed() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

void Notifier::Run() {
  while (true) {
    Queued next;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Notifier* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(n->mu_) {
            return n->stop_ || !n->queue_.empty();
          },
          this));
      if (stop_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    const DeliveryOutcome outcome = DeliverToAll(next.notification);
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stop_;
    }
    // A delivery cut short by the stop is not done.
    if (!stopping && next.done) next.done(outcome);
    absl::MutexLock lock(&mu_);
    busy_ = false;
  }
}

DeliveryOutcome Notifier::DeliverToAll(const Notification& notification) {
  DeliveryOutcome outcome;
  for (const auto& sink : sinks_) {
    DeliveryRecord record{notification, std::string(sink->name())};
    absl::Duration backoff = policy_.initial_backoff;
    while (true) {
      ++record.attempts;
      absl::Status s = sink->Deliver(notification);
      if (s.ok()) {
        record.delivered = true;
        break;
      }
      record.last_error = s.ToString();
      if (!Transient(s) || record.attempts >= policy_.max_attempts) break;
      // Back off, but wake at once when the notifier stops.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), backoff);
      if (stop_) break;
      backoff = std::min(backoff * 2, policy_.max_backoff);
    }
    outcome.delivered = outcome.delivered && record.delivered;
    outcome.attempts = std::max(outcome.attempts, record.attempts);
    if (outcome.error.empty() && !record.delivered) {
      outcome.error =
          absl::StrCat(std::string(sink->name()), ": ", record.last_error);
    }
    absl::MutexLock lock(&mu_);
    (record.delivered ? delivered_ : failed_)++;
    records_.push_back(std::move(record));
    while (records_.size() > policy_.max_records) records_.pop_front();
  }
  return outcome;
}

}  // namespace trainyard::notify
