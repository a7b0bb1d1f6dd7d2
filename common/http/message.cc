// Copyright 2026 The Trainyard Authors.

#include "common/http/message.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "common/strings/json.h"

namespace trainyard::http {

const std::string* FindHeader(const HttpHeaders& headers,
                              std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, ToAbsl(name))) return &value;
  }
  return nullptr;
}

const std::string* FindParam(const HttpParams& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  const std::string* value = FindHeader(name);
  return value == nullptr ? std::string_view() : std::string_view(*value);
}

std::string_view HttpRequest::PathParam(std::string_view name) const {
  const std::string* value = FindParam(path_params, name);
  return value == nullptr ? std::string_view() : std::string_view(*value);
}

void HttpResponse::SetHeader(std::string_view name, std::string_view value) {
  std::erase_if(headers, [name](const auto& field) {
    return absl::EqualsIgnoreCase(field.first, ToAbsl(name));
  });
  headers.emplace_back(std::string(name), std::string(value));
}

void HttpResponse::SetRetryAfter(absl::Duration delay) {
  int64_t seconds = 0;
  if (delay > absl::ZeroDuration()) {
    seconds = absl::ToInt64Seconds(absl::Ceil(delay, absl::Seconds(1)));
  }
  SetHeader("Retry-After", absl::StrCat(seconds));
}

HttpResponse JsonError(int status, std::string_view message,
                       std::string_view field, std::string_view reason) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  body.emplace("error", message);
  if (!field.empty()) body.emplace("field", field);
  if (!reason.empty()) body.emplace("reason", reason);
  response.body = JsonText(body);
  return response;
}

}  // namespace trainyard::http
