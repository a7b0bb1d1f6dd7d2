// Copyright 2026 Trainyard authors.
//
// POST /admin/checkpoint on the admin port: a consistent RocksDB checkpoint of
// the service's database, written to <--checkpoint_dir>/<name> (see
// common/storage/checkpoint.h; restore in deploy/README.md).
//
//   POST /admin/checkpoint?name=nightly-1
//   authorization: Bearer <token of role admin>
//
// `name` is optional: "ckpt-<UTC time, ms>" by default. Answers (JSON):
//   201 {"name":"nightly-1","path":"/var/lib/.../nightly-1","sequence":123}
//   400 a bad name ({"error":...,"field":"name"})
//   401 no or unknown bearer token; 403 a role other than admin
//   409 the name exists, or checkpoints are disabled (empty --checkpoint_dir)
//   500 a storage error (the log has the details); 503 the database is closed
// The checkpoint is complete when the answer is 201 and never half-written.
#pragma once

#include <string>

#include "common/auth/authenticator.h"
#include "common/http/message.h"
#include "common/http/server.h"
#include "common/logging/logger.h"
#include "common/storage/checkpoint.h"
#include "common/time/clock.h"

namespace trainyard::server {

class AdminCheckpoint {
 public:
  // Every reference must outlive this.
  AdminCheckpoint(storage::Checkpointer& checkpointer,
                  const auth::Authenticator& authenticator,
                  const Clock& wall_clock, Logger& logger);

  http::HttpResponse Handle(const http::HttpRequest& request);

 private:
  storage::Checkpointer& checkpointer_;
  const auth::Authenticator& authenticator_;
  const Clock& wall_clock_;
  Logger& logger_;
};

// Serves POST /admin/checkpoint on `admin` for `db`, with checkpoints under
// `root` (empty: the route answers 409). The route owns what it needs; `db`,
// `authenticator`, `wall_clock` and `logger` must outlive `admin`'s Stop().
void AddCheckpointRoute(http::HttpServer& admin, const storage::Db& db,
                        std::string root,
                        const auth::Authenticator& authenticator,
                        const Clock& wall_clock, Logger& logger);

}  // namespace trainyard::server
