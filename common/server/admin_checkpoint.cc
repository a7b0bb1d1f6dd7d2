// Copyright 2026 Trainyard authors.
#include "common/server/admin_checkpoint.h"

#include <memory>
#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/strings/absl_view.h"
#include "common/strings/json.h"

namespace trainyard::server {
namespace {

// Create's errors once the caller is authorized and checkpoints are enabled.
int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kFailedPrecondition:  // closed: shutting down
      return 503;
    default:
      return 500;
  }
}

}  // namespace

AdminCheckpoint::AdminCheckpoint(storage::Checkpointer& checkpointer,
                                 const auth::Authenticator& authenticator,
                                 const Clock& wall_clock, Logger& logger)
    : checkpointer_(checkpointer),
      authenticator_(authenticator),
      wall_clock_(wall_clock),
      logger_(logger) {}

http::HttpResponse AdminCheckpoint::Handle(const http::HttpRequest& request) {
  const std::string* authorization = request.FindHeader("authorization");
  absl::StatusOr<auth::Principal> principal = authenticator_.Authenticate(
      authorization == nullptr
          ? std::nullopt
          : std::optional<std::string_view>(*authorization));
  if (!principal.ok()) {
    return http::JsonError(401, ToStd(principal.status().message()));
  }
  if (principal->role != auth::Role::kAdmin) {
    return http::JsonError(
        403, absl::StrCat("POST /admin/checkpoint needs role admin, not ",
                          ToAbsl(auth::RoleName(principal->role))));
  }
  if (!checkpointer_.enabled()) {
    return http::JsonError(409,
                           "checkpoints are disabled: start the service with "
                           "--checkpoint_dir");
  }
  const std::string* name = request.FindQueryParam("name");
  std::string chosen =
      name != nullptr
          ? *name
          : absl::StrCat("ckpt-",
                         absl::FormatTime("%Y%m%dT%H%M%E3SZ", wall_clock_.Now(),
                                          absl::UTCTimeZone()));
  absl::StatusOr<storage::CheckpointInfo> info = checkpointer_.Create(chosen);
  if (!info.ok()) {
    int status = HttpStatusOf(info.status().code());
    if (status == 400) {
      return http::JsonError(400, ToStd(info.status().message()), "name");
    }
    if (status == 500) {
      logger_.Error("storage.checkpoint_failed",
                    {{"name", chosen}, {"error", info.status().ToString()}});
      return http::JsonError(500, "checkpoint failed: see the service log");
    }
    return http::JsonError(status, ToStd(info.status().message()));
  }
  logger_.Info("storage.checkpoint",
               {{"path", info->path},
                {"sequence", absl::StrCat(info->sequence)},
                {"user", principal->user}});
  http::HttpResponse response;
  response.status = 201;
  response.content_type = "application/json";
  response.body =
      JsonText(nlohmann::ordered_json{{"name", info->name},
                                      {"path", info->path},
                                      {"sequence", info->sequence}});
  return response;
}

void AddCheckpointRoute(http::HttpServer& admin, const storage::Db& db,
                        std::string root,
                        const auth::Authenticator& authenticator,
                        const Clock& wall_clock, Logger& logger) {
  struct Route {
    Route(const storage::Db& db, std::string root,
          const auth::Authenticator& authenticator, const Clock& wall_clock,
          Logger& logger)
        : checkpointer(db, std::move(root)),
          handler(checkpointer, authenticator, wall_clock, logger) {}
    storage::Checkpointer checkpointer;
    AdminCheckpoint handler;
  };
  auto route = std::make_shared<Route>(db, std::move(root), authenticator,
                                       wall_clock, logger);
  admin.Handle(http::Method::kPost, "/admin/checkpoint",
               [route](const http::HttpRequest& request) {
                 return route->handler.Handle(request);
               });
}

}  // namespace trainyard::server
