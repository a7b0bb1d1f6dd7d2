// Copyright 2026 Trainyard authors.
//
// The GPU provider as job-control sees it: pods by id and by name. One
// implementation talks RunPod's REST API (runpod_client.h); tests of the
// engine use a fake. Pods are named "{job_id}-a{attempt}", which makes every
// create adoptable: CreatePod first looks the name up and returns an existing
// pod instead of making a second one (a create whose answer was lost).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::jobs {

// What to rent.
struct PodRequest {
  std::string name;
  std::string image;
  common::v1::GpuType gpu_type = common::v1::GPU_TYPE_UNSPECIFIED;
  int32_t gpu_count = 1;
  // SPOT.
  bool interruptible = false;
  std::map<std::string, std::string> env;
};

// A pod as the provider reports it.
struct Pod {
  enum class Status {
    kProvisioning,
    kStarting,
    kRunning,
    kExited,
    kTerminated,
    kUnknown,
  };
  std::string id;
  std::string name;
  Status status = Status::kUnknown;
  // For kExited: "completed", "failed", "stopped", "interrupted" (gpusim and
  // providers that report it; empty otherwise).
  std::string exit_reason;
  std::string exit_message;
  // When the provider created the pod (`createdAt`) and when it stopped
  // using its GPU (the first of `exitedAt` and `terminatedAt`), in the
  // provider's clock; unset when it does not report them. Meters are billed
  // from these rather than from when job-control saw the pod, so a
  // job-control that was down meanwhile bills the pod's real run time.
  std::optional<absl::Time> created_at;
  std::optional<absl::Time> ended_at;
};

// Thread-safe. Every call has a deadline; errors:
//   kNotFound            no such pod (GetPod)
//   kInvalidArgument     the provider rejected the request (4xx): do not retry
//   kUnauthenticated / kPermissionDenied   bad API key
//   kResourceExhausted   429 (RetryAfter() says how long to wait)
//   kUnavailable / kDeadlineExceeded       5xx or no answer after the
//                                          client's own retries
class Provider {
 public:
  virtual ~Provider() = default;
  // Creates the pod, or adopts the existing pod of the same name.
  virtual absl::StatusOr<Pod> CreatePod(const PodRequest& request) = 0;
  virtual absl::StatusOr<Pod> GetPod(std::string_view pod_id) = 0;
  // The newest pod named `name` that is not TERMINATED; nullopt if none.
  virtual absl::StatusOr<std::optional<Pod>> FindPodByName(
      std::string_view name) = 0;
  // SIGTERM: the container checkpoints and exits. Idempotent.
  virtual absl::Status StopPod(std::string_view pod_id) = 0;
  // Terminates the pod. Idempotent: an unknown pod is OK.
  virtual absl::Status DeletePod(std::string_view pod_id) = 0;
};

// RunPod's GPU type id ("NVIDIA A100-SXM4-80GB", orchestration.md's table).
// REQUIRES: a known type.
std::string_view ProviderGpuId(common::v1::GpuType type);

// The wait a kResourceExhausted error asks for (429 Retry-After); zero when
// none was given.
absl::Duration RetryAfter(const absl::Status& status);

}  // namespace trainyard::jobs
