// Copyright 2026 Trainyard authors.
//
// Where a service process is in its life (ServiceHost::phase()), for answers
// that depend on it (a webhook during start-up is "starting", not
// "draining"). Header only, so that layers without the gRPC runtime can take
// it (metrics' webhook handler).
#pragma once

#include <string_view>

namespace trainyard::server {

enum class ServicePhase {
  kStarting,  // ports bound, state being rebuilt (Warmup): until MarkServing
  kServing,   // from MarkServing
  kDraining,  // from Shutdown on
};

// "starting", "serving", "draining": the word /readyz and the webhook's 503
// reason use.
constexpr std::string_view PhaseName(ServicePhase phase) {
  switch (phase) {
    case ServicePhase::kStarting:
      return "starting";
    case ServicePhase::kServing:
      return "serving";
    case ServicePhase::kDraining:
      return "draining";
  }
  return "unknown";
}

}  // namespace trainyard::server
