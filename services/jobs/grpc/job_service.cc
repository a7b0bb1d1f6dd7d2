// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/job_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "services/jobs/domain/errors.h"
#include "services/jobs/grpc/audit_query.h"

namespace trainyard::jobs {
namespace {

using server::CallInfo;

common::v1::Role ToProtoRole(auth::Role r) {
  switch (r) {
    case auth::Role::kViewer:
      return common::v1::ROLE_VIEWER;
    case auth::Role::kEngineer:
      return common::v1::ROLE_ENGINEER;
    case auth::Role::kManager:
      return common::v1::ROLE_MANAGER;
    case auth::Role::kAdmin:
      return common::v1::ROLE_ADMIN;
    case auth::Role::kService:
      return common::v1::ROLE_SERVICE;
  }
  return common::v1::ROLE_UNSPECIFIED;
}

Actor ActorOf(const CallInfo& call, const std::string& request_id) {
  Actor a;
  a.user.set_user_id(call.principal.user);
  a.user.set_display_name(call.principal.user);
  a.role = ToProtoRole(call.principal.role);
  a.request_id = request_id;
  return a;
}

// The job for reading: deleted jobs are NOT_FOUND. `field` names job_id in
// the request.
absl::StatusOr<internal::JobRecord> Load(Engine& engine,
                                         const std::string& job_id,
                                         std::string_view field = "job_id") {
  RETURN_IF_ERROR(ValidateId(field, job_id));
  absl::StatusOr<internal::JobRecord> r = engine.store().Get(job_id);
  if (absl::IsNotFound(r.status()) || (r.ok() && r->deleted())) {
    return JobNotFoundError(job_id, "does not exist");
  }
  return r;
}

// The job for steering: the own-job rule and the optional etag.
absl::StatusOr<internal::JobRecord> LoadForChange(
    Engine& engine, const CallInfo& call, const std::string& job_id,
    const std::string& etag, std::string_view field = "job_id") {
  ASSIGN_OR_RETURN(internal::JobRecord r, Load(engine, job_id, field));
  if (call.principal.role == auth::Role::kEngineer &&
      r.job().created_by().user_id() != call.principal.user) {
    return NotJobOwnerError();
  }
  if (!etag.empty() && etag != r.job().etag()) {
    return EtagMismatchError("the job", r.job().etag());
  }
  return r;
}

std::string Dollars(int64_t micros) {
  return absl::StrFormat("$%.2f", static_cast<double>(micros) / 1e6);
}

// CancelJob's longest wait_for_termination (jobs.proto; wall time).
constexpr absl::Duration kCancelWait = absl::Seconds(60);

constexpr int kAuditDefaultPage = 50;
constexpr int kAuditMaxPage = 500;

}  // namespace

JobServiceImpl::JobServiceImpl(server::Rpc& rpc, Engine& engine,
                               CostClient& cost, SpecDefaults defaults,
                               JobViewsDeps views)
    : JobViewsService(views),
      rpc_(rpc),
      engine_(engine),
      cost_(cost),
      defaults_(defaults),
      waiters_(views.timer) {}

grpc::ServerUnaryReactor* JobServiceImpl::CreateJob(
    grpc::CallbackServerContext* ctx, const v1::CreateJobRequest* req,
    v1::CreateJobResponse* resp) {
  return rpc_.Unary(
      ctx, "CreateJob", req, resp,
      [this](const CallInfo& call, const v1::CreateJobRequest& r,
             v1::CreateJobResponse& out) -> absl::Status {
        if (!r.has_spec()) return InvalidFieldError("spec", "required");
        ASSIGN_OR_RETURN(v1::JobSpec spec,
                         NormalizeSpec(r.spec(), defaults_, "spec"));
        if (r.validate_only()) {
          v1::Job* job = out.mutable_job();
          *job->mutable_spec() = spec;
          job->set_state(common::v1::JOB_STATE_UNSPECIFIED);
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(internal::JobRecord record,
                         engine_.Create(spec, ActorOf(call, r.request_id()),
                                        r.request_id()));
        *out.mutable_job() = ProjectJob(record, engine_.clock().Now());
        if (spec.config().pricing() == common::v1::PRICING_SPOT &&
            spec.config().total_steps() > 50000) {
          out.add_warnings("Spot job with many steps: interruption risk");
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobServiceImpl::GetJob(
    grpc::CallbackServerContext* ctx, const v1::GetJobRequest* req,
    v1::GetJobResponse* resp) {
  return rpc_.Unary(
      ctx, "GetJob", req, resp,
      [this](const CallInfo&, const v1::GetJobRequest& r,
             v1::GetJobResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(internal::JobRecord rec, Load(engine_, r.job_id()));
        *out.mutable_job() = ProjectJob(rec, engine_.clock().Now());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobServiceImpl::UpdateJob(
    grpc::CallbackServerContext* ctx, const v1::UpdateJobRequest* req,
    v1::UpdateJobResponse* resp) {
  return rpc_.Unary(
      ctx, "UpdateJob", req, resp,
      [this](const CallInfo& call, const v1::UpdateJobRequest& r,
             v1::UpdateJobResponse& out) -> absl::Status {
        if (r.job().etag().empty()) {
          return InvalidFieldError("job.etag", "required");
        }
        if (r.update_mask().paths_size() == 0) {
          return InvalidFieldError("update_mask", "required");
        }
        static const auto* kMutable =
            new std::vector<std::string>{"spec.display_name",
                                         "spec.tags",
                                         "spec.notes",
                                         "spec.budget",
                                         "spec.notification_targets",
                                         "spec.notification_triggers"};
        UpdateCommand cmd;
        for (const std::string& path : r.update_mask().paths()) {
          if (std::find(kMutable->begin(), kMutable->end(), path) ==
              kMutable->end()) {
            return InvalidFieldError(
                "update_mask", absl::StrCat(path,
                                            " cannot be updated (training "
                                            "configuration changes through "
                                            "ResumeJob or RetryJob)"));
          }
          cmd.paths.push_back(path);
        }
        ASSIGN_OR_RETURN(internal::JobRecord rec,
                         LoadForChange(engine_, call, r.job().job_id(),
                                       r.job().etag(), "job.job_id"));
        // Validate the job as it would be after the update.
        v1::JobSpec merged = rec.job().spec();
        for (const std::string& path : cmd.paths) {
          const auto* field = v1::JobSpec::descriptor()->FindFieldByName(
              path.substr(sizeof("spec.") - 1));
          merged.GetReflection()->ClearField(&merged, field);
        }
        v1::JobSpec from_request = r.job().spec();
        merged.MergeFrom(from_request);
        ASSIGN_OR_RETURN(cmd.spec, NormalizeMutableSpec(merged, "job.spec"));
        cmd.actor = ActorOf(call, "");
        ASSIGN_OR_RETURN(internal::JobRecord after,
                         engine_.Apply(rec.job().job_id(), cmd));
        *out.mutable_job() = ProjectJob(after, engine_.clock().Now());
        return absl::OkStatus();
      });
}

absl::StatusOr<internal::JobRecord> JobServiceImpl::Cancel(
    const CallInfo& call, const v1::CancelJobRequest& r) {
  RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
  RETURN_IF_ERROR(ValidateCancel(r.reason(), r.reason_text(), r.notes()));
  ASSIGN_OR_RETURN(internal::JobRecord rec,
                   LoadForChange(engine_, call, r.job_id(), r.etag()));
  CancelCommand cmd;
  cmd.actor = ActorOf(call, r.request_id());
  cmd.reason = r.reason();
  cmd.reason_text = r.reason_text();
  cmd.notes = r.notes();
  return engine_.Apply(r.job_id(), cmd);
}

void JobServiceImpl::FillCancel(const internal::JobRecord& record,
                                v1::CancelJobResponse& out) const {
  const v1::Job job = ProjectJob(record, engine_.clock().Now());
  *out.mutable_job() = job;
  out.set_termination_status(job.cancellation().termination_status());
  const int64_t spend = job.cost().spend().micros();
  const bool cancelled = job.state() == common::v1::JOB_STATE_CANCELLED;
  if (cancelled && job.cost().final()) {
    *out.mutable_final_cost() = job.cost().spend();
  }
  out.set_toast_message(
      !cancelled ? absl::StrCat("Cancelling... cost so far: ", Dollars(spend))
      : job.cost().final()
          ? absl::StrCat("Job cancelled. Final cost: ", Dollars(spend))
          : absl::StrCat("Job cancelled. Cost so far: ", Dollars(spend),
                         " (final figure pending)"));
  *out.mutable_artifacts() = job.artifacts();
}

grpc::ServerUnaryReactor* JobServiceImpl::CancelJob(
    grpc::CallbackServerContext* ctx, const v1::CancelJobRequest* req,
    v1::CancelJobResponse* resp) {
  if (req->wait_for_termination()) return CancelAndWait(ctx, req, resp);
  return rpc_.Unary(ctx, "CancelJob", req, resp,
                    [this](const CallInfo& call, const v1::CancelJobRequest& r,
                           v1::CancelJobResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(internal::JobRecord after,
                                       Cancel(call, r));
                      FillCancel(after, out);
                      return absl::OkStatus();
                    });
}

// R-CAN-02, R-CAN-03: answers once the job is CANCELLED with its final cost,
// or at min(60 s, the caller's deadline less a margin to receive it), with
// the job as it is then (CANCELLING, RETRYING). The call is parked in
// waiters_, not on an RPC thread, so slow terminations never starve the
// executor.
grpc::ServerUnaryReactor* JobServiceImpl::CancelAndWait(
    grpc::CallbackServerContext* ctx, const v1::CancelJobRequest* req,
    v1::CancelJobResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<auth::Principal> principal = rpc_.Admit(ctx, "CancelJob");
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  const absl::Time now = deps_.wall_clock.Now();
  absl::Time until = now + kCancelWait;
  if (ctx->deadline() != std::chrono::system_clock::time_point::max()) {
    until = std::min(
        until, absl::FromChrono(ctx->deadline()) - absl::Milliseconds(200));
  }
  CallInfo call{*std::move(principal), until};
  auto request = std::make_shared<v1::CancelJobRequest>(*req);
  rpc_.executor().Submit([this, reactor, resp, call = std::move(call),
                          request] {
    absl::StatusOr<internal::JobRecord> after = Cancel(call, *request);
    if (!after.ok()) {
      reactor->Finish(ToGrpcStatus(after.status()));
      return;
    }
    auto finished = [](const internal::JobRecord& r) {
      return r.job().state() == common::v1::JOB_STATE_CANCELLED &&
             r.job().cost().final();
    };
    if (finished(*after)) {
      FillCancel(*after, *resp);
      reactor->Finish(grpc::Status::OK);
      return;
    }
    const std::string job_id = request->job_id();
    waiters_.Wait(job_id, finished, call.deadline,
                  [this, reactor, resp,
                   job_id](std::optional<internal::JobRecord> record) {
                    rpc_.executor().Submit([this, reactor, resp, job_id,
                                            record = std::move(record)] {
                      absl::StatusOr<internal::JobRecord> r =
                          record ? *record : engine_.store().Get(job_id);
                      if (!r.ok()) {
                        reactor->Finish(ToGrpcStatus(r.status()));
                        return;
                      }
                      FillCancel(*r, *resp);
                      reactor->Finish(grpc::Status::OK);
                    });
                  });
    // A change written before the wait began.
    absl::StatusOr<internal::JobRecord> current = engine_.store().Get(job_id);
    if (current.ok()) waiters_.Observe(*current);
  });
  return reactor;
}

grpc::ServerUnaryReactor* JobServiceImpl::PauseJob(
    grpc::CallbackServerContext* ctx, const v1::PauseJobRequest* req,
    v1::PauseJobResponse* resp) {
  return rpc_.Unary(
      ctx, "PauseJob", req, resp,
      [this](const CallInfo& call, const v1::PauseJobRequest& r,
             v1::PauseJobResponse& out) -> absl::Status {
        if (CodePoints(r.notes()) > 500) {
          return InvalidFieldError("notes", "at most 500 characters");
        }
        ASSIGN_OR_RETURN(internal::JobRecord rec,
                         LoadForChange(engine_, call, r.job_id(), r.etag()));
        PauseCommand cmd;
        cmd.actor = ActorOf(call, r.request_id());
        cmd.notes = r.notes();
        ASSIGN_OR_RETURN(internal::JobRecord after,
                         engine_.Apply(r.job_id(), cmd));
        *out.mutable_job() = ProjectJob(after, engine_.clock().Now());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobServiceImpl::ResumeJob(
    grpc::CallbackServerContext* ctx, const v1::ResumeJobRequest* req,
    v1::ResumeJobResponse* resp) {
  return rpc_.Unary(
      ctx, "ResumeJob", req, resp,
      [this](const CallInfo& call, const v1::ResumeJobRequest& r,
             v1::ResumeJobResponse& out) -> absl::Status {
        if (r.has_gpu_type() &&
            (r.gpu_type() == common::v1::GPU_TYPE_UNSPECIFIED ||
             !common::v1::GpuType_IsValid(r.gpu_type()))) {
          return InvalidFieldError("gpu_type", "unknown GPU type");
        }
        if (r.has_pricing() &&
            (r.pricing() == common::v1::PRICING_UNSPECIFIED ||
             !common::v1::Pricing_IsValid(r.pricing()))) {
          return InvalidFieldError("pricing", "unknown pricing");
        }
        ASSIGN_OR_RETURN(internal::JobRecord rec,
                         LoadForChange(engine_, call, r.job_id(), r.etag()));
        if (rec.job().state() != common::v1::JOB_STATE_PAUSED) {
          return JobStateError(kReasonJobNotPaused, rec.job().state(),
                               "only a PAUSED job can be resumed");
        }
        const int64_t step = rec.job().pause().paused_at_step();
        const int64_t total = rec.job().spec().config().total_steps();
        out.set_resume_from_step(step);
        out.set_resume_from_percent(total > 0 ? 100.0 * step / total : 0);
        out.set_remaining_steps(std::max<int64_t>(total - step, 0));
        // R-PAUSE-02: remaining time and additional cost at the chosen GPU
        // and pricing. Without cost the resume still works, with a warning.
        cost::v1::EstimateCostRequest estimate;
        estimate.set_job_id(r.job_id());
        estimate.set_from_step(step);
        *estimate.mutable_config() = rec.job().spec().config();
        if (r.has_gpu_type())
          estimate.mutable_config()->set_gpu_type(r.gpu_type());
        if (r.has_pricing())
          estimate.mutable_config()->set_pricing(r.pricing());
        absl::StatusOr<cost::v1::CostEstimate> e = cost_.EstimateCost(estimate);
        if (e.ok()) {
          *out.mutable_estimated_additional_cost() = e->cost();
          *out.mutable_hourly_rate() = e->hourly_rate();
          *out.mutable_estimated_remaining() = e->duration().max();
        } else {
          out.add_warnings(absl::StrCat("Cost estimate unavailable: ",
                                        e.status().message()));
        }
        if (estimate.config().pricing() == common::v1::PRICING_SPOT && e.ok() &&
            FromProto(e->duration().max()) > absl::Hours(12)) {
          out.add_warnings("Spot: long remaining time, interruption risk");
        }
        if (r.validate_only()) {
          *out.mutable_job() = ProjectJob(rec, engine_.clock().Now());
          return absl::OkStatus();
        }
        ResumeCommand cmd;
        cmd.actor = ActorOf(call, r.request_id());
        if (r.has_gpu_type()) cmd.gpu_type = r.gpu_type();
        if (r.has_pricing()) cmd.pricing = r.pricing();
        ASSIGN_OR_RETURN(internal::JobRecord after,
                         engine_.Apply(r.job_id(), cmd));
        *out.mutable_job() = ProjectJob(after, engine_.clock().Now());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobServiceImpl::RetryJob(
    grpc::CallbackServerContext* ctx, const v1::RetryJobRequest* req,
    v1::RetryJobResponse* resp) {
  return rpc_.Unary(
      ctx, "RetryJob", req, resp,
      [this](const CallInfo& call, const v1::RetryJobRequest& r,
             v1::RetryJobResponse& out) -> absl::Status {
        if (r.from_stage() == common::v1::STAGE_UNSPECIFIED ||
            !common::v1::Stage_IsValid(r.from_stage())) {
          return InvalidFieldError("from_stage", "required");
        }
        if (r.has_gpu_type() &&
            (r.gpu_type() == common::v1::GPU_TYPE_UNSPECIFIED ||
             !common::v1::GpuType_IsValid(r.gpu_type()))) {
          return InvalidFieldError("gpu_type", "unknown GPU type");
        }
        if (r.has_pricing() &&
            (r.pricing() == common::v1::PRICING_UNSPECIFIED ||
             !common::v1::Pricing_IsValid(r.pricing()))) {
          return InvalidFieldError("pricing", "unknown pricing");
        }
        ASSIGN_OR_RETURN(internal::JobRecord rec,
                         LoadForChange(engine_, call, r.job_id(), r.etag()));
        RetryCommand cmd;
        cmd.actor = ActorOf(call, r.request_id());
        cmd.from_stage = r.from_stage();
        if (r.has_gpu_type()) cmd.gpu_type = r.gpu_type();
        if (r.has_pricing()) cmd.pricing = r.pricing();
        if (r.validate_only()) {
          // Check the command against the record without writing.
          ASSIGN_OR_RETURN(
              Transition t,
              jobs::Apply(engine_.options(), rec, cmd, engine_.clock().Now()));
          out.set_resume_from_step(t.record.resume_step());
          *out.mutable_job() = ProjectJob(rec, engine_.clock().Now());
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(internal::JobRecord after,
                         engine_.Apply(r.job_id(), cmd));
        out.set_resume_from_step(after.resume_step());
        *out.mutable_job() = ProjectJob(after, engine_.clock().Now());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobServiceImpl::DeleteJob(
    grpc::CallbackServerContext* ctx, const v1::DeleteJobRequest* req,
    v1::DeleteJobResponse* resp) {
  return rpc_.Unary(ctx, "DeleteJob", req, resp,
                    [this](const CallInfo& call, const v1::DeleteJobRequest& r,
                           v1::DeleteJobResponse&) -> absl::Status {
                      ASSIGN_OR_RETURN(
                          internal::JobRecord rec,
                          LoadForChange(engine_, call, r.job_id(), r.etag()));
                      DeleteCommand cmd;
                      cmd.actor = ActorOf(call, "");
                      return engine_.Apply(r.job_id(), cmd).status();
                    });
}

grpc::ServerUnaryReactor* JobServiceImpl::ListAuditEntries(
    grpc::CallbackServerContext* ctx, const v1::ListAuditEntriesRequest* req,
    v1::ListAuditEntriesResponse* resp) {
  return rpc_.Unary(
      ctx, "ListAuditEntries", req, resp,
      [this](const CallInfo& call, const v1::ListAuditEntriesRequest& r,
             v1::ListAuditEntriesResponse& out) -> absl::Status {
        if (r.job_id() != "-")
          RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
        if (r.page_size() < 0) {
          return InvalidFieldError("page_size", "must not be negative");
        }
        ASSIGN_OR_RETURN(AuditQuery query,
                         CompileAuditQuery(r.filter(), r.order_by()));
        const int size = r.page_size() == 0
                             ? kAuditDefaultPage
                             : std::min(r.page_size(), kAuditMaxPage);
        std::vector<v1::AuditEntry> entries;
        if (r.job_id() == "-") {
          if (!auth::Satisfies(call.principal.role, auth::Role::kManager)) {
            return absl::PermissionDeniedError(
                "all jobs' audit entries need the manager role");
          }
          ASSIGN_OR_RETURN(entries, engine_.store().ListAllAudit());
        } else {
          // Deleted jobs keep their audit trail.
          absl::Status known = engine_.store().Get(r.job_id()).status();
          if (absl::IsNotFound(known)) {
            return JobNotFoundError(r.job_id(), "does not exist");
          }
          RETURN_IF_ERROR(known);
          ASSIGN_OR_RETURN(entries, engine_.store().ListAudit(r.job_id()));
        }
        ASSIGN_OR_RETURN(AuditPage page,
                         PageAudit(std::move(entries), query, r.job_id(),
                                   r.page_token(), size));
        out.set_total_size(page.total_size);
        for (v1::AuditEntry& e : page.entries)
          *out.add_entries() = std::move(e);
        out.set_next_page_token(std::move(page.next_page_token));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobServiceImpl::GetPauseTimeline(
    grpc::CallbackServerContext* ctx, const v1::GetPauseTimelineRequest* req,
    v1::GetPauseTimelineResponse* resp) {
  return rpc_.Unary(
      ctx, "GetPauseTimeline", req, resp,
      [this](const CallInfo&, const v1::GetPauseTimelineRequest& r,
             v1::GetPauseTimelineResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(internal::JobRecord rec, Load(engine_, r.job_id()));
        const absl::Time now = engine_.clock().Now();
        const v1::Job job = ProjectJob(rec, now);
        int64_t storage = 0;
        for (v1::PauseCycle cycle : rec.cycles()) {
          if (!cycle.has_paused_duration() && cycle.has_pause_time()) {
            // Still paused: up to now.
            *cycle.mutable_paused_duration() =
                ToProto(now - FromProto(cycle.pause_time()));
          }
          storage += cycle.storage_cost().micros();
          *out.add_cycles() = std::move(cycle);
        }
        *out.mutable_active_time() = job.active_time();
        *out.mutable_paused_time() = job.paused_time();
        if (job.has_start_time()) {
          const absl::Time end =
              job.has_end_time() ? FromProto(job.end_time()) : now;
          *out.mutable_total_elapsed() =
              ToProto(end - FromProto(job.start_time()));
        }
        *out.mutable_compute_cost() = job.cost().spend();
        out.mutable_compute_cost()->set_currency_code("USD");
        out.mutable_paused_storage_cost()->set_currency_code("USD");
        out.mutable_paused_storage_cost()->set_micros(storage);
        return absl::OkStatus();
      });
}

}  // namespace trainyard::jobs
