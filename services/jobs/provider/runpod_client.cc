// Copyright 2026 Trainyard authors.
#include "services/jobs/provider/runpod_client.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/strings/json.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/jobs/domain/errors.h"

namespace trainyard::jobs {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using http::Method;

constexpr char kRetryAfterKey[] = "retry_after_ms";

std::string Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it != s.fields().end() && it->second.kind_case() == Value::kStringValue
             ? it->second.string_value()
             : "";
}

Pod::Status ParseStatus(std::string_view s) {
  if (s == "PROVISIONING") return Pod::Status::kProvisioning;
  if (s == "STARTING") return Pod::Status::kStarting;
  if (s == "RUNNING") return Pod::Status::kRunning;
  if (s == "EXITED") return Pod::Status::kExited;
  if (s == "TERMINATED") return Pod::Status::kTerminated;
  return Pod::Status::kUnknown;
}

// An RFC 3339 time field; nullopt when absent or unparsable.
std::optional<absl::Time> TimeField(const Struct& s, const std::string& key) {
  const std::string text = Field(s, key);
  absl::Time t;
  std::string error;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return std::nullopt;
  }
  return t;
}

Pod ToPod(const Struct& s) {
  Pod pod;
  pod.id = Field(s, "id");
  pod.name = Field(s, "name");
  pod.status = ParseStatus(Field(s, "status"));
  // Providers that report `status` only as desiredStatus.
  if (pod.status == Pod::Status::kUnknown) {
    pod.status = ParseStatus(Field(s, "desiredStatus"));
  }
  pod.exit_reason = Field(s, "exitReason");  // gpusim's; absent at RunPod
  pod.exit_message = Field(s, "exitMessage");
  pod.created_at = TimeField(s, "createdAt");
  for (const char* key : {"exitedAt", "terminatedAt"}) {
    std::optional<absl::Time> t = TimeField(s, key);
    if (t && (!pod.ended_at || *t < *pod.ended_at)) pod.ended_at = t;
  }
  return pod;
}

absl::StatusOr<Value> ParseJson(std::string_view body) {
  Value v;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &v);
  if (!st.ok()) {
    return absl::InternalError(
        absl::StrCat("provider answered with malformed JSON: ",
                     std::string(st.message().data(), st.message().size())));
  }
  return v;
}

absl::StatusOr<Pod> ParsePod(std::string_view body) {
  ASSIGN_OR_RETURN(Value v, ParseJson(body));
  if (v.kind_case() != Value::kStructValue) {
    return absl::InternalError("provider answered with a non-object pod");
  }
  return ToPod(v.struct_value());
}

// The provider's error text: {"error": "..."} when it sent one.
std::string ErrorText(const http::HttpResponse& r) {
  auto v = ParseJson(r.body);
  if (v.ok() && v->kind_case() == Value::kStructValue) {
    std::string text = Field(v->struct_value(), "error");
    std::string field = Field(v->struct_value(), "field");
    if (!text.empty()) {
      return field.empty() ? text : absl::StrCat(field, ": ", text);
    }
  }
  return r.body.substr(0, 200);
}

// A final (not retried) 4xx as a status.
absl::Status ClientError(const http::HttpResponse& r) {
  std::string msg =
      absl::StrCat("provider answered ", r.status, ": ", ErrorText(r));
  switch (r.status) {
    case 401:
      return absl::UnauthenticatedError(msg);
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    case 409:
      return absl::FailedPreconditionError(msg);
    default:
      return WithReason(absl::InvalidArgumentError(msg),
                        kReasonProviderRejected);
  }
}

absl::Duration ParseRetryAfter(const http::HttpResponse& r) {
  const std::string* h = r.FindHeader("retry-after");
  int64_t seconds = 0;
  if (h != nullptr && absl::SimpleAtoi(*h, &seconds) && seconds >= 0) {
    return absl::Seconds(seconds);
  }
  return absl::ZeroDuration();
}

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

// Percent-encodes a query value (pod names are [A-Za-z0-9_-], but be safe).
std::string QueryEscape(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string_view ProviderGpuId(common::v1::GpuType type) {
  switch (type) {
    case common::v1::GPU_TYPE_H100_80GB:
      return "NVIDIA H100 80GB HBM3";
    case common::v1::GPU_TYPE_A100_80GB:
      return "NVIDIA A100-SXM4-80GB";
    case common::v1::GPU_TYPE_L40S:
      return "NVIDIA L40S";
    case common::v1::GPU_TYPE_RTX_A6000:
      return "NVIDIA RTX A6000";
    case common::v1::GPU_TYPE_RTX_4090:
      return "NVIDIA GeForce RTX 4090";
    default:
      return "";
  }
}

absl::Duration RetryAfter(const absl::Status& status) {
  auto meta = ErrorMetadata(status);
  auto it = meta.find(kRetryAfterKey);
  int64_t ms = 0;
  if (it == meta.end() || !absl::SimpleAtoi(it->second, &ms)) {
    return absl::ZeroDuration();
  }
  return absl::Milliseconds(ms);
}

RunPodClient::RunPodClient(RunPodOptions options)
    : options_(std::move(options)) {
  http::HttpClientOptions http;
  http.connect_timeout = options_.call_timeout;
  http.read_timeout = options_.call_timeout;
  http.write_timeout = options_.call_timeout;
  http.bearer_token = options_.api_key;
  for (int i = 0; i < std::max(1, options_.connections); ++i) {
    connections_.push_back(
        std::make_unique<http::HttpClient>(options_.base_url, http));
  }
}

http::HttpClient& RunPodClient::NextConnection() {
  return *connections_[next_.fetch_add(1) % connections_.size()];
}

absl::StatusOr<http::HttpResponse> RunPodClient::Call(Method method,
                                                      const std::string& path,
                                                      const std::string& body) {
  absl::BitGen rng;
  absl::Duration backoff = options_.backoff_initial;
  absl::Status last;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<http::HttpResponse> r = NextConnection().Send(
        method, path, {}, body, body.empty() ? "" : "application/json");
    absl::Duration wait = absl::ZeroDuration();
    if (!r.ok()) {
      if (!Retryable(r.status())) return r.status();
      last = r.status();
    } else if (r->status >= 200 && r->status < 300) {
      return r;
    } else if (r->status == 429) {
      const absl::Duration retry_after = ParseRetryAfter(*r);
      last =
          WithReason(absl::ResourceExhaustedError(absl::StrCat(
                         "provider answered 429: ", ErrorText(*r))),
                     kReasonProviderRateLimited,
                     {{kRetryAfterKey,
                       absl::StrCat(absl::ToInt64Milliseconds(retry_after))}});
      if (retry_after > options_.max_retry_after_wait) return last;
      wait = retry_after;
    } else if (r->status >= 500) {
      last = absl::UnavailableError(
          absl::StrCat("provider answered ", r->status, ": ", ErrorText(*r)));
    } else {
      return ClientError(*r);
    }
    if (attempt >= options_.max_attempts) return last;
    if (wait == absl::ZeroDuration()) {
      // Equal jitter: half the back-off fixed, half random.
      wait = backoff / 2 + absl::Uniform(rng, 0.0, 1.0) * (backoff / 2);
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    absl::SleepFor(wait);
  }
}

std::string RunPodClient::CreateBody(const PodRequest& req) {
  nlohmann::ordered_json env = nlohmann::ordered_json::object();
  for (const auto& [key, value] : req.env) env[key] = value;
  return JsonText(nlohmann::ordered_json{
      {"name", req.name},
      {"image", req.image},
      {"gpu", {{"id", ProviderGpuId(req.gpu_type)}, {"count", req.gpu_count}}},
      {"interruptible", req.interruptible},
      {"env", std::move(env)}});
}

absl::StatusOr<Pod> RunPodClient::CreatePod(const PodRequest& request) {
  // Adopt first: a create whose answer was lost must not make a second pod.
  ASSIGN_OR_RETURN(std::optional<Pod> existing, FindPodByName(request.name));
  if (existing) return *existing;
  ASSIGN_OR_RETURN(http::HttpResponse r,
                   Call(Method::kPost, "/v2/pods", CreateBody(request)));
  return ParsePod(r.body);
}

absl::StatusOr<Pod> RunPodClient::GetPod(std::string_view pod_id) {
  ASSIGN_OR_RETURN(
      http::HttpResponse r,
      Call(Method::kGet, absl::StrCat("/v2/pods/", QueryEscape(pod_id)), ""));
  return ParsePod(r.body);
}

absl::StatusOr<std::optional<Pod>> RunPodClient::FindPodByName(
    std::string_view name) {
  ASSIGN_OR_RETURN(http::HttpResponse r,
                   Call(Method::kGet,
                        absl::StrCat("/v2/pods?name=", QueryEscape(name)), ""));
  ASSIGN_OR_RETURN(Value v, ParseJson(r.body));
  if (v.kind_case() != Value::kListValue) {
    return absl::InternalError("provider answered a non-array pod list");
  }
  std::optional<Pod> found;
  for (const Value& item : v.list_value().values()) {
    if (item.kind_case() != Value::kStructValue) continue;
    Pod pod = ToPod(item.struct_value());
    // The filter is exact at RunPod and gpusim; check anyway.
    if (pod.name != name || pod.status == Pod::Status::kTerminated) continue;
    found = std::move(pod);  // the list is oldest first: keep the newest
  }
  return found;
}

absl::Status RunPodClient::StopPod(std::string_view pod_id) {
  return Call(Method::kPost,
              absl::StrCat("/v2/pods/", QueryEscape(pod_id), "/stop"), "")
      .status();
}

absl::Status RunPodClient::DeletePod(std::string_view pod_id) {
  absl::Status s =
      Call(Method::kDelete, absl::StrCat("/v2/pods/", QueryEscape(pod_id)), "")
          .status();
  return s.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : s;
}

}  // namespace trainyard::jobs
