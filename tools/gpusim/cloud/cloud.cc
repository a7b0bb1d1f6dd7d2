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

std::string_view PodStatusName(PodStatus status) {
  switch (status) {
    case PodStatus::kProvisioning:
      return "PROVISIONING";
    case PodStatus::kStarting:
      return "STARTING";
    case PodStatus::kRunning:
      return "RUNNING";
    case PodStatus::kExited:
      return "EXITED";
    case PodStatus::kTerminated:
      return "TERMINATED";
  }
  return "";
}

Cloud::Cloud(const Clock& clock, Scheduler& scheduler, WebhookSender& sender,
             CloudOptions options)
    : clock_(clock),
      scheduler_(scheduler),
      sender_(sender),
      options_(std::move(options)),
      rng_(options_.seed) {}

Cloud::~Cloud() = default;

absl::StatusOr<PodView> Cloud::Create(PodSpec spec) {
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

absl::StatusOr<PodView> Cloud::Stop(std::string_view id) {
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

absl::Status Cloud::Terminate(std::string_view id) {
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

absl::StatusOr<PodView> Cloud::SetFaults(
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
  if (failures_set) pod->terminate_failures_left = faults.terminate_failures;
  if (pod->container) pod->container->SetFaults(faults);
  // A new stall or fault may change when the container must wake.
  if (pod->status == PodStatus::kRunning && pod->container &&
      !pod->container->finished()) {
    WakeContainer(*pod, clock_.Now());
  }
  return View(*pod);
}

absl::StatusOr<PodView> Cloud::Interrupt(std::string_view id) {
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
  if (pod.outbox != 0) v.webhooks_pending = sender_.Pending(pod.outbox);
  v.faults = pod.faults;
  return v;
}

void Cloud::SetStatus(Pod& pod, PodStatus status, absl::Time now) {
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
  // ParseTrainingConfig checked the secret.
  webhook::Secret secret = *webhook::Secret::Parse(pod.config.webhook_secret);
  pod.outbox = sender_.Open(pod.config.webhook_url, std::move(secret),
                            [this, id = pod.id] { OnDrained(id); });
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
  for (PodEvent& e : events) {
    sender_.Enqueue(pod.outbox, WebhookId(e), EventBody(e), e.time);
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
  if (sender_.Pending(pod.outbox) == 0) {
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
      pod->outbox == 0 || sender_.Pending(pod->outbox) != 0) {
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
