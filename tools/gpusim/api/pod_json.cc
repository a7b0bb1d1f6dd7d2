// Copyright 2026 Trainyard authors.
#include "tools/gpusim/api/pod_json.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings/json.h"

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

// Appends `"key":` (after a comma unless first).
class Fields {
 public:
  explicit Fields(std::string* out) : out_(out) {}
  std::string* Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(key, out_);
    out_->push_back(':');
    return out_;
  }
  void String(std::string_view key, std::string_view value) {
    AppendJsonString(value, Key(key));
  }
  void Raw(std::string_view key, std::string_view json) {
    Key(key)->append(json);
  }
  void Time(std::string_view key, const std::optional<absl::Time>& t) {
    if (t) String(key, Rfc3339(*t));
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

std::string PodJson(const PodView& pod) {
  std::string out = "{";
  Fields f(&out);
  f.String("id", pod.id);
  f.String("name", pod.spec.name);
  f.String("image", pod.spec.image);
  f.String("imageName", pod.spec.image);
  f.String("desiredStatus", PodStatusName(pod.desired_status));
  f.String("status", PodStatusName(pod.status));
  std::string cost = absl::StrFormat("%.4g", pod.cost_per_hr);
  f.Raw("costPerHr", cost);
  f.Raw("adjustedCostPerHr", cost);
  f.Raw("gpuCount", absl::StrCat(pod.spec.gpu_count));
  f.String("gpuTypeId", pod.gpu->id);
  {
    std::string* gpu = f.Key("gpu");
    gpu->push_back('{');
    Fields g(gpu);
    g.String("id", pod.gpu->id);
    g.Raw("count", absl::StrCat(pod.spec.gpu_count));
    g.String("displayName", pod.gpu->display_name);
    g.Raw("memoryInGb", absl::StrCat(pod.gpu->memory_bytes >> 30));
    gpu->push_back('}');
  }
  f.Raw("interruptible", pod.spec.interruptible ? "true" : "false");
  f.String("machineId", "gpusim");
  {
    std::string* env = f.Key("env");
    env->push_back('{');
    Fields e(env);
    for (const auto& [name, value] : pod.spec.env) {
      e.String(name, IsSecretName(name) ? "<redacted>" : value);
    }
    env->push_back('}');
  }
  f.String("createdAt", Rfc3339(pod.created_at));
  f.Time("lastStartedAt", pod.started_at);
  f.String("lastStatusChange", Rfc3339(pod.last_status_change));
  f.Time("exitedAt", pod.exited_at);
  f.Time("terminatedAt", pod.terminated_at);
  if (pod.exit_reason != ExitReason::kNone) {
    f.String("exitReason", ExitReasonName(pod.exit_reason));
  }
  if (!pod.exit_message.empty()) f.String("exitMessage", pod.exit_message);
  if (pod.progress) {
    const ContainerProgress& p = *pod.progress;
    std::string* sim = f.Key("simulation");
    sim->push_back('{');
    Fields s(sim);
    s.String("stage", StageName(p.stage));
    s.Raw("step", absl::StrCat(p.step));
    s.Raw("totalSteps", absl::StrCat(p.total_steps));
    s.Raw("epoch", absl::StrCat(p.epoch));
    s.Raw("attempt", absl::StrCat(p.attempt));
    s.Raw("lastCheckpointStep", absl::StrCat(p.last_checkpoint_step));
    s.Raw("events", absl::StrCat(p.events));
    s.Raw("webhooksPending", absl::StrCat(pod.webhooks_pending));
    s.Raw("stalled", p.stalled ? "true" : "false");
    sim->push_back('}');
  }
  out.push_back('}');
  return out;
}

std::string PodListJson(const std::vector<PodView>& pods) {
  std::string out = "[";
  for (size_t i = 0; i < pods.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(PodJson(pods[i]));
  }
  out.push_back(']');
  return out;
}

http::HttpResponse ApiError(int status, std::string_view message,
                            std::string_view field) {
  std::string body = "{";
  Fields f(&body);
  f.String("error", message);
  f.Raw("status", absl::StrCat(status));
  if (!field.empty()) f.String("field", field);
  body.push_back('}');
  return JsonAnswer(std::move(body), status);
}

http::HttpResponse JsonAnswer(std::string body, int status) {
  http::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace trainyard::gpusim
