// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/cloud/cloud.h
// -----------------------------------------------------------------------------
// Cloud: gpusim's pods and their lifecycle, the model behind the RunPod-style
// REST API (api/pods_api.h). A pod goes
//
//   PROVISIONING --provision_delay--> STARTING --start_delay--> RUNNING
//     RUNNING: its PodContainer plays the training run and its webhooks go
//     out through the WebhookSender
//   --> EXITED when the container ends (exitReason completed, failed,
//       interrupted or stopped) and its webhooks are delivered (or
//       flush_timeout passed; after a spot interruption only spot_grace)
//   --> TERMINATED on Terminate (from any state; undelivered webhooks of a
//       still-running container are lost, as with a killed container).
//
// Stop is SIGTERM: the container checkpoints, reports it and exits (see
// PodContainer::Terminate). Every wait is a Scheduler timer on the suite's
// clock; no thread belongs to a pod.
//
// Persistence (CloudOptions::state, gpusim --state_dir). Without it the pods
// live in memory only. With it, Persist() saves every pod (pod_state.h) and
// a container's webhooks are held back until a Persist() has saved them: a
// webhook goes out only once the saved state knows it and the container's seq
// after it. Restore() brings the saved pods back after a restart of gpusim:
//   - PROVISIONING and STARTING pods go on waiting for their delay;
//   - a RUNNING pod's container is restarted (PodContainer::Restart: same
//     attempt, seq continuing after the last saved one, training back at its
//     last checkpoint) and its saved, unanswered webhooks are sent again in
//     order before the new ones (the receiver drops any it already stored,
//     by webhook-id: same id, same body). Webhooks the old process made
//     after the last save were never sent; the restarted container makes
//     new ones with their seq. So the receiver sees each attempt's seq from
//     1 without a gap and never one id with two bodies;
//   - a RUNNING pod whose container had ended waits for its webhooks again;
//   - a stop or delete that was waiting for terminate_delay acts at once;
//   - EXITED and TERMINATED pods stay as they were.
// While gpusim is down, suite time goes on: a restarted container carries on
// from the restart's time.
//
// Thread-safety: thread-safe. The clock, scheduler and sender must outlive the
// cloud, and the scheduler must not run tasks after the cloud is destroyed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"
#include "tools/gpusim/cloud/pod_state.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/fault_plan.h"
#include "tools/gpusim/sim/gpu_catalog.h"
#include "tools/gpusim/sim/pod_container.h"
#include "tools/gpusim/sim/scheduler.h"
#include "tools/gpusim/sim/training_config.h"

namespace trainyard::gpusim {

// A pod as the API shows it: a copy, consistent at one moment.
struct PodView {
  std::string id;
  PodSpec spec;
  const GpuType* gpu = nullptr;
  double cost_per_hr = 0;  // price x gpu_count, spot when interruptible
  PodStatus status = PodStatus::kProvisioning;
  // RunPod's desiredStatus: RUNNING until stopped (EXITED) or deleted
  // (TERMINATED).
  PodStatus desired_status = PodStatus::kRunning;
  absl::Time created_at;
  absl::Time last_status_change;
  std::optional<absl::Time> started_at;  // became RUNNING
  std::optional<absl::Time> exited_at;
  std::optional<absl::Time> terminated_at;
  ExitReason exit_reason = ExitReason::kNone;
  std::string exit_message;
  std::optional<ContainerProgress> progress;  // once RUNNING
  size_t webhooks_pending = 0;
  FaultPlan faults;
};

struct CloudOptions {
  // Pods PROVISIONING, STARTING or RUNNING at once; Create beyond it is
  // kResourceExhausted.
  int64_t max_pods = 1000;
  absl::Duration provision_delay = absl::Seconds(20);
  absl::Duration start_delay = absl::Seconds(30);
  // A finished container's pod turns EXITED when its webhooks are delivered
  // or this long after it finished (undelivered ones are dropped).
  absl::Duration flush_timeout = absl::Minutes(10);
  // The same after a spot interruption: the provider's notice period.
  absl::Duration spot_grace = absl::Seconds(5);
  // Where Persist() saves the pods; null: in memory only. Must outlive the
  // cloud.
  StateFile* state = nullptr;
  // Faults of every pod (pod env and SetFaults override them per pod).
  FaultPlan faults;
  ContainerOptions container;
  uint64_t seed = 1;  // pod ids and each pod's randomness
};

struct CloudCounts {
  std::map<PodStatus, int64_t> by_status;
  int64_t active = 0;  // PROVISIONING + STARTING + RUNNING
};

class Cloud {
 public:
  Cloud(const Clock& clock, Scheduler& scheduler, WebhookSender& sender,
        CloudOptions options);
  Cloud(const Cloud&) = delete;
  Cloud& operator=(const Cloud&) = delete;
  ~Cloud();

  // Rents a pod. Errors: kInvalidArgument with a field violation ("name",
  // "imageName", "gpuTypeIds", "gpuCount", "env.TRAINYARD_EPOCHS", ...);
  // kResourceExhausted at max_pods.
  absl::StatusOr<PodView> Create(PodSpec spec);

  // kNotFound for an unknown id.
  absl::StatusOr<PodView> Get(std::string_view id) const;
  // Every pod, oldest first.
  std::vector<PodView> List() const;

  // Stops the pod (SIGTERM to its container; see the file comment), after
  // the pod's terminate_delay. Stopping a stopping or EXITED pod changes
  // nothing. Errors: kNotFound; kFailedPrecondition for a TERMINATED (or
  // terminating) pod; kInternal while injected terminate_failures last.
  absl::StatusOr<PodView> Stop(std::string_view id);

  // Terminates the pod after its terminate_delay; idempotent. Errors:
  // kNotFound; kInternal while injected terminate_failures last.
  absl::Status Terminate(std::string_view id);

  // Changes the pod's faults: `settings` are FaultPlan keys and values,
  // applied all or none. Setting terminate_failures restarts its count.
  // Errors: kNotFound; kInvalidArgument naming the key.
  absl::StatusOr<PodView> SetFaults(
      std::string_view id,
      const std::vector<std::pair<std::string, std::string>>& settings);

  // A spot interruption now (interruptible or not). Errors: kNotFound;
  // kFailedPrecondition when the pod is not PROVISIONING, STARTING or
  // RUNNING, or its container has already ended.
  absl::StatusOr<PodView> Interrupt(std::string_view id);

  CloudCounts Counts() const;

  // With options.state: saves every pod, then lets the webhooks saved with
  // them go out. One call at a time; the API calls above that change a pod
  // (Create, Stop, Terminate, SetFaults, Interrupt) call it before they
  // answer and fail with its error (kUnavailable); gpusim also calls it
  // periodically for the progress, with `only_if_changed` (no save when no
  // pod changed since the last one). Without options.state: nothing.
  absl::Status Persist(bool only_if_changed = false)
      ABSL_LOCKS_EXCLUDED(save_mu_, mu_);

  // Brings back the pods `Load` returned (see the file comment). REQUIRES:
  // called once, before any other call. Errors: kDataLoss for a record this
  // gpusim cannot run (unknown GPU type, bad env), naming the pod.
  absl::Status Restore(std::vector<PodRecord> pods);

 private:
  struct Pod;

  absl::StatusOr<PodView> CreatePod(PodSpec spec);
  absl::StatusOr<PodView> StopPod(std::string_view id);
  absl::Status TerminatePod(std::string_view id);
  absl::StatusOr<PodView> SetPodFaults(
      std::string_view id,
      const std::vector<std::pair<std::string, std::string>>& settings);
  absl::StatusOr<PodView> InterruptPod(std::string_view id);
  // `result` once Persist() has saved the change.
  template <typename T>
  T Saved(T result);

  PodRecord Record(const Pod& pod) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Webhooks of the pod not yet answered: in the sender's outbox or held
  // until saved.
  size_t Undelivered(const Pod& pod) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OpenOutbox(Pod& pod) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Restore's part for one pod: what comes next for it.
  void Resume(Pod& pod, std::vector<Delivery> outbox, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Pod* Find(std::string_view id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Find, or kNotFound "pod <id> not found" (the API's 404).
  absl::StatusOr<Pod*> Lookup(std::string_view id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PodView View(const Pod& pod) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetStatus(Pod& pod, PodStatus status, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `fn` on the pod at `due`; when `cancellable`, not if the pod's
  // timers were invalidated (token bumped) by then. The container's wake-ups
  // bump the token, so requests (a delayed stop) are not cancellable.
  void Later(Pod& pod, absl::Time due, void (Cloud::*fn)(Pod&, absl::Time),
             bool cancellable = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ToStarting(Pod& pod, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ToRunning(Pod& pod, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeContainer(Pod& pod, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends the container's new events and plans what comes next.
  void AfterContainer(Pod& pod, std::vector<PodEvent>& events, absl::Time next,
                      absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoStop(Pod& pod, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoTerminate(Pod& pod, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ExitDeadline(Pod& pod, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Exit(Pod& pod, ExitReason reason, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnDrained(const std::string& id);
  std::string NewId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  Scheduler& scheduler_;
  WebhookSender& sender_;
  const CloudOptions options_;

  // Orders Persist() calls, so that held webhooks go out in order.
  absl::Mutex save_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Pod>, std::less<>> pods_
      ABSL_GUARDED_BY(mu_);
  std::vector<Pod*> by_age_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  // Bumped by every change of a pod's status or container; the value the
  // last save saw.
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t saved_changes_ ABSL_GUARDED_BY(save_mu_) = ~uint64_t{0};
};

}  // namespace trainyard::gpusim
