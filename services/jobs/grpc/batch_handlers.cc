// Copyright 2026 Trainyard authors.
//
// BatchCancelJobs and BatchDeleteJobs (R-LIST-05): up to 100 ids, each run
// as its own CancelJob / DeleteJob command through the engine (own-job rule,
// lifecycle rules and audit entry per job), one result per id in request
// order; partial success is allowed.
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "services/jobs/domain/errors.h"
#include "services/jobs/domain/job_spec.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/grpc/job_views_service.h"

namespace trainyard::jobs {
namespace {

using server::CallInfo;

constexpr int kMaxBatch = 100;

// 1..100 distinct, valid ids; violations name job_ids[i].
absl::Status ValidateIds(
    const google::protobuf::RepeatedPtrField<std::string>& ids) {
  if (ids.empty()) return RequiredFieldError("job_ids");
  if (ids.size() > kMaxBatch) {
    return InvalidFieldError("job_ids", absl::StrCat("at most ", kMaxBatch,
                                                     " ids, got ", ids.size()));
  }
  absl::flat_hash_set<std::string_view> seen;
  for (int i = 0; i < ids.size(); ++i) {
    const std::string field = absl::StrCat("job_ids[", i, "]");
    RETURN_IF_ERROR(ValidateId(field, ids[i]));
    if (!seen.insert(ids[i]).second) {
      return InvalidFieldError(field,
                               absl::StrCat("names job ", ids[i], " twice"));
    }
  }
  return absl::OkStatus();
}

Actor ActorOf(const CallInfo& call, std::string request_id) {
  static constexpr common::v1::Role kRoles[] = {
      common::v1::ROLE_VIEWER, common::v1::ROLE_ENGINEER,
      common::v1::ROLE_MANAGER, common::v1::ROLE_ADMIN,
      common::v1::ROLE_SERVICE};
  Actor a;
  a.user.set_user_id(call.principal.user);
  a.user.set_display_name(call.principal.user);
  a.role = kRoles[static_cast<int>(call.principal.role)];
  a.request_id = std::move(request_id);
  return a;
}

common::v1::BatchItemStatus Result(const std::string& id,
                                   const absl::Status& s) {
  common::v1::BatchItemStatus r;
  r.set_id(id);
  r.set_code(static_cast<int32_t>(s.code()));
  if (!s.ok()) {
    r.set_reason(ErrorReason(s));
    r.set_message(std::string(s.message()));
  }
  return r;
}

// The job for a steering command: visible, and the caller's own unless a
// manager, admin or service (jobs.proto "own job" rule).
absl::Status CheckSteerable(Engine& engine, const CallInfo& call,
                            const std::string& job_id) {
  absl::StatusOr<internal::JobRecord> r = engine.store().Get(job_id);
  if (absl::IsNotFound(r.status()) || (r.ok() && r->deleted())) {
    return JobNotFoundError(job_id, "does not exist");
  }
  RETURN_IF_ERROR(r.status());
  if (call.principal.role == auth::Role::kEngineer &&
      r->job().created_by().user_id() != call.principal.user) {
    return NotJobOwnerError();
  }
  return absl::OkStatus();
}

std::string ItemRequestId(const std::string& request_id,
                          const std::string& job_id) {
  return request_id.empty() ? "" : absl::StrCat(request_id, "/", job_id);
}

}  // namespace

grpc::ServerUnaryReactor* JobViewsService::BatchCancelJobs(
    grpc::CallbackServerContext* ctx, const v1::BatchCancelJobsRequest* req,
    v1::BatchCancelJobsResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "BatchCancelJobs", req, resp,
      [this](const CallInfo& call, const v1::BatchCancelJobsRequest& r,
             v1::BatchCancelJobsResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateIds(r.job_ids()));
        RETURN_IF_ERROR(ValidateCancel(r.reason(), r.reason_text(), r.notes()));
        for (const std::string& id : r.job_ids()) {
          CancelCommand cmd;
          cmd.actor = ActorOf(call, ItemRequestId(r.request_id(), id));
          cmd.reason = r.reason();
          cmd.reason_text = r.reason_text();
          cmd.notes = r.notes();
          absl::Status s = CheckSteerable(deps_.engine, call, id);
          if (s.ok()) {
            absl::StatusOr<internal::JobRecord> after =
                deps_.engine.Apply(id, cmd);
            s = after.status();
            if (after.ok()) {
              *out.add_jobs() = ProjectJob(*after, deps_.engine.clock().Now());
            }
          }
          *out.add_results() = Result(id, s);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobViewsService::BatchDeleteJobs(
    grpc::CallbackServerContext* ctx, const v1::BatchDeleteJobsRequest* req,
    v1::BatchDeleteJobsResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "BatchDeleteJobs", req, resp,
      [this](const CallInfo& call, const v1::BatchDeleteJobsRequest& r,
             v1::BatchDeleteJobsResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateIds(r.job_ids()));
        for (const std::string& id : r.job_ids()) {
          absl::Status s = CheckSteerable(deps_.engine, call, id);
          if (s.ok()) {
            DeleteCommand cmd;
            cmd.actor = ActorOf(call, "");
            s = deps_.engine.Apply(id, cmd).status();
          }
          *out.add_results() = Result(id, s);
        }
        return absl::OkStatus();
      });
}

}  // namespace trainyard::jobs
