// Copyright 2026 The Trainyard Authors.
//
// File: common/http/method.h
// -----------------------------------------------------------------------------
// The HTTP request methods that Trainyard's HTTP server routes and its client
// sends.

#pragma once

#include <optional>
#include <string_view>

namespace trainyard::http {

// An HTTP request method. The server routes kHead to a kGet handler when the
// path has no kHead handler of its own.
enum class Method {
  kGet,
  kHead,
  kPost,
  kPut,
  kPatch,
  kDelete,
  kOptions,
};

// Number of values of Method; they are numbered from 0 without gaps.
inline constexpr int kNumMethods = 7;

// Returns the method's token as it appears on the request line ("GET").
std::string_view MethodName(Method method);

// Returns the method whose token is `name` (case-sensitive, as HTTP methods
// are), or nullopt if it is not one that Method names.
std::optional<Method> ParseMethod(std::string_view name);

}  // namespace trainyard::http
