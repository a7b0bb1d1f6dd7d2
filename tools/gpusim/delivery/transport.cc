// Copyright 2026 Trainyard authors.
#include "tools/gpusim/delivery/transport.h"

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::gpusim {

absl::Status SplitUrl(std::string_view url, std::string* origin,
                      std::string* path) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos || scheme == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an absolute URL: ", ToAbsl(url)));
  }
  size_t slash = url.find_first_of("/?", scheme + 3);
  if (slash == std::string_view::npos) {
    origin->assign(url);
    path->assign("/");
  } else {
    origin->assign(url.substr(0, slash));
    path->clear();
    if (url[slash] != '/') path->push_back('/');
    path->append(url.substr(slash));
  }
  return absl::OkStatus();
}

HttpTransport::HttpTransport(http::HttpClientOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<http::HttpResponse> HttpTransport::Post(
    const std::string& url, const http::HttpHeaders& headers,
    const std::string& body) {
  std::string origin, path;
  if (absl::Status s = SplitUrl(url, &origin, &path); !s.ok()) return s;
  std::unique_ptr<http::HttpClient> client;
  {
    absl::MutexLock lock(&mu_);
    auto& idle = idle_[origin];
    if (!idle.empty()) {
      client = std::move(idle.back());
      idle.pop_back();
    }
  }
  if (client == nullptr) {
    client = std::make_unique<http::HttpClient>(origin, options_);
  }
  absl::StatusOr<http::HttpResponse> response = client->Send(
      http::Method::kPost, path, headers, body, "application/json");
  if (response.ok()) {  // a broken connection's client is not reused
    absl::MutexLock lock(&mu_);
    idle_[origin].push_back(std::move(client));
  }
  return response;
}

}  // namespace trainyard::gpusim
