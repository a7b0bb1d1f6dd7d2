// Copyright 2026 Trainyard authors.
#include "tools/gpusim/cloud/pod_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "common/strings/json.h"
#include "nlohmann/json.hpp"

namespace trainyard::gpusim {
namespace {

using nlohmann::json;

// Bumped when a field changes meaning; Load refuses other versions.
constexpr int kVersion = 1;

constexpr PodStatus kStatuses[] = {PodStatus::kProvisioning,
                                   PodStatus::kStarting, PodStatus::kRunning,
                                   PodStatus::kExited, PodStatus::kTerminated};
constexpr ExitReason kExitReasons[] = {
    ExitReason::kNone, ExitReason::kCompleted, ExitReason::kFailed,
    ExitReason::kInterrupted, ExitReason::kStopped};

// Times as unix nanoseconds: exact, whatever the clock's resolution.
int64_t Nanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time Time(const json& j) { return absl::FromUnixNanos(j.get<int64_t>()); }
void PutTime(json& j, const char* key, const std::optional<absl::Time>& t) {
  if (t) j[key] = Nanos(*t);
}
std::optional<absl::Time> GetTime(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return Time(j.at(key));
}

// A value nlohmann-json read but gpusim does not know; Load turns it (and
// json::exception) into kDataLoss.
struct BadState : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Bad(const std::string& what) { throw BadState(what); }

PodStatus StatusOf(const json& j) {
  std::optional<PodStatus> s = ParsePodStatus(j.get<std::string>());
  if (!s) Bad(absl::StrCat("unknown pod status ", j.dump()));
  return *s;
}

ExitReason ExitReasonOf(const json& j) {
  std::string name = j.get<std::string>();
  for (ExitReason r : kExitReasons) {
    if (ExitReasonName(r) == name) return r;
  }
  Bad(absl::StrCat("unknown exit reason ", j.dump()));
}

json ContainerJson(const ContainerSnapshot& c) {
  return {{"stage", StageName(c.stage)},
          {"step", c.step},
          {"lastCheckpointStep", c.last_checkpoint_step},
          {"seq", c.seq},
          {"stallFired", c.stall_fired},
          {"spotFired", c.spot_fired},
          {"failFired", c.fail_fired},
          {"diverged", c.diverged},
          {"restarts", c.restarts},
          {"exitReason", ExitReasonName(c.exit_reason)},
          {"exitMessage", c.exit_message}};
}

ContainerSnapshot ContainerOf(const json& j) {
  ContainerSnapshot c;
  std::optional<Stage> stage = ParseStage(j.at("stage").get<std::string>());
  if (!stage) Bad(absl::StrCat("unknown stage ", j.at("stage").dump()));
  c.stage = *stage;
  j.at("step").get_to(c.step);
  j.at("lastCheckpointStep").get_to(c.last_checkpoint_step);
  j.at("seq").get_to(c.seq);
  j.at("stallFired").get_to(c.stall_fired);
  j.at("spotFired").get_to(c.spot_fired);
  j.at("failFired").get_to(c.fail_fired);
  j.at("diverged").get_to(c.diverged);
  j.at("restarts").get_to(c.restarts);
  c.exit_reason = ExitReasonOf(j.at("exitReason"));
  j.at("exitMessage").get_to(c.exit_message);
  return c;
}

json PodJson(const PodRecord& p) {
  json j = {{"id", p.id},
            {"name", p.spec.name},
            {"image", p.spec.image},
            {"gpuTypeIds", p.spec.gpu_type_ids},
            {"gpuCount", p.spec.gpu_count},
            {"interruptible", p.spec.interruptible},
            {"env", p.spec.env},
            {"gpuTypeId", p.gpu_type_id},
            {"status", PodStatusName(p.status)},
            {"desiredStatus", PodStatusName(p.desired_status)},
            {"createdAt", Nanos(p.created_at)},
            {"lastStatusChange", Nanos(p.last_status_change)},
            {"exitReason", ExitReasonName(p.exit_reason)},
            {"exitMessage", p.exit_message},
            {"seed", p.seed},
            {"faultSettings", p.fault_settings},
            {"terminateFailuresLeft", p.terminate_failures_left}};
  PutTime(j, "startedAt", p.started_at);
  PutTime(j, "exitedAt", p.exited_at);
  PutTime(j, "terminatedAt", p.terminated_at);
  if (p.container) j["container"] = ContainerJson(*p.container);
  json& outbox = j["outbox"] = json::array();
  for (const Delivery& d : p.outbox) {
    outbox.push_back({{"webhookId", d.webhook_id},
                      {"body", d.body},
                      {"time", Nanos(d.event_time)}});
  }
  return j;
}

PodRecord PodOf(const json& j) {
  PodRecord p;
  j.at("id").get_to(p.id);
  j.at("name").get_to(p.spec.name);
  j.at("image").get_to(p.spec.image);
  j.at("gpuTypeIds").get_to(p.spec.gpu_type_ids);
  j.at("gpuCount").get_to(p.spec.gpu_count);
  j.at("interruptible").get_to(p.spec.interruptible);
  j.at("env").get_to(p.spec.env);
  j.at("gpuTypeId").get_to(p.gpu_type_id);
  p.status = StatusOf(j.at("status"));
  p.desired_status = StatusOf(j.at("desiredStatus"));
  p.created_at = Time(j.at("createdAt"));
  p.last_status_change = Time(j.at("lastStatusChange"));
  p.started_at = GetTime(j, "startedAt");
  p.exited_at = GetTime(j, "exitedAt");
  p.terminated_at = GetTime(j, "terminatedAt");
  p.exit_reason = ExitReasonOf(j.at("exitReason"));
  j.at("exitMessage").get_to(p.exit_message);
  j.at("seed").get_to(p.seed);
  j.at("faultSettings").get_to(p.fault_settings);
  j.at("terminateFailuresLeft").get_to(p.terminate_failures_left);
  if (j.contains("container")) p.container = ContainerOf(j.at("container"));
  for (const json& d : j.at("outbox")) {
    p.outbox.push_back({.webhook_id = d.at("webhookId").get<std::string>(),
                        .body = d.at("body").get<std::string>(),
                        .event_time = Time(d.at("time"))});
  }
  return p;
}

absl::Status ErrnoError(int error, std::string_view what,
                        const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(ToAbsl(what), " ", path, ": ", std::strerror(error)));
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
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

std::optional<PodStatus> ParsePodStatus(std::string_view name) {
  for (PodStatus s : kStatuses) {
    if (PodStatusName(s) == name) return s;
  }
  return std::nullopt;
}

StateFile::StateFile(std::string dir)
    : dir_(std::move(dir)), path_(dir_ + "/pods.json") {}

absl::StatusOr<std::vector<PodRecord>> StateFile::Load() const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec) && !ec) {
    return std::vector<PodRecord>();
  }
  std::ifstream in(path_);
  if (!in) return ErrnoError(errno, "cannot read gpusim state", path_);
  std::stringstream text;
  text << in.rdbuf();
  try {
    json j = json::parse(text.str());
    if (j.at("version").get<int>() != kVersion) {
      Bad(absl::StrCat("version ", j.at("version").dump(), ", expected ",
                       kVersion));
    }
    std::vector<PodRecord> pods;
    for (const json& p : j.at("pods")) pods.push_back(PodOf(p));
    return pods;
  } catch (const json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("gpusim state ", path_, " is unreadable: ", e.what()));
  } catch (const BadState& e) {
    return absl::DataLossError(
        absl::StrCat("gpusim state ", path_, " is unreadable: ", e.what()));
  }
}

absl::Status StateFile::Save(const std::vector<PodRecord>& pods) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create gpusim state directory ", dir_, ": ", ec.message()));
  }
  json j = {{"version", kVersion}, {"pods", json::array()}};
  for (const PodRecord& p : pods) j["pods"].push_back(PodJson(p));
  std::string text = JsonText(j);  // env values may not be UTF-8
  text.push_back('\n');

  const std::string temp = path_ + ".tmp";
  const int fd =
      ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, "cannot write gpusim state", temp);
  const bool written = WriteAll(fd, text) && ::fsync(fd) == 0;
  const int write_error = errno;
  ::close(fd);
  if (!written)
    return ErrnoError(write_error, "cannot write gpusim state", temp);
  if (std::rename(temp.c_str(), path_.c_str()) != 0) {
    return ErrnoError(errno, "cannot replace gpusim state", path_);
  }
  // Make the new directory entry durable too.
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace trainyard::gpusim
