// Copyright 2026 Trainyard authors.
#include "common/process/process_flags.h"

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::process {

void AddProcessFlags(config::FlagSet& flags, ProcessFlags* out) {
  flags.AddString("log_format", "text or json", &out->log_format);
  flags.AddString("log_level", "debug, info, warning or error",
                  &out->log_level);
  flags
      .AddDouble("time_scale",
                 "suite-wide time scale: simulated seconds per wall second",
                 &out->time_scale)
      .Range(1e-3, 1e6);
  flags.AddString("time_origin",
                  "suite-wide time origin (RFC 3339 or unix seconds); empty: "
                  "process start",
                  &out->time_origin);
}

absl::Status ValidateProcessFlags(const ProcessFlags& f) {
  auto bad = [](std::string_view flag, const absl::Status& s) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", ToAbsl(flag), ": ", s.message()));
  };
  if (absl::Status s = ParseLogFormat(f.log_format).status(); !s.ok()) {
    return bad("log_format", s);
  }
  if (absl::Status s = ParseLogLevel(f.log_level).status(); !s.ok()) {
    return bad("log_level", s);
  }
  if (!f.time_origin.empty()) {
    if (absl::Status s = ParseTimeOrigin(f.time_origin).status(); !s.ok()) {
      return bad("time_origin", s);
    }
  }
  return absl::OkStatus();
}

absl::Time SuiteTimeOrigin(const ProcessFlags& f, absl::Time process_start) {
  return f.time_origin.empty() ? process_start
                               : *ParseTimeOrigin(f.time_origin);
}

std::unique_ptr<Logger> MakeLogger(const ProcessFlags& f,
                                   const Clock& wall_clock) {
  return std::make_unique<Logger>(wall_clock, *ParseLogFormat(f.log_format),
                                  *ParseLogLevel(f.log_level));
}

}  // namespace trainyard::process
