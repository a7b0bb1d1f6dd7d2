// Copyright 2026 Trainyard authors.
#include "common/server/rpc.h"

namespace trainyard::server {

Rpc::Rpc(const auth::Authenticator& authenticator,
         const auth::AccessPolicy& policy, Executor& executor,
         Executor& bulk_executor, DeadlineTimer& timer, const Clock& wall_clock,
         absl::Duration unary_bound)
    : authenticator_(authenticator),
      policy_(policy),
      executor_(executor),
      bulk_executor_(bulk_executor),
      timer_(timer),
      wall_clock_(wall_clock),
      unary_bound_(unary_bound) {}

absl::StatusOr<auth::Principal> Rpc::Admit(grpc::CallbackServerContext* ctx,
                                           std::string_view method) const {
  const auto& metadata = ctx->client_metadata();
  std::optional<std::string_view> authorization;
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = std::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<auth::Principal> principal =
      authenticator_.Authenticate(authorization);
  if (!principal.ok()) return principal.status();
  if (absl::Status s = policy_.Authorize(*principal, method); !s.ok()) {
    return s;
  }
  return principal;
}

absl::Time Rpc::EffectiveDeadline(grpc::CallbackServerContext* ctx,
                                  bool* bounded) const {
  auto client = ctx->deadline();
  if (client == std::chrono::system_clock::time_point::max()) {
    *bounded = true;
    return wall_clock_.Now() + unary_bound_;
  }
  *bounded = false;
  return absl::FromChrono(client);
}

}  // namespace trainyard::server
