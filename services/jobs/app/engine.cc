// Copyright 2026 Trainyard authors.
#include "services/jobs/app/engine.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"

namespace trainyard::jobs {

Engine::Engine(const Clock& clock, JobStore& store, LifecycleOptions options,
               std::function<void()> on_effects, JobsMetrics* metrics)
    : clock_(clock),
      store_(store),
      options_(options),
      on_effects_(std::move(on_effects)),
      metrics_(metrics) {}

std::string Engine::NewJobId() {
  absl::BitGen rng;
  return absl::StrFormat("job-%012x",
                         absl::Uniform<uint64_t>(rng, 0, uint64_t{1} << 48));
}

absl::StatusOr<internal::JobRecord> Engine::Create(
    const v1::JobSpec& spec, const Actor& creator,
    const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  if (!request_id.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> existing,
                     store_.FindCreateRequest(request_id));
    if (existing) return store_.Get(*existing);
  }
  std::string job_id = NewJobId();
  while (store_.Get(job_id).ok()) job_id = NewJobId();
  Transition t = NewJob(job_id, spec, creator, clock_.Now());
  Commit c;
  c.record = t.record;
  c.effects = std::move(t.effects);
  c.audit = std::move(t.audit);
  c.create_request_id = request_id;
  RETURN_IF_ERROR(store_.Write(c));
  if (on_effects_) on_effects_();
  return t.record;
}

absl::StatusOr<internal::JobRecord> Engine::Apply(
    const std::string& job_id, const Input& input,
    std::vector<std::string> done,
    std::optional<std::pair<std::string, std::string>> cursor) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(internal::JobRecord record, store_.Get(job_id));
  ASSIGN_OR_RETURN(Transition t,
                   jobs::Apply(options_, record, input, clock_.Now()));
  Commit c;
  if (t.changed) c.record = t.record;
  c.effects = std::move(t.effects);
  c.audit = std::move(t.audit);
  c.done = std::move(done);
  c.cursor = std::move(cursor);
  const bool wake = !c.effects.empty();
  if (c.record || !c.done.empty() || c.cursor) RETURN_IF_ERROR(store_.Write(c));
  if (metrics_ != nullptr) metrics_->Transition(record, t.record);
  if (wake && on_effects_) on_effects_();
  return t.record;
}

absl::Status Engine::Complete(
    std::vector<std::string> done,
    std::optional<std::pair<std::string, std::string>> cursor) {
  Commit c;
  c.done = std::move(done);
  c.cursor = std::move(cursor);
  return store_.Write(c);
}

absl::Status Engine::CompleteNotification(
    std::vector<std::string> done, const internal::NotifyEffect& notify,
    const notify::DeliveryOutcome& outcome) {
  if (notify.audit_key().empty()) return Complete(std::move(done));
  // Under the lock: two notifications of one action update one entry.
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::AuditEntry> entry = store_.GetAudit(notify.audit_key());
  if (absl::IsNotFound(entry.status())) return Complete(std::move(done));
  if (!entry.ok()) return entry.status();
  for (v1::NotificationDelivery& d : *entry->mutable_notifications()) {
    if (d.trigger() != notify.trigger() ||
        d.status() != v1::DELIVERY_STATUS_PENDING) {
      continue;
    }
    d.set_status(outcome.delivered ? v1::DELIVERY_STATUS_SENT
                                   : v1::DELIVERY_STATUS_FAILED);
    d.set_attempts(outcome.attempts);
    d.set_error(outcome.error);
    *d.mutable_time() = ToProto(clock_.Now());
    break;
  }
  Commit c;
  c.done = std::move(done);
  c.audit_updates.emplace_back(notify.audit_key(), *std::move(entry));
  return store_.Write(c);
}

}  // namespace trainyard::jobs
