// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/fault_plan.h
// -----------------------------------------------------------------------------
// The faults one pod will suffer. Each setting has a key ("fail_at") that is
// spelled the same everywhere it can be given, later sources winning:
//
//   gpusim flag        --fault_fail_at=training:50     (every pod)
//   pod env            TRAINYARD_FAULT_FAIL_AT=training:50
//   admin endpoint     POST /admin/pods/{id}/faults {"fail_at": "training:50"}
//
// A fault point is "<stage>[:<percent>]": the first moment the stage's
// progress reaches the percent (training: the step at that percent of the
// run's total steps; a resumed run past it meets it at its first step).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/gpusim/sim/stage.h"
#include "tools/gpusim/sim/training_config.h"

namespace trainyard::gpusim {

struct FaultPoint {
  Stage stage = Stage::kPreprocessing;
  double percent = 0;  // 0..100
  bool operator==(const FaultPoint&) const = default;
};

struct FaultPlan {
  // spot_per_hour: chance per simulated hour that an interruptible pod is
  // reclaimed (0..1).
  double spot_per_hour = 0;
  // spot_at: reclaim an interruptible pod at this point.
  std::optional<FaultPoint> spot_at;
  // fail_at / fail_code / fail_message: the container reports an ERROR event
  // with this code and message and exits (exit reason "failed").
  std::optional<FaultPoint> fail_at;
  std::string fail_code = "CUDA_OOM";
  std::string fail_message =
      "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB "
      "total capacity)";
  // stall_at / stall_for: the container goes silent (no events, no
  // progress) for stall_for, then carries on; 0 means until it is stopped.
  std::optional<FaultPoint> stall_at;
  absl::Duration stall_for = absl::ZeroDuration();
  // nan_at: the loss diverges: trainLoss is reported as "NaN" from here on.
  std::optional<FaultPoint> nan_at;
  // terminate_delay: stop and delete take this long to act.
  absl::Duration terminate_delay = absl::ZeroDuration();
  // terminate_failures: this many stop/delete calls answer 500 first.
  int64_t terminate_failures = 0;

  // Sets the setting `key` (one of Keys()) from its text form. Errors are
  // kInvalidArgument naming `field` (or `key` when `field` is empty).
  absl::Status Set(std::string_view key, std::string_view value,
                   std::string_view field = {});

  // Applies every TRAINYARD_FAULT_<KEY> variable of `env` (KEY is the key in
  // upper case); errors name "env.TRAINYARD_FAULT_<KEY>".
  absl::Status ApplyEnv(const Env& env);

  // Every key, in a fixed order.
  static std::span<const std::string_view> Keys();
};

// Parses "<stage>[:<percent>]". kInvalidArgument naming `field`.
absl::StatusOr<FaultPoint> ParseFaultPoint(std::string_view field,
                                           std::string_view text);

}  // namespace trainyard::gpusim
