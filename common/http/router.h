// Copyright 2026 The Trainyard Authors.
//
// File: common/http/router.h
// -----------------------------------------------------------------------------
// Maps (method, path) to a handler by matching path segments against patterns
// such as "/v1/webhooks/runpod/{job_id}". HttpServer uses it; it is public so
// that its rules can be tested on their own.
//
// Matching rules:
//  * A path and a pattern are split at '/'; they match when they have the same
//    number of segments and each literal segment is equal byte for byte and
//    each "{name}" segment is non-empty. There is no prefix matching and no
//    trailing-slash folding: "/healthz/" does not match "/healthz".
//  * When several patterns match, the most specific wins: comparing segment by
//    segment from the left, the first place where one pattern has a literal
//    and the other a parameter decides for the literal. "/v1/jobs/active"
//    beats "/v1/jobs/{id}" for GET /v1/jobs/active.
//  * Only routes that have a handler for the method compete; a HEAD request
//    uses a GET handler when the route has no HEAD handler.
//  * If some pattern matches the path but none has a handler for the method,
//    the result is kMethodNotAllowed with the methods that do exist.
//
// No regular expressions and no allocation on lookup except for the captured
// parameters (and the Allow text of a 405).

#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/http/message.h"
#include "common/http/method.h"

namespace trainyard::http {

// Serves one request. It may be called concurrently from several server
// threads, for the same or different requests, so whatever it touches must be
// thread-safe. It must not throw; if it does anyway, the server answers 500.
using Handler = std::function<HttpResponse(const HttpRequest&)>;

// Thread-safety: Add() requires exclusive access; Find() is const and may be
// called concurrently once all Add() calls are done.
class Router {
 public:
  // The outcome of Find().
  struct Lookup {
    enum class Result { kFound, kNotFound, kMethodNotAllowed };
    Result result = Result::kNotFound;
    // The handler to call when kFound; owned by the Router.
    const Handler* handler = nullptr;
    // For kMethodNotAllowed, the value of the Allow header ("GET, HEAD").
    std::string allow;
  };

  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `handler` for `method` on paths matching `pattern`. Returns
  // kInvalidArgument if the pattern is malformed (it must start with '/'; a
  // parameter segment is "{name}" with name of [A-Za-z0-9_], unique within the
  // pattern; literal segments contain no braces), and kAlreadyExists if the
  // same method is already registered for a pattern of the same shape (equal
  // but for parameter names).
  absl::Status Add(Method method, std::string_view pattern, Handler handler);

  // Finds the handler for `method` and `path` (percent-decoded, no query). On
  // kFound, appends the captured path parameters to `*path_params`.
  Lookup Find(Method method, std::string_view path,
              HttpParams* path_params) const;

 private:
  struct Segment {
    std::string text;  // The literal, or the parameter's name.
    bool is_param = false;
  };
  struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    std::array<Handler, kNumMethods> handlers;
  };

  static bool SameShape(const Route& a, const std::vector<Segment>& b);
  // True if `a` beats `b` under the specificity rule; both match one path.
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

}  // namespace trainyard::http
