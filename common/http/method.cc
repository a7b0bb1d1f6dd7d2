// Copyright 2026 The Trainyard Authors.

#include "common/http/method.h"

namespace trainyard::http {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
  }
  return "GET";  // Unreachable: the switch covers every enumerator.
}

std::optional<Method> ParseMethod(std::string_view name) {
  // Ordered by how often each one arrives at our servers.
  if (name == "POST") return Method::kPost;
  if (name == "GET") return Method::kGet;
  if (name == "HEAD") return Method::kHead;
  if (name == "PUT") return Method::kPut;
  if (name == "PATCH") return Method::kPatch;
  if (name == "DELETE") return Method::kDelete;
  if (name == "OPTIONS") return Method::kOptions;
  return std::nullopt;
}

}  // namespace trainyard::http
