// Copyright 2026 Trainyard authors.
#include "tools/gpusim/api/pods_api.h"

#include <openssl/crypto.h>

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/strings/json.h"
#include "nlohmann/json.hpp"
#include "tools/gpusim/api/json_body.h"
#include "tools/gpusim/api/pod_json.h"

namespace trainyard::gpusim {
namespace {

using http::HttpRequest;
using http::HttpResponse;

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Reads POST /v2/pods in RunPod REST v2's shape: `name` and `image`
// required, the GPU selector object `gpu` ({"id": "<GPU type id>", "count":
// N}), `interruptible` for spot, `env`. A `cpu` selector is a 400 (gpusim has
// no CPU pods).
//
// Leniency, kept for clients of the retired REST v1: without `gpu`, the v1
// names are read instead: `imageName` for `image`, `gpuTypeIds` (the first
// known type is rented) or `gpuTypeId`, and `gpuCount`.
absl::StatusOr<PodSpec> ParseCreateBody(std::string_view body) {
  ASSIGN_OR_RETURN(JsonObject json, JsonObject::Parse(body));
  PodSpec spec;
  ASSIGN_OR_RETURN(std::optional<std::string> name, json.String("name"));
  spec.name = name.value_or("");
  ASSIGN_OR_RETURN(std::optional<std::string> image, json.String("image"));
  if (!image) {
    ASSIGN_OR_RETURN(image, json.String("imageName"));  // v1
  }
  if (!image || image->empty()) {
    return InvalidFieldError("image", "required");
  }
  spec.image = *image;
  ASSIGN_OR_RETURN(std::optional<JsonObject> cpu, json.Object("cpu"));
  if (cpu) return InvalidFieldError("cpu", "CPU pods are not simulated");
  ASSIGN_OR_RETURN(std::optional<JsonObject> gpu, json.Object("gpu"));
  std::optional<int64_t> count;
  if (gpu) {
    ASSIGN_OR_RETURN(std::optional<std::string> id, gpu->String("id"));
    if (!id || id->empty()) return InvalidFieldError("gpu.id", "required");
    spec.gpu_type_ids = {*id};
    ASSIGN_OR_RETURN(count, gpu->Int("count"));
  } else {
    ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> gpus,
                     json.StringList("gpuTypeIds"));
    if (!gpus) {
      ASSIGN_OR_RETURN(std::optional<std::string> one,
                       json.String("gpuTypeId"));
      if (one) gpus = std::vector<std::string>{*one};
    }
    if (!gpus || gpus->empty()) return InvalidFieldError("gpu", "required");
    spec.gpu_type_ids = *gpus;
    ASSIGN_OR_RETURN(count, json.Int("gpuCount"));
  }
  spec.gpu_count = count.value_or(1);
  ASSIGN_OR_RETURN(std::optional<bool> spot, json.Bool("interruptible"));
  spec.interruptible = spot.value_or(false);
  ASSIGN_OR_RETURN(auto env, json.StringMap("env"));
  if (env) {
    for (auto& [key, value] : *env) spec.env[key] = std::move(value);
  }
  return spec;
}

// Milliseconds, to the microsecond.
double Ms(absl::Duration d) {
  return std::round(absl::ToDoubleMilliseconds(d) * 1000) / 1000;
}

}  // namespace

HttpResponse ErrorAnswer(const absl::Status& status) {
  int code = 500;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = 400;
      break;
    case absl::StatusCode::kUnauthenticated:
      code = 401;
      break;
    case absl::StatusCode::kNotFound:
      code = 404;
      break;
    case absl::StatusCode::kFailedPrecondition:
      code = 409;
      break;
    case absl::StatusCode::kResourceExhausted:
      code = 429;
      break;
    default:
      break;
  }
  std::vector<FieldViolation> violations = FieldViolations(status);
  HttpResponse r =
      ApiError(code, ToStd(status.message()),
               violations.empty() ? "" : std::string_view(violations[0].field));
  if (code == 429) r.SetRetryAfter(absl::Seconds(30));
  return r;
}

PodsApi::PodsApi(Cloud& cloud, const WebhookSender& sender,
                 const Scheduler& scheduler, ApiOptions options)
    : cloud_(cloud),
      sender_(sender),
      scheduler_(scheduler),
      options_(std::move(options)) {}

bool PodsApi::Authorized(const HttpRequest& request) const {
  if (options_.api_keys.empty()) return true;
  std::string_view header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(ToAbsl(header.substr(0, kBearer.size())),
                              ToAbsl(kBearer))) {
    return false;
  }
  std::string_view key = header.substr(kBearer.size());
  bool ok = false;
  for (const std::string& k : options_.api_keys) {
    ok = ConstantTimeEquals(key, k) || ok;  // no early exit
  }
  return ok;
}

void PodsApi::Register(http::HttpServer& server) {
  using http::Method;
  auto guarded = [this](HttpResponse (PodsApi::*handler)(const HttpRequest&)) {
    return [this, handler](const HttpRequest& request) {
      if (!Authorized(request)) {
        return ApiError(401,
                        "missing or invalid API key (Authorization: "
                        "Bearer <key>)");
      }
      return (this->*handler)(request);
    };
  };
  server.Handle(Method::kPost, "/v2/pods", guarded(&PodsApi::CreatePod));
  server.Handle(Method::kGet, "/v2/pods", guarded(&PodsApi::ListPods));
  server.Handle(Method::kGet, "/v2/pods/{id}", guarded(&PodsApi::GetPod));
  server.Handle(Method::kPost, "/v2/pods/{id}/stop",
                guarded(&PodsApi::StopPod));
  server.Handle(Method::kDelete, "/v2/pods/{id}", guarded(&PodsApi::DeletePod));
  server.Handle(Method::kPost, "/admin/pods/{id}/faults",
                guarded(&PodsApi::SetFaults));
  server.Handle(Method::kPost, "/admin/pods/{id}/interrupt",
                guarded(&PodsApi::InterruptPod));
  server.Handle(Method::kGet, "/admin/stats", guarded(&PodsApi::Stats));
  server.Handle(Method::kGet, "/healthz", [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain";
    r.body = "ok\n";
    return r;
  });
}

HttpResponse PodsApi::CreatePod(const HttpRequest& request) {
  absl::StatusOr<PodSpec> spec = ParseCreateBody(request.body);
  if (!spec.ok()) return ErrorAnswer(spec.status());
  absl::StatusOr<PodView> pod = cloud_.Create(*std::move(spec));
  if (!pod.ok()) return ErrorAnswer(pod.status());
  return JsonAnswer(PodJson(*pod), 201);
}

HttpResponse PodsApi::ListPods(const HttpRequest& request) {
  const std::string* status = request.FindQueryParam("status");
  const std::string* name = request.FindQueryParam("name");
  if (status != nullptr) {
    bool known = false;
    for (PodStatus s :
         {PodStatus::kProvisioning, PodStatus::kStarting, PodStatus::kRunning,
          PodStatus::kExited, PodStatus::kTerminated}) {
      known = known || PodStatusName(s) == *status;
    }
    if (!known) {
      return ApiError(400,
                      "status must be PROVISIONING, STARTING, RUNNING, "
                      "EXITED or TERMINATED",
                      "status");
    }
  }
  std::vector<PodView> pods = cloud_.List();
  std::erase_if(pods, [&](const PodView& p) {
    return (status != nullptr && PodStatusName(p.status) != *status) ||
           (name != nullptr && p.spec.name != *name);
  });
  return JsonAnswer(PodListJson(pods));
}

HttpResponse PodsApi::GetPod(const HttpRequest& request) {
  absl::StatusOr<PodView> pod = cloud_.Get(request.PathParam("id"));
  if (!pod.ok()) return ErrorAnswer(pod.status());
  return JsonAnswer(PodJson(*pod));
}

HttpResponse PodsApi::StopPod(const HttpRequest& request) {
  absl::StatusOr<PodView> pod = cloud_.Stop(request.PathParam("id"));
  if (!pod.ok()) return ErrorAnswer(pod.status());
  return JsonAnswer(PodJson(*pod));
}

HttpResponse PodsApi::DeletePod(const HttpRequest& request) {
  absl::Status status = cloud_.Terminate(request.PathParam("id"));
  if (!status.ok()) return ErrorAnswer(status);
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse PodsApi::SetFaults(const HttpRequest& request) {
  absl::StatusOr<JsonObject> json = JsonObject::Parse(request.body);
  if (!json.ok()) return ErrorAnswer(json.status());
  std::vector<std::pair<std::string, std::string>> settings;
  for (const std::string& key : json->Keys()) {
    absl::StatusOr<std::optional<std::string>> value = json->Scalar(key);
    if (!value.ok()) return ErrorAnswer(value.status());
    if (*value) settings.emplace_back(key, **value);
  }
  absl::StatusOr<PodView> pod =
      cloud_.SetFaults(request.PathParam("id"), settings);
  if (!pod.ok()) return ErrorAnswer(pod.status());
  return JsonAnswer(PodJson(*pod));
}

HttpResponse PodsApi::InterruptPod(const HttpRequest& request) {
  absl::StatusOr<PodView> pod = cloud_.Interrupt(request.PathParam("id"));
  if (!pod.ok()) return ErrorAnswer(pod.status());
  return JsonAnswer(PodJson(*pod));
}

HttpResponse PodsApi::Stats(const HttpRequest&) {
  CloudCounts counts = cloud_.Counts();
  SenderStats s = sender_.Stats();
  LatencyHistogram lag = scheduler_.Lag();
  nlohmann::ordered_json pods;
  for (PodStatus st :
       {PodStatus::kProvisioning, PodStatus::kStarting, PodStatus::kRunning,
        PodStatus::kExited, PodStatus::kTerminated}) {
    pods[std::string(PodStatusName(st))] = counts.by_status[st];
  }
  pods["active"] = counts.active;
  double scale = options_.time_scale;
  nlohmann::ordered_json body = {
      {"pods", std::move(pods)},
      {"webhooks",
       {{"enqueued", s.enqueued},
        {"delivered", s.delivered},
        {"attempts", s.attempts},
        {"retries", s.retries},
        {"connectionErrors", s.connection_errors},
        {"rejected", s.rejected},
        {"dropped", s.dropped},
        {"queued", s.queued},
        {"lagP50WallMs", Ms(s.delivery_lag.Percentile(0.5) / scale)},
        {"lagP99WallMs", Ms(s.delivery_lag.Percentile(0.99) / scale)}}},
      {"scheduler",
       {{"pending", scheduler_.pending()},
        {"lagP99WallMs", Ms(lag.Percentile(0.99) / scale)}}}};
  return JsonAnswer(JsonText(body));
}

}  // namespace trainyard::gpusim
