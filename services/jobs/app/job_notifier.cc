// Copyright 2026 Trainyard authors.
#include "services/jobs/app/job_notifier.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"
#include "services/jobs/domain/job_spec.h"

namespace trainyard::jobs {

notify::Notification ToNotification(const v1::Job& job,
                                    const internal::Effect& effect) {
  const internal::NotifyEffect& n = effect.notify();
  notify::Notification out;
  out.kind = common::v1::NotificationTrigger_Name(n.trigger())
                 .substr(sizeof("NOTIFICATION_TRIGGER_") - 1);
  out.job_id = job.job_id();
  out.recipient = job.created_by().user_id();
  out.text = absl::StrCat(n.text(), " (job ", job.job_id(), " \"",
                          job.spec().display_name(), "\", owner ",
                          job.created_by().user_id(), ")");
  out.time = FromProto(n.time());
  // The job's Slack target, if any (a webhook URL there overrides the
  // default webhook).
  const common::v1::NotificationTarget target = NotificationTargetOf(job);
  if (target.channel() == common::v1::NOTIFICATION_CHANNEL_SLACK) {
    out.destination = target.address();
  }
  out.id = effect.request_id();
  return out;
}

JobNotifier::JobNotifier(notify::Notifier& notifier, absl::Duration wait)
    : notifier_(notifier), wait_(wait) {}

absl::StatusOr<notify::DeliveryOutcome> JobNotifier::Notify(
    const v1::Job& job, const internal::Effect& effect) {
  const std::string& id = effect.request_id();
  Sent& sent = *sent_;
  absl::MutexLock lock(&sent.mu);
  // Only the first ask waits (the effect runner's loop is not held up by a
  // slow webhook again on every retry).
  absl::Duration wait = absl::ZeroDuration();
  if (!sent.done.contains(id)) {
    wait = wait_;
    sent.done[id] = std::nullopt;
    notifier_.Send(ToNotification(job, effect),
                   [shared = sent_, id](const notify::DeliveryOutcome& o) {
                     absl::MutexLock done(&shared->mu);
                     shared->done[id] = o;
                   });
  }
  auto ended = [&sent, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sent.mu) {
    return sent.done.at(id).has_value();
  };
  if (!sent.mu.AwaitWithTimeout(absl::Condition(&ended), wait)) {
    return absl::UnavailableError(
        absl::StrCat("notification ", id, " is being delivered"));
  }
  notify::DeliveryOutcome outcome = *sent.done.at(id);
  sent.done.erase(id);
  return outcome;
}

}  // namespace trainyard::jobs
