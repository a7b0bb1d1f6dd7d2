// Copyright 2026 Trainyard authors.
#include "tools/gpusim/api/pod_json.h"

#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "common/strings/json.h"
#include "nlohmann/json.hpp"

namespace trainyard::gpusim {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

bool IsSecretName(std::string_view name) {
  for (std::string_view suffix : {"_SECRET", "_TOKEN", "_KEY", "_PASSWORD"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

// Field order as RunPod's (and as before): ordered_json keeps insertion order.
using Json = nlohmann::ordered_json;

// Bytes that are not UTF-8 (a client's env value) become U+FFFD.
std::string Dump(const Json& j) { return JsonText(j); }

void PutTime(Json& j, const char* key, const std::optional<absl::Time>& t) {
  if (t) j[key] = Rfc3339(*t);
}

Json PodObject(const PodView& pod) {
  // Four significant digits, as a price list shows it.
  double cost = std::stod(absl::StrFormat("%.4g", pod.cost_per_hr));
  Json env = Json::object();
  for (const auto& [name, value] : pod.spec.env) {
    env[name] = IsSecretName(name) ? "<redacted>" : value;
  }
  Json j = {{"id", pod.id},
            {"name", pod.spec.name},
            {"image", pod.spec.image},
            {"imageName", pod.spec.image},
            {"desiredStatus", PodStatusName(pod.desired_status)},
            {"status", PodStatusName(pod.status)},
            {"costPerHr", cost},
            {"adjustedCostPerHr", cost},
            {"gpuCount", pod.spec.gpu_count},
            {"gpuTypeId", pod.gpu->id},
            {"gpu",
             {{"id", pod.gpu->id},
              {"count", pod.spec.gpu_count},
              {"displayName", pod.gpu->display_name},
              {"memoryInGb", pod.gpu->memory_bytes >> 30}}},
            {"interruptible", pod.spec.interruptible},
            {"machineId", "gpusim"},
            {"env", std::move(env)},
            {"createdAt", Rfc3339(pod.created_at)}};
  PutTime(j, "lastStartedAt", pod.started_at);
  j["lastStatusChange"] = Rfc3339(pod.last_status_change);
  PutTime(j, "exitedAt", pod.exited_at);
  PutTime(j, "terminatedAt", pod.terminated_at);
  if (pod.exit_reason != ExitReason::kNone) {
    j["exitReason"] = ExitReasonName(pod.exit_reason);
  }
  if (!pod.exit_message.empty()) j["exitMessage"] = pod.exit_message;
  if (pod.progress) {
    const ContainerProgress& p = *pod.progress;
    j["simulation"] = {{"stage", StageName(p.stage)},
                       {"step", p.step},
                       {"totalSteps", p.total_steps},
                       {"epoch", p.epoch},
                       {"attempt", p.attempt},
                       {"lastCheckpointStep", p.last_checkpoint_step},
                       {"events", p.events},
                       {"webhooksPending", pod.webhooks_pending},
                       {"stalled", p.stalled}};
  }
  return j;
}

}  // namespace

std::string PodJson(const PodView& pod) { return Dump(PodObject(pod)); }

std::string PodListJson(const std::vector<PodView>& pods) {
  Json list = Json::array();
  for (const PodView& pod : pods) list.push_back(PodObject(pod));
  return Dump(list);
}

http::HttpResponse ApiError(int status, std::string_view message,
                            std::string_view field) {
  Json j = {{"error", message}, {"status", status}};
  if (!field.empty()) j["field"] = field;
  return JsonAnswer(Dump(j), status);
}

http::HttpResponse JsonAnswer(std::string body, int status) {
  http::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace trainyard::gpusim
