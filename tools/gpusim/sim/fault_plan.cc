// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/fault_plan.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "tools/gpusim/sim/env_values.h"

namespace trainyard::gpusim {
namespace {

constexpr std::string_view kKeys[] = {
    "spot_per_hour",   "spot_at",           "fail_at",   "fail_code",
    "fail_message",    "stall_at",          "stall_for", "nan_at",
    "terminate_delay", "terminate_failures"};

constexpr std::string_view kEnvPrefix = "TRAINYARD_FAULT_";

}  // namespace

absl::StatusOr<FaultPoint> ParseFaultPoint(std::string_view field,
                                           std::string_view text) {
  std::string_view stage_text = text;
  std::string_view percent_text;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    stage_text = text.substr(0, colon);
    percent_text = text.substr(colon + 1);
  }
  std::optional<Stage> stage = ParseStage(stage_text);
  if (!stage) {
    return InvalidFieldError(
        field, absl::StrCat("\"", ToAbsl(text),
                            "\" is not <stage>[:<percent>] with stage one "
                            "of preprocessing, model_loading, training, "
                            "finalization"));
  }
  FaultPoint point{.stage = *stage};
  if (!percent_text.empty()) {
    ASSIGN_OR_RETURN(point.percent,
                     ParseDoubleValue(field, percent_text, 0, 100));
  }
  return point;
}

std::span<const std::string_view> FaultPlan::Keys() { return kKeys; }

absl::Status FaultPlan::Set(std::string_view key, std::string_view value,
                            std::string_view field) {
  std::string_view f = field.empty() ? key : field;
  if (key == "spot_per_hour") {
    ASSIGN_OR_RETURN(spot_per_hour, ParseDoubleValue(f, value, 0, 1));
  } else if (key == "spot_at") {
    ASSIGN_OR_RETURN(spot_at, ParseFaultPoint(f, value));
  } else if (key == "fail_at") {
    ASSIGN_OR_RETURN(fail_at, ParseFaultPoint(f, value));
  } else if (key == "fail_code") {
    if (value.empty()) return InvalidFieldError(f, "must not be empty");
    fail_code = std::string(value);
  } else if (key == "fail_message") {
    if (value.empty()) return InvalidFieldError(f, "must not be empty");
    fail_message = std::string(value);
  } else if (key == "stall_at") {
    ASSIGN_OR_RETURN(stall_at, ParseFaultPoint(f, value));
  } else if (key == "stall_for") {
    ASSIGN_OR_RETURN(stall_for, ParseDurationValue(f, value));
  } else if (key == "nan_at") {
    ASSIGN_OR_RETURN(nan_at, ParseFaultPoint(f, value));
  } else if (key == "terminate_delay") {
    ASSIGN_OR_RETURN(terminate_delay, ParseDurationValue(f, value));
  } else if (key == "terminate_failures") {
    ASSIGN_OR_RETURN(terminate_failures, ParseIntValue(f, value, 0, 1000000));
  } else {
    return InvalidFieldError(
        f, absl::StrCat("unknown fault setting \"", ToAbsl(key), "\""));
  }
  return absl::OkStatus();
}

absl::Status FaultPlan::ApplyEnv(const Env& env) {
  for (std::string_view key : kKeys) {
    std::string name =
        absl::StrCat(ToAbsl(kEnvPrefix), absl::AsciiStrToUpper(ToAbsl(key)));
    auto it = env.find(name);
    if (it == env.end()) continue;
    RETURN_IF_ERROR(Set(key, it->second, absl::StrCat("env.", name)));
  }
  // A misspelled fault variable would silently do nothing: refuse it.
  for (auto it = env.lower_bound(std::string(kEnvPrefix));
       it != env.end() && it->first.starts_with(kEnvPrefix); ++it) {
    std::string key = absl::AsciiStrToLower(
        ToAbsl(std::string_view(it->first).substr(kEnvPrefix.size())));
    bool known = false;
    for (std::string_view k : kKeys) known = known || k == key;
    if (!known) {
      return InvalidFieldError(absl::StrCat("env.", it->first),
                               "unknown fault variable");
    }
  }
  return absl::OkStatus();
}

}  // namespace trainyard::gpusim
