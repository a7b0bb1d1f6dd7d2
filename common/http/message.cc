// Copyright 2026 The Trainyard Authors.

#include "common/http/message.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

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
                       std::string_view field) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  std::string& body = response.body;
  body.reserve(16 + message.size() + field.size() + (field.empty() ? 0 : 11));
  body.append("{\"error\":");
  AppendJsonString(message, &body);
  if (!field.empty()) {
    body.append(",\"field\":");
    AppendJsonString(field, &body);
  }
  body.push_back('}');
  return response;
}

namespace {

// Returns the length of the well-formed UTF-8 sequence at the start of `s`
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&s](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto continuation = [&](size_t i) {
    return i < s.size() && (byte(i) & 0xC0) == 0x80;
  };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // Overlong.
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // Surrogate.
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // Overlong.
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // Above U+10FFFF.
    return 4;
  }
  return 0;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          const char escape[] = {'\\', 'u',          '0',
                                 '0',  kHex[c >> 4], kHex[c & 0xF]};
          out->append(escape, sizeof(escape));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace trainyard::http
