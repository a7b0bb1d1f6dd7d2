// Copyright 2026 Trainyard authors.
//
// The flags every process of the suite shares, whatever it is (the services
// through RunService, gpusim, the coming yardctl): how it logs, and which
// suite clock it reads (domain.md: one time scale and origin for a whole
// suite, so that an eight-hour job plays in minutes with every timestamp
// consistent across processes).
//
//   process::ProcessFlags process;
//   process::AddProcessFlags(flags, &process);
//   RETURN_IF_ERROR(flags.Parse(argc, argv));
//   RETURN_IF_ERROR(process::ValidateProcessFlags(process));
//   RealClock wall;
//   ScaledClock clock(wall, process::SuiteTimeOrigin(process, wall.Now()),
//                     process.time_scale);
//   std::unique_ptr<Logger> logger = process::MakeLogger(process, wall);
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/config/flags.h"
#include "common/logging/logger.h"
#include "common/time/clock.h"

namespace trainyard::process {

struct ProcessFlags {
  std::string log_format = "text";  // text or json
  std::string log_level = "info";   // debug, info, warning or error
  // Simulated seconds per wall second.
  double time_scale = 1.0;
  // RFC 3339 or unix seconds; empty: process start.
  std::string time_origin;
};

// Declares --log_format, --log_level, --time_scale (1e-3..1e6) and
// --time_origin, bound to `*out` (which must outlive `flags`).
void AddProcessFlags(config::FlagSet& flags, ProcessFlags* out);

// OK, or kInvalidArgument naming the flag ("--log_format: ...").
absl::Status ValidateProcessFlags(const ProcessFlags& f);

// When suite time starts: --time_origin, or `process_start` when unset.
// REQUIRES: ValidateProcessFlags(f) is OK.
absl::Time SuiteTimeOrigin(const ProcessFlags& f, absl::Time process_start);

// The process's logger, as the flags say; `wall_clock` stamps its lines and
// must outlive it. REQUIRES: ValidateProcessFlags(f) is OK.
std::unique_ptr<Logger> MakeLogger(const ProcessFlags& f,
                                   const Clock& wall_clock);

}  // namespace trainyard::process
