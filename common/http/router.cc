// Copyright 2026 The Trainyard Authors.

#include "common/http/router.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::http {
namespace {

// Splits "/a/b" into {"a", "b"}; "/" gives {""}. REQUIRES: path[0] == '/'.
template <typename Container>
void SplitSegments(std::string_view path, Container* out) {
  size_t begin = 1;
  for (;;) {
    const size_t end = path.find('/', begin);
    if (end == std::string_view::npos) {
      out->push_back(path.substr(begin));
      return;
    }
    out->push_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
}

bool IsParamNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

}  // namespace

absl::Status Router::Add(Method method, std::string_view pattern,
                         Handler handler) {
  if (pattern.empty() || pattern[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "route pattern must start with '/': \"", ToAbsl(pattern), "\""));
  }
  if (handler == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("null handler for route ", ToAbsl(pattern)));
  }
  std::vector<std::string_view> parts;
  SplitSegments(pattern, &parts);
  std::vector<Segment> segments;
  segments.reserve(parts.size());
  for (std::string_view part : parts) {
    Segment segment;
    if (!part.empty() && part.front() == '{') {
      std::string_view name = part.substr(1);
      if (name.empty() || name.back() != '}') {
        return absl::InvalidArgumentError(
            absl::StrCat("unterminated parameter \"", ToAbsl(part),
                         "\" in route ", ToAbsl(pattern)));
      }
      name.remove_suffix(1);
      if (name.empty() ||
          !std::all_of(name.begin(), name.end(), IsParamNameChar)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad parameter \"", ToAbsl(part), "\" in route ", ToAbsl(pattern),
            " (want {name} with name of letters, digits and '_')"));
      }
      for (const Segment& other : segments) {
        if (other.is_param && other.text == name) {
          return absl::InvalidArgumentError(
              absl::StrCat("parameter {", ToAbsl(name),
                           "} appears twice in route ", ToAbsl(pattern)));
        }
      }
      segment.text = std::string(name);
      segment.is_param = true;
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("braces inside literal segment \"", ToAbsl(part),
                         "\" of route ", ToAbsl(pattern)));
      }
      segment.text = std::string(part);
    }
    segments.push_back(std::move(segment));
  }

  const int index = static_cast<int>(method);
  Route* target = nullptr;
  for (Route& route : routes_) {
    if (!SameShape(route, segments)) continue;
    if (route.handlers[index] != nullptr) {
      return absl::AlreadyExistsError(
          absl::StrCat(ToAbsl(MethodName(method)), " ", ToAbsl(pattern),
                       " is already routed (as ", route.pattern, ")"));
    }
    if (route.pattern == pattern) target = &route;
  }
  if (target == nullptr) {
    target = &routes_.emplace_back();
    target->pattern = std::string(pattern);
    target->segments = std::move(segments);
  }
  target->handlers[index] = std::move(handler);
  return absl::OkStatus();
}

bool Router::SameShape(const Route& a, const std::vector<Segment>& b) {
  if (a.segments.size() != b.size()) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    const Segment& x = a.segments[i];
    const Segment& y = b[i];
    if (x.is_param != y.is_param) return false;
    if (!x.is_param && x.text != y.text) return false;
  }
  return true;
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) {
      return !a.segments[i].is_param;
    }
  }
  return false;
}

Router::Lookup Router::Find(Method method, std::string_view path,
                            HttpParams* path_params) const {
  Lookup lookup;
  if (path.empty() || path[0] != '/') return lookup;
  absl::InlinedVector<std::string_view, 8> segments;
  SplitSegments(path, &segments);

  const Route* best = nullptr;
  const Handler* best_handler = nullptr;
  unsigned allowed = 0;  // Bit i: some matching route handles Method(i).
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      const Segment& segment = route.segments[i];
      match =
          segment.is_param ? !segments[i].empty() : segment.text == segments[i];
    }
    if (!match) continue;
    for (int m = 0; m < kNumMethods; ++m) {
      if (route.handlers[m] != nullptr) allowed |= 1u << m;
    }
    const Handler* handler = &route.handlers[static_cast<int>(method)];
    if (*handler == nullptr && method == Method::kHead) {
      handler = &route.handlers[static_cast<int>(Method::kGet)];
    }
    if (*handler == nullptr) continue;
    if (best == nullptr || MoreSpecific(route, *best)) {
      best = &route;
      best_handler = handler;
    }
  }

  if (best != nullptr) {
    lookup.result = Lookup::Result::kFound;
    lookup.handler = best_handler;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (best->segments[i].is_param) {
        path_params->emplace_back(best->segments[i].text,
                                  std::string(segments[i]));
      }
    }
  } else if (allowed != 0) {
    if (allowed & (1u << static_cast<int>(Method::kGet))) {
      allowed |= 1u << static_cast<int>(Method::kHead);
    }
    lookup.result = Lookup::Result::kMethodNotAllowed;
    for (int m = 0; m < kNumMethods; ++m) {
      if ((allowed & (1u << m)) == 0) continue;
      if (!lookup.allow.empty()) lookup.allow.append(", ");
      lookup.allow.append(MethodName(static_cast<Method>(m)));
    }
  }
  return lookup;
}

}  // namespace trainyard::http
