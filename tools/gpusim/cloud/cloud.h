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
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/fault_plan.h"
#include "tools/gpusim/sim/gpu_catalog.h"
#include "tools/gpusim/sim/pod_container.h"
#include "tools/gpusim/sim/scheduler.h"
#include "tools/gpusim/sim/training_config.h"

namespace trainyard::gpusim {

enum class PodStatus {
  kProvisioning,
  kStarting,
  kRunning,
  kExited,
  kTerminated
};
// RunPod's spelling: "PROVISIONING", ..., "TERMINATED".
std::string_view PodStatusName(PodStatus status);

// What POST /v2/pods asked for.
struct PodSpec {
  std::string name;
  std::string image;
  std::vector<std::string> gpu_type_ids;  // the first known one is rented
  int64_t gpu_count = 1;
  bool interruptible = false;  // spot
  Env env;
};

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

 private:
  struct Pod;

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

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Pod>, std::less<>> pods_
      ABSL_GUARDED_BY(mu_);
  std::vector<Pod*> by_age_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::gpusim
