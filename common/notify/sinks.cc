// Copyright 2026 Trainyard authors.
#include "common/notify/sinks.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings/json.h"

namespace trainyard::notify {
namespace {

// "https://hooks.example/services/T/B" -> origin and path ("/" when none).
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace

std::string SlackBody(const Notification& n) {
  return JsonText(nlohmann::ordered_json{{"text", n.text}});
}

std::string JsonLine(const Notification& n) {
  nlohmann::ordered_json line{
      {"time",
       absl::FormatTime(absl::RFC3339_full, n.time, absl::UTCTimeZone())},
      {"kind", n.kind},
      {"job_id", n.job_id},
      {"recipient", n.recipient},
      {"text", n.text},
      {"destination", n.destination}};
  if (!n.id.empty()) line["id"] = n.id;
  return JsonText(line);
}

WebhookSink::WebhookSink(std::string default_url,
                         http::HttpClientOptions options)
    : default_url_(std::move(default_url)), options_(std::move(options)) {}

http::HttpClient& WebhookSink::ClientFor(const std::string& origin) {
  auto& client = clients_[origin];
  if (client == nullptr) {
    client = std::make_unique<http::HttpClient>(origin, options_);
  }
  return *client;
}

absl::Status WebhookSink::Deliver(const Notification& n) {
  const bool own = absl::StartsWith(n.destination, "http://") ||
                   absl::StartsWith(n.destination, "https://");
  const std::string& url = own ? n.destination : default_url_;
  if (url.empty()) {
    return absl::FailedPreconditionError("no webhook URL for this recipient");
  }
  auto [origin, path] = SplitUrl(url);
  absl::StatusOr<http::HttpResponse> r = ClientFor(origin).Send(
      http::Method::kPost, path, {}, SlackBody(n), "application/json");
  if (!r.ok()) return r.status();
  if (r->status >= 200 && r->status < 300) return absl::OkStatus();
  std::string what = absl::StrCat("webhook answered ", r->status);
  if (r->status == 429 || r->status >= 500) {
    return absl::UnavailableError(what);
  }
  return absl::FailedPreconditionError(what);
}

JsonlFileSink::JsonlFileSink(std::string path) : path_(std::move(path)) {}

absl::Status JsonlFileSink::Deliver(const Notification& n) {
  std::string line = JsonLine(n) + "\n";
  FILE* f = std::fopen(path_.c_str(), "a");
  if (f == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot open ", path_));
  }
  bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

}  // namespace trainyard::notify
