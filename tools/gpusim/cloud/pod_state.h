// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/cloud/pod_state.h
// -----------------------------------------------------------------------------
// What gpusim keeps of its pods across its own restarts (--state_dir): a
// PodRecord per pod, in one JSON file, `<dir>/pods.json`, replaced atomically
// (written to a temporary file, fsynced, renamed over the old one, the
// directory fsynced), so a crash at any moment leaves the previous or the new
// state, never a torn one. Cloud::Persist writes it; Cloud::Restore reads it
// back (cloud.h says what a restart does with each pod).
//
// Thread-compatible; one StateFile per directory and process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/pod_container.h"
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
std::optional<PodStatus> ParsePodStatus(std::string_view name);

// What POST /v2/pods asked for.
struct PodSpec {
  std::string name;
  std::string image;
  std::vector<std::string> gpu_type_ids;  // the first known one is rented
  int64_t gpu_count = 1;
  bool interruptible = false;  // spot
  Env env;
};

// A pod as saved. Times are suite time.
struct PodRecord {
  std::string id;
  PodSpec spec;
  std::string gpu_type_id;  // the one rented
  PodStatus status = PodStatus::kProvisioning;
  PodStatus desired_status = PodStatus::kRunning;
  absl::Time created_at;
  absl::Time last_status_change;
  std::optional<absl::Time> started_at, exited_at, terminated_at;
  ExitReason exit_reason = ExitReason::kNone;
  std::string exit_message;
  uint64_t seed = 0;
  // The live fault settings (POST /admin/pods/{id}/faults), in order; the
  // flags' and env's faults are applied again from the start's settings.
  std::vector<std::pair<std::string, std::string>> fault_settings;
  int64_t terminate_failures_left = 0;
  // Once RUNNING.
  std::optional<ContainerSnapshot> container;
  // Webhooks not yet answered, in order (seq ascending): sent again after a
  // restart (the receiver drops those it already stored, by webhook-id).
  std::vector<Delivery> outbox;
};

class StateFile {
 public:
  // Keeps its file in `dir` (created if missing, by Load or Save).
  explicit StateFile(std::string dir);

  const std::string& path() const { return path_; }

  // The pods saved last; none when nothing was saved yet. kDataLoss naming
  // the file when it cannot be read as gpusim state.
  absl::StatusOr<std::vector<PodRecord>> Load() const;

  // Replaces the saved pods with `pods`, durably (see the file comment).
  absl::Status Save(const std::vector<PodRecord>& pods);

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace trainyard::gpusim
