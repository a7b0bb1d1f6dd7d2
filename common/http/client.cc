// Copyright 2026 The Trainyard Authors.

#include "common/http/client.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::http {
namespace {

struct ParsedUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:7113", as httplib wants.
  std::string path_prefix;       // "" or "/v1", no trailing '/'.
};

bool ConsumePrefix(std::string_view* text, std::string_view prefix) {
  if (!text->starts_with(prefix)) return false;
  text->remove_prefix(prefix.size());
  return true;
}

absl::StatusOr<ParsedUrl> ParseBaseUrl(std::string_view url) {
  const auto bad = [url](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad base URL \"", ToAbsl(url), "\": ", ToAbsl(why)));
  };
  std::string_view rest = url;
  std::string_view scheme;
  int default_port = 0;
  if (ConsumePrefix(&rest, "http://")) {
    scheme = "http";
    default_port = 80;
  } else if (ConsumePrefix(&rest, "https://")) {
    scheme = "https";
    default_port = 443;
  } else {
    return bad("want http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view prefix =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (prefix.find_first_of("?#") != std::string_view::npos) {
    return bad("no query or fragment allowed");
  }
  while (prefix.ends_with('/')) prefix.remove_suffix(1);

  std::string_view host = authority;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !ConsumePrefix(&after, ":")) {
      return bad("junk after IPv6 address");
    }
    port_text = after;
  } else if (const size_t colon = authority.rfind(':');
             colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (port_text.empty()) return bad("empty port");
  }
  if (host.empty() || host == "[]") return bad("no host");
  if (host.find_first_of("@ ") != std::string_view::npos) {
    return bad("user info and spaces are not supported");
  }
  int port = default_port;
  if (!port_text.empty() &&
      (port_text.size() > 5 ||
       !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
       !absl::SimpleAtoi(ToAbsl(port_text), &port) || port < 1 ||
       port > 65535)) {
    return bad("port must be 1..65535");
  }
  return ParsedUrl{absl::StrCat(ToAbsl(scheme), "://", ToAbsl(host), ":", port),
                   std::string(prefix)};
}

absl::Status TransportError(httplib::Error error, const std::string& what) {
  const std::string message =
      absl::StrCat(what, " failed: ", httplib::to_string(error));
  switch (error) {
    case httplib::Error::ConnectionTimeout:
      return absl::DeadlineExceededError(message);
    case httplib::Error::Canceled:
      return absl::CancelledError(message);
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return absl::FailedPreconditionError(message);
    case httplib::Error::UnsupportedMultipartBoundaryChars:
      return absl::InvalidArgumentError(message);
    default:
      // Connection, Read, Write, SSLConnection, ...: nothing came back.
      return absl::UnavailableError(message);
  }
}

}  // namespace

struct HttpClient::Impl {
  std::string base_url;
  absl::Status url_status;
  std::string path_prefix;
  std::unique_ptr<httplib::Client> client;
};

HttpClient::HttpClient(std::string base_url, HttpClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->base_url = std::move(base_url);
  absl::StatusOr<ParsedUrl> url = ParseBaseUrl(impl_->base_url);
  if (!url.ok()) {
    impl_->url_status = url.status();
    return;
  }
  impl_->path_prefix = std::move(url->path_prefix);
  try {
    impl_->client = std::make_unique<httplib::Client>(url->scheme_host_port);
  } catch (const std::exception& e) {
    impl_->url_status = absl::InvalidArgumentError(
        absl::StrCat("bad base URL \"", impl_->base_url, "\": ", e.what()));
    return;
  }
  if (!impl_->client->is_valid()) {
    impl_->url_status = absl::InvalidArgumentError(
        absl::StrCat("bad base URL \"", impl_->base_url, "\""));
    impl_->client.reset();
    return;
  }
  httplib::Client& client = *impl_->client;
  client.set_connection_timeout(
      absl::ToChronoMicroseconds(options.connect_timeout));
  client.set_read_timeout(absl::ToChronoMicroseconds(options.read_timeout));
  client.set_write_timeout(absl::ToChronoMicroseconds(options.write_timeout));
  client.set_keep_alive(options.keep_alive);
  // httplib writes a request's headers and body separately; with Nagle on,
  // the body waits for the server's delayed ACK (~40 ms a request).
  client.set_tcp_nodelay(true);
  // Paths are sent as the caller wrote them (already escaped).
  client.set_url_encode(false);
  httplib::Headers headers;
  for (const auto& [name, value] : options.default_headers) {
    headers.emplace(name, value);
  }
  client.set_default_headers(std::move(headers));
  if (!options.bearer_token.empty()) {
    client.set_bearer_token_auth(options.bearer_token);
  }
  if (!options.ca_cert_path.empty()) {
    client.set_ca_cert_path(options.ca_cert_path);
  }
}

HttpClient::~HttpClient() = default;

const std::string& HttpClient::base_url() const { return impl_->base_url; }

absl::StatusOr<HttpResponse> HttpClient::Send(Method method,
                                              std::string_view path,
                                              const HttpHeaders& headers,
                                              std::string_view body,
                                              std::string_view content_type) {
  if (!impl_->url_status.ok()) return impl_->url_status;
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "request path must start with '/': \"", ToAbsl(path), "\""));
  }
  const std::string what = absl::StrCat(ToAbsl(MethodName(method)), " ",
                                        impl_->base_url, ToAbsl(path));
  try {
    httplib::Request request;
    request.method = std::string(MethodName(method));
    request.path = absl::StrCat(impl_->path_prefix, ToAbsl(path));
    for (const auto& [name, value] : headers) {
      request.headers.emplace(name, value);
    }
    if (!content_type.empty()) {
      request.set_header("Content-Type", std::string(content_type));
    }
    request.body = std::string(body);

    httplib::Result result = impl_->client->send(request);
    if (!result) return TransportError(result.error(), what);

    httplib::Response& native = result.value();
    HttpResponse response;
    response.status = native.status;
    response.content_type = native.get_header_value("Content-Type");
    response.body = std::move(native.body);
    response.headers.reserve(native.headers.size());
    for (auto& [name, value] : native.headers) {
      response.headers.emplace_back(name, value);
    }
    return response;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, " failed: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, " failed"));
  }
}

}  // namespace trainyard::http
