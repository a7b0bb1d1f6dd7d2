// Copyright 2026 Trainyard authors.
#include "tools/gpusim/cloud/cloud.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/webhook/signature.h"

namespace trainyard::gpusim {

struct Cloud::Pod {
  std::string id;
  PodSpec spec;
  const GpuType* gpu = nullptr;
  double cost_per_hr = 0;
  PodStatus status = PodStatus::kProvisioning;
  PodStatus desired = PodStatus::kRunning;
  absl::Time created_at;
  absl::Time last_status_change;
  std::optional<absl::Time> started_at, exited_at, terminated_at;
  ExitReason exit_reason = ExitReason::kNone;
  std::string exit_message;

  TrainingConfig config;
  FaultPlan faults;
  uint64_t seed = 0;
  std::unique_ptr<PodContainer> container;
  WebhookSender::OutboxId outbox = 0;  // 0: none open
  // Bumped to invalidate every timer of the pod scheduled before.
  uint64_t token = 0;
  // The container has ended; the pod waits for its webhooks to drain.
  bool exiting = false;
  int64_t terminate_failures_left = 0;
  std::vector<std::pair<std::string, std::string>> fault_settings;
  // With persistence: webhooks made since the last save, held until saved.
  std::vector<Delivery> unsaved;
};

namespace {

bool Active(PodStatus s) {
  return s == PodStatus::kProvisioning || s == PodStatus::kStarting ||
         s == PodStatus::kRunning;
}

std::string KnownGpuIds() {
  std::vector<absl::string_view> ids;
  for (const GpuType& g : GpuCatalog()) ids.push_back(ToAbsl(g.id));
  return absl::StrJoin(ids, ", ");
}

}  // namespace

Cloud::Cloud(const Clock& clock, Scheduler& scheduler, WebhookSender& sender,
             CloudOptions options)
    : clock_(clock),
      scheduler_(scheduler),
      sender_(sender),
      options_(std::move(options)),
      rng_(options_.seed) {}

Cloud::~Cloud() = default;

template <typename T>
T Cloud::Saved(T result) {
  if (!result.ok()) return result;
  if (absl::Status saved = Persist(); !saved.ok()) return saved;
  return result;
}

absl::StatusOr<PodView> Cloud::Create(PodSpec spec) {
  return Saved(CreatePod(std::move(spec)));
}

absl::StatusOr<PodView> Cloud::Stop(std::string_view id) {
  return Saved(StopPod(id));
}

absl::Status Cloud::Terminate(std::string_view id) {
  return Saved(TerminatePod(id));
}

absl::StatusOr<PodView> Cloud::SetFaults(
    std::string_view id,
    const std::vector<std::pair<std::string, std::string>>& settings) {
  return Saved(SetPodFaults(id, settings));
}

absl::StatusOr<PodView> Cloud::Interrupt(std::string_view id) {
  return Saved(InterruptPod(id));
}

absl::Status Cloud::Persist(bool only_if_changed) {
  if (options_.state == nullptr) return absl::OkStatus();
  absl::MutexLock saving(&save_mu_);
  std::vector<PodRecord> records;
  // Per pod, how many held webhooks this save covers.
  std::vector<std::pair<std::string, size_t>> covered;
  uint64_t changes = 0;
  {
    absl::MutexLock lock(&mu_);
    // Deliveries since the last save are not changes: the saved outbox still
    // holds them, and sending them again after a restart is harmless.
    changes = changes_;
    if (only_if_changed && changes == saved_changes_) return absl::OkStatus();
    records.reserve(by_age_.size());
    for (const Pod* p : by_age_) {
      records.push_back(Record(*p));
      if (!p->unsaved.empty()) covered.emplace_back(p->id, p->unsaved.size());
    }
  }
  RETURN_IF_ERROR(options_.state->Save(records));
  saved_changes_ = changes;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, count] : covered) {
    Pod* pod = Find(id);
    // Exit and termination drop the held webhooks with the outbox.
    if (pod == nullptr || pod->outbox == 0) continue;
    size_t n = std::min(count, pod->unsaved.size());
    for (size_t i = 0; i < n; ++i) {
      Delivery& d = pod->unsaved[i];
      sender_.Enqueue(pod->outbox, std::move(d.webhook_id), std::move(d.body),
                      d.event_time);
    }
    pod->unsaved.erase(pod->unsaved.begin(),
                       pod->unsaved.begin() + static_cast<ptrdiff_t>(n));
  }
  return absl::OkStatus();
}

absl::Status Cloud::Restore(std::vector<PodRecord> records) {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  for (PodRecord& r : records) {
    auto damaged = [&r](absl::string_view why) {
      return absl::DataLossError(
          absl::StrCat("saved pod ", r.id, " cannot run: ", why));
    };
    auto pod = std::make_unique<Pod>();
    pod->gpu = FindGpuType(r.gpu_type_id);
    if (pod->gpu == nullptr) return damaged("unknown GPU type");
    absl::StatusOr<TrainingConfig> config = ParseTrainingConfig(r.spec.env);
    if (!config.ok()) return damaged(config.status().message());
    pod->faults = options_.faults;
    absl::Status faults = pod->faults.ApplyEnv(r.spec.env);
    for (const auto& [key, value] : r.fault_settings) {
      if (faults.ok()) faults = pod->faults.Set(key, value);
    }
    if (!faults.ok()) return damaged(faults.message());
    if (r.status == PodStatus::kRunning && !r.container) {
      return damaged("RUNNING without a container");
    }
    pod->id = std::move(r.id);
    pod->spec = std::move(r.spec);
    pod->cost_per_hr = (pod->spec.interruptible ? pod->gpu->spot_price
                                                : pod->gpu->on_demand_price) *
                       static_cast<double>(pod->spec.gpu_count);
    pod->status = r.status;
    pod->desired = r.desired_status;
    pod->created_at = r.created_at;
    pod->last_status_change = r.last_status_change;
    pod->started_at = r.started_at;
    pod->exited_at = r.exited_at;
    pod->terminated_at = r.terminated_at;
    pod->exit_reason = r.exit_reason;
    pod->exit_message = std::move(r.exit_message);
    pod->config = *std::move(config);
    pod->seed = r.seed;
    pod->fault_settings = std::move(r.fault_settings);
    pod->terminate_failures_left = r.terminate_failures_left;
    if (r.container) {
      pod->container = std::make_unique<PodContainer>(
          pod->config, pod->faults, *pod->gpu,
          static_cast<int>(pod->spec.gpu_count), pod->spec.interruptible,
          pod->seed, options_.container);
      pod->container->Restore(*r.container);
    }
    Pod& ref = *pod;
    by_age_.push_back(pod.get());
    pods_.emplace(pod->id, std::move(pod));
    Resume(ref, std::move(r.outbox), now);
  }
  // New pods get other ids and seeds than the ones before the restart.
  rng_.seed(options_.seed ^ static_cast<uint64_t>(absl::ToUnixNanos(now)));
  return absl::OkStatus();
}

void Cloud::Resume(Pod& pod, std::vector<Delivery> outbox, absl::Time now) {
  switch (pod.status) {
    case PodStatus::kProvisioning:
      Later(pod,
            std::max(now, pod.last_status_change + options_.provision_delay),
            &Cloud::ToStarting);
      break;
    case PodStatus::kStarting:
      Later(pod, std::max(now, pod.last_status_change + options_.start_delay),
            &Cloud::ToRunning);
      break;
    case PodStatus::kRunning: {
      OpenOutbox(pod);
      // Saved before, so they go out at once, ahead of the new ones.
      for (Delivery& d : outbox) {
        sender_.Enqueue(pod.outbox, std::move(d.webhook_id), std::move(d.body),
                        d.event_time);
      }
      std::vector<PodEvent> events;
      absl::Time next = absl::InfiniteFuture();
      if (!pod.container->finished()) {
        next = pod.container->Restart(now, &events);
      }
      AfterContainer(pod, events, next, now);
      break;
    }
    case PodStatus::kExited:
    case PodStatus::kTerminated:
      return;
  }
  // A stop or delete that waited for terminate_delay when gpusim went down.
  if (pod.desired == PodStatus::kTerminated) {
    DoTerminate(pod, now);
  } else if (pod.desired == PodStatus::kExited && !pod.exiting) {
    DoStop(pod, now);
  }
}

PodRecord Cloud::Record(const Pod& pod) const {
  PodRecord r{.id = pod.id,
              .spec = pod.spec,
              .gpu_type_id = std::string(pod.gpu->id),
              .status = pod.status,
              .desired_status = pod.desired,
              .created_at = pod.created_at,
              .last_status_change = pod.last_status_change,
              .started_at = pod.started_at,
              .exited_at = pod.exited_at,
              .terminated_at = pod.terminated_at,
              .exit_reason = pod.exit_reason,
              .exit_message = pod.exit_message,
              .seed = pod.seed,
              .fault_settings = pod.fault_settings,
              .terminate_failures_left = pod.terminate_failures_left};
  if (pod.container) r.container = pod.container->Snapshot();
  if (pod.outbox != 0) {
    r.outbox = sender_.Queued(pod.outbox);
    r.outbox.insert(r.outbox.end(), pod.unsaved.begin(), pod.unsaved.end());
  }
  return r;
}

size_t Cloud::Undelivered(const Pod& pod) const {
  if (pod.outbox == 0) return 0;
  return sender_.Pending(pod.outbox) + pod.unsaved.size();
}

void Cloud::OpenOutbox(Pod& pod) {
  // ParseTrainingConfig checked the secret.
  webhook::Secret secret = *webhook::Secret::Parse(pod.config.webhook_secret);
  pod.outbox = sender_.Open(pod.config.webhook_url, std::move(secret),
                            [this, id = pod.id] { OnDrained(id); });
}

absl::StatusOr<PodView> Cloud::CreatePod(PodSpec spec) {
  if (spec.image.empty()) return InvalidFieldError("imageName", "required");
  if (spec.gpu_type_ids.empty()) {
    return InvalidFieldError("gpuTypeIds",
                             absl::StrCat("required; one of ", KnownGpuIds()));
  }
  const GpuType* gpu = nullptr;
  for (const std::string& id : spec.gpu_type_ids) {
    if ((gpu = FindGpuType(id)) != nullptr) break;
  }
  if (gpu == nullptr) {
    return InvalidFieldError(
        "gpuTypeIds", absl::StrCat("no such GPU type; known: ", KnownGpuIds()));
  }
  if (spec.gpu_count < 1 || spec.gpu_count > 8) {
    return InvalidFieldError("gpuCount", "must be between 1 and 8");
  }
  ASSIGN_OR_RETURN(TrainingConfig config, ParseTrainingConfig(spec.env));
  FaultPlan faults = options_.faults;
  RETURN_IF_ERROR(faults.ApplyEnv(spec.env));

  absl::MutexLock lock(&mu_);
  int64_t active = 0;
  for (const Pod* p : by_age_) active += Active(p->status) ? 1 : 0;
  if (active >= options_.max_pods) {
    return WithReason(
        absl::ResourceExhaustedError(absl::StrCat(
            "pod limit reached: ", options_.max_pods,
            " pods are provisioning or running; stop or delete some")),
        "POD_LIMIT");
  }
  absl::Time now = clock_.Now();
  auto pod = std::make_unique<Pod>();
  pod->id = NewId();
  if (spec.name.empty()) spec.name = pod->id;
  pod->spec = std::move(spec);
  pod->gpu = gpu;
  pod->cost_per_hr =
      (pod->spec.interruptible ? gpu->spot_price : gpu->on_demand_price) *
      static_cast<double>(pod->spec.gpu_count);
  pod->created_at = now;
  pod->last_status_change = now;
  pod->config = std::move(config);
  pod->faults = std::move(faults);
  pod->terminate_failures_left = pod->faults.terminate_failures;
  pod->seed = rng_();
  Pod& ref = *pod;
  by_age_.push_back(pod.get());
  pods_.emplace(pod->id, std::move(pod));
  Later(ref, now + options_.provision_delay, &Cloud::ToStarting);
  return View(ref);
}

absl::StatusOr<PodView> Cloud::Get(std::string_view id) const {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Pod * pod, Lookup(id));
  return View(*pod);
}

std::vector<PodView> Cloud::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<PodView> views;
  views.reserve(by_age_.size());
  for (const Pod* p : by_age_) views.push_back(View(*p));
  return views;
}

absl::StatusOr<PodView> Cloud::StopPod(std::string_view id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Pod * pod, Lookup(id));
  if (pod->status == PodStatus::kTerminated ||
      pod->desired == PodStatus::kTerminated) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "pod ", pod->id, " is terminated; it cannot stop")),
                      "POD_TERMINATED");
  }
  if (pod->terminate_failures_left > 0) {
    --pod->terminate_failures_left;
    return absl::InternalError(
        "failed to stop the pod (injected fault terminate_failures)");
  }
  if (pod->status == PodStatus::kExited || pod->desired == PodStatus::kExited) {
    return View(*pod);
  }
  pod->desired = PodStatus::kExited;
  absl::Time now = clock_.Now();
  if (pod->faults.terminate_delay > absl::ZeroDuration()) {
    Later(*pod, now + pod->faults.terminate_delay, &Cloud::DoStop,
          /*cancellable=*/false);
  } else {
    DoStop(*pod, now);
  }
  return View(*pod);
}

absl::Status Cloud::TerminatePod(std::string_view id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Pod * pod, Lookup(id));
  if (pod->status == PodStatus::kTerminated ||
      pod->desired == PodStatus::kTerminated) {
    return absl::OkStatus();
  }
  if (pod->terminate_failures_left > 0) {
    --pod->terminate_failures_left;
    return absl::InternalError(
        "failed to terminate the pod (injected fault terminate_failures)");
  }
  pod->desired = PodStatus::kTerminated;
  absl::Time now = clock_.Now();
  if (pod->faults.terminate_delay > absl::ZeroDuration()) {
    Later(*pod, now + pod->faults.terminate_delay, &Cloud::DoTerminate,
          /*cancellable=*/false);
  } else {
    DoTerminate(*pod, now);
  }
  return absl::OkStatus();
}

absl::StatusOr<PodView> Cloud::SetPodFaults(
    std::string_view id,
    const std::vector<std::pair<std::string, std::string>>& settings) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Pod * pod, Lookup(id));
  FaultPlan faults = pod->faults;
  bool failures_set = false;
  for (const auto& [key, value] : settings) {
    RETURN_IF_ERROR(faults.Set(key, value));
    failures_set = failures_set || key == "terminate_failures";
  }
  pod->faults = faults;
  pod->fault_settings.insert(pod->fault_settings.end(), settings.begin(),
                             settings.end());
  if (failures_set) pod->terminate_failures_left = faults.terminate_failures;
  if (pod->container) pod->container->SetFaults(faults);
  // A new stall or fault may change when the container must wake.
  if (pod->status == PodStatus::kRunning && pod->container &&
      !pod->container->finished()) {
    WakeContainer(*pod, clock_.Now());
  }
  return View(*pod);
}

absl::StatusOr<PodView> Cloud::InterruptPod(std::string_view id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Pod * pod, Lookup(id));
  absl::Time now = clock_.Now();
  if (pod->status == PodStatus::kProvisioning ||
      pod->status == PodStatus::kStarting) {
    Exit(*pod, ExitReason::kInterrupted, now);
    return View(*pod);
  }
  if (pod->status != PodStatus::kRunning || pod->container->finished()) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "pod ", pod->id, " is ", ToAbsl(PodStatusName(pod->status)),
            pod->exiting ? " and exiting" : "", "; nothing to interrupt")),
        "POD_NOT_RUNNING");
  }
  std::vector<PodEvent> events;
  pod->container->Interrupt(now, &events);
  AfterContainer(*pod, events, absl::InfiniteFuture(), now);
  return View(*pod);
}

CloudCounts Cloud::Counts() const {
  absl::MutexLock lock(&mu_);
  CloudCounts counts;
  for (const Pod* p : by_age_) {
    ++counts.by_status[p->status];
    if (Active(p->status)) ++counts.active;
  }
  return counts;
}

Cloud::Pod* Cloud::Find(std::string_view id) const {
  auto it = pods_.find(id);
  return it == pods_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Cloud::Pod*> Cloud::Lookup(std::string_view id) const {
  Pod* pod = Find(id);
  if (pod == nullptr) {
    return absl::NotFoundError(absl::StrCat("pod ", ToAbsl(id), " not found"));
  }
  return pod;
}

PodView Cloud::View(const Pod& pod) const {
  PodView v;
  v.id = pod.id;
  v.spec = pod.spec;
  v.gpu = pod.gpu;
  v.cost_per_hr = pod.cost_per_hr;
  v.status = pod.status;
  v.desired_status = pod.desired;
  v.created_at = pod.created_at;
  v.last_status_change = pod.last_status_change;
  v.started_at = pod.started_at;
  v.exited_at = pod.exited_at;
  v.terminated_at = pod.terminated_at;
  v.exit_reason = pod.exit_reason;
  v.exit_message = pod.exit_message;
  if (pod.container) v.progress = pod.container->progress();
  v.webhooks_pending = Undelivered(pod);
  v.faults = pod.faults;
  return v;
}

void Cloud::SetStatus(Pod& pod, PodStatus status, absl::Time now) {
  ++changes_;
  pod.status = status;
  pod.last_status_change = now;
}

void Cloud::Later(Pod& pod, absl::Time due, void (Cloud::*fn)(Pod&, absl::Time),
                  bool cancellable) {
  scheduler_.At(due, [this, id = pod.id, token = pod.token, fn, cancellable] {
    absl::MutexLock lock(&mu_);
    Pod* p = Find(id);
    if (p == nullptr || (cancellable && p->token != token)) return;
    (this->*fn)(*p, clock_.Now());
  });
}

void Cloud::ToStarting(Pod& pod, absl::Time now) {
  if (pod.status != PodStatus::kProvisioning) return;
  SetStatus(pod, PodStatus::kStarting, now);
  Later(pod, now + options_.start_delay, &Cloud::ToRunning);
}

void Cloud::ToRunning(Pod& pod, absl::Time now) {
  if (pod.status != PodStatus::kStarting) return;
  SetStatus(pod, PodStatus::kRunning, now);
  pod.started_at = now;
  OpenOutbox(pod);
  pod.container = std::make_unique<PodContainer>(
      pod.config, pod.faults, *pod.gpu, static_cast<int>(pod.spec.gpu_count),
      pod.spec.interruptible, pod.seed, options_.container);
  std::vector<PodEvent> events;
  absl::Time next = pod.container->Start(now, &events);
  AfterContainer(pod, events, next, now);
}

void Cloud::WakeContainer(Pod& pod, absl::Time now) {
  if (pod.status != PodStatus::kRunning || pod.container->finished()) return;
  std::vector<PodEvent> events;
  absl::Time next = pod.container->Wake(now, &events);
  AfterContainer(pod, events, next, now);
}

void Cloud::AfterContainer(Pod& pod, std::vector<PodEvent>& events,
                           absl::Time next, absl::Time now) {
  ++changes_;
  for (PodEvent& e : events) {
    if (options_.state != nullptr) {
      pod.unsaved.push_back({.webhook_id = WebhookId(e),
                             .body = EventBody(e),
                             .event_time = e.time});
    } else {
      sender_.Enqueue(pod.outbox, WebhookId(e), EventBody(e), e.time);
    }
  }
  // Whatever was planned before is superseded by `next`.
  ++pod.token;
  if (!pod.container->finished()) {
    if (next != absl::InfiniteFuture()) {
      Later(pod, next, &Cloud::WakeContainer);
    }
    return;
  }
  pod.exiting = true;
  absl::Duration wait = pod.container->exit_reason() == ExitReason::kInterrupted
                            ? options_.spot_grace
                            : options_.flush_timeout;
  if (Undelivered(pod) == 0) {
    Exit(pod, pod.container->exit_reason(), now);
  } else {
    Later(pod, now + wait, &Cloud::ExitDeadline);
  }
}

void Cloud::DoStop(Pod& pod, absl::Time now) {
  if (pod.status == PodStatus::kProvisioning ||
      pod.status == PodStatus::kStarting) {
    Exit(pod, ExitReason::kStopped, now);
    return;
  }
  if (pod.status != PodStatus::kRunning || pod.container->finished()) return;
  std::vector<PodEvent> events;
  pod.container->Terminate(now, &events);
  AfterContainer(pod, events, absl::InfiniteFuture(), now);
}

void Cloud::DoTerminate(Pod& pod, absl::Time now) {
  if (pod.status == PodStatus::kTerminated) return;
  ++pod.token;
  if (pod.outbox != 0) {
    sender_.Close(pod.outbox);
    pod.outbox = 0;
  }
  pod.unsaved.clear();
  if (pod.exit_reason == ExitReason::kNone) {
    pod.exit_reason = ExitReason::kStopped;
    pod.exited_at = now;
  }
  pod.exiting = false;
  pod.desired = PodStatus::kTerminated;
  pod.terminated_at = now;
  SetStatus(pod, PodStatus::kTerminated, now);
}

void Cloud::ExitDeadline(Pod& pod, absl::Time now) {
  if (pod.exiting && pod.status == PodStatus::kRunning) {
    Exit(pod, pod.container->exit_reason(), now);
  }
}

void Cloud::Exit(Pod& pod, ExitReason reason, absl::Time now) {
  ++pod.token;
  if (pod.outbox != 0) {
    sender_.Close(pod.outbox);
    pod.outbox = 0;
  }
  pod.unsaved.clear();
  pod.exiting = false;
  pod.exit_reason = reason;
  if (pod.container) pod.exit_message = pod.container->exit_message();
  pod.exited_at = now;
  if (pod.desired == PodStatus::kRunning) pod.desired = PodStatus::kExited;
  SetStatus(pod, PodStatus::kExited, now);
}

void Cloud::OnDrained(const std::string& id) {
  absl::MutexLock lock(&mu_);
  Pod* pod = Find(id);
  if (pod == nullptr || !pod->exiting || pod->status != PodStatus::kRunning ||
      pod->outbox == 0 || Undelivered(*pod) != 0) {
    return;
  }
  Exit(*pod, pod->container->exit_reason(), clock_.Now());
}

std::string Cloud::NewId() {
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  while (true) {
    std::string id(14, ' ');
    for (char& c : id) c = kAlphabet[rng_() % kAlphabet.size()];
    if (!pods_.contains(id)) return id;
  }
}

}  // namespace trainyard::gpusim
