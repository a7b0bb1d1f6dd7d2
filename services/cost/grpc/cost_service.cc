// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/cost_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "services/cost/grpc/requests.h"

namespace trainyard::cost {

using server::CallInfo;

CostServiceImpl::CostServiceImpl(server::Rpc& rpc, CostBook& book,
                                 AlertHub& hub, server::DeadlineTimer& timer,
                                 const Clock& clock, const Clock& wall_clock,
                                 absl::Duration heartbeat)
    : rpc_(rpc),
      book_(book),
      hub_(hub),
      timer_(timer),
      clock_(clock),
      wall_clock_(wall_clock),
      heartbeat_(heartbeat) {}

grpc::ServerUnaryReactor* CostServiceImpl::GetRateCard(
    grpc::CallbackServerContext* ctx, const v1::GetRateCardRequest* req,
    v1::GetRateCardResponse* resp) {
  return rpc_.Unary(ctx, "GetRateCard", req, resp,
                    [this](const CallInfo&, const v1::GetRateCardRequest&,
                           v1::GetRateCardResponse& out) {
                      *out.mutable_rate_card() = book_.RateCard();
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* CostServiceImpl::UpdateRateCard(
    grpc::CallbackServerContext* ctx, const v1::UpdateRateCardRequest* req,
    v1::UpdateRateCardResponse* resp) {
  return rpc_.Unary(
      ctx, "UpdateRateCard", req, resp,
      [this](const CallInfo& call, const v1::UpdateRateCardRequest& r,
             v1::UpdateRateCardResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(RateCardUpdate update,
                         ToRateCardUpdate(r, book_.RateCard()));
        update.by.set_user_id(call.principal.user);
        ASSIGN_OR_RETURN(*out.mutable_rate_card(),
                         book_.UpdateRateCard(std::move(update)));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CostServiceImpl::EstimateCost(
    grpc::CallbackServerContext* ctx, const v1::EstimateCostRequest* req,
    v1::EstimateCostResponse* resp) {
  return rpc_.Unary(
      ctx, "EstimateCost", req, resp,
      [this](const CallInfo&, const v1::EstimateCostRequest& r,
             v1::EstimateCostResponse& out) -> absl::Status {
        if (!r.has_config()) return InvalidFieldError("config", "required");
        RETURN_IF_ERROR(CheckTrainingConfig("config", r.config()));
        if (r.from_step() < 0) {
          return InvalidFieldError("from_step", "must be >= 0");
        }
        if (!r.job_id().empty())
          RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
        common::v1::TrainingConfig config = r.config();
        if (config.pricing() == common::v1::PRICING_UNSPECIFIED) {
          config.set_pricing(common::v1::PRICING_SPOT);
        }
        ASSIGN_OR_RETURN(*out.mutable_estimate(),
                         book_.Estimate(config, r.from_step(), r.job_id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CostServiceImpl::RegisterJob(
    grpc::CallbackServerContext* ctx, const v1::RegisterJobRequest* req,
    v1::RegisterJobResponse* resp) {
  return rpc_.Unary(ctx, "RegisterJob", req, resp,
                    [this](const CallInfo&, const v1::RegisterJobRequest& r,
                           v1::RegisterJobResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(JobRegistration reg, ToRegistration(r));
                      ASSIGN_OR_RETURN(out, book_.RegisterJob(std::move(reg)));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* CostServiceImpl::GetJobCost(
    grpc::CallbackServerContext* ctx, const v1::GetJobCostRequest* req,
    v1::GetJobCostResponse* resp) {
  return rpc_.Unary(ctx, "GetJobCost", req, resp,
                    [this](const CallInfo&, const v1::GetJobCostRequest& r,
                           v1::GetJobCostResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
                      ASSIGN_OR_RETURN(out, book_.JobCost(r.job_id()));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* CostServiceImpl::BatchGetJobCosts(
    grpc::CallbackServerContext* ctx, const v1::BatchGetJobCostsRequest* req,
    v1::BatchGetJobCostsResponse* resp) {
  return rpc_.Unary(
      ctx, "BatchGetJobCosts", req, resp,
      [this](const CallInfo&, const v1::BatchGetJobCostsRequest& r,
             v1::BatchGetJobCostsResponse& out) -> absl::Status {
        if (r.job_ids_size() == 0 || r.job_ids_size() > kMaxBatchJobs) {
          return InvalidFieldError("job_ids", "1 to 500 job ids");
        }
        for (int i = 0; i < r.job_ids_size(); ++i) {
          RETURN_IF_ERROR(
              ValidateId(absl::StrCat("job_ids[", i, "]"), r.job_ids(i)));
        }
        for (common::v1::CostSummary& s :
             book_.Summaries({r.job_ids().begin(), r.job_ids().end()})) {
          *out.add_costs() = std::move(s);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CostServiceImpl::OpenMeter(
    grpc::CallbackServerContext* ctx, const v1::OpenMeterRequest* req,
    v1::OpenMeterResponse* resp) {
  return rpc_.Unary(
      ctx, "OpenMeter", req, resp,
      [this](const CallInfo&, const v1::OpenMeterRequest& r,
             v1::OpenMeterResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(MeterOpening opening, ToOpening(r, clock_.Now()));
        ASSIGN_OR_RETURN(*out.mutable_meter(),
                         book_.OpenMeter(r.request_id(), std::move(opening)));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CostServiceImpl::CloseMeter(
    grpc::CallbackServerContext* ctx, const v1::CloseMeterRequest* req,
    v1::CloseMeterResponse* resp) {
  return rpc_.Unary(ctx, "CloseMeter", req, resp,
                    [this](const CallInfo&, const v1::CloseMeterRequest& r,
                           v1::CloseMeterResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(CostBook::Closing closing,
                                       ToClosing(r, clock_.Now()));
                      ASSIGN_OR_RETURN(*out.mutable_meter(),
                                       book_.CloseMeter(std::move(closing)));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* CostServiceImpl::ListLedgerEntries(
    grpc::CallbackServerContext* ctx, const v1::ListLedgerEntriesRequest* req,
    v1::ListLedgerEntriesResponse* resp) {
  return rpc_.Unary(
      ctx, "ListLedgerEntries", req, resp,
      [this](const CallInfo& call, const v1::ListLedgerEntriesRequest& r,
             v1::ListLedgerEntriesResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(LedgerPage page, ToLedgerPage(r));
        if (page.query.job_id == "-" &&
            !auth::Satisfies(call.principal.role, auth::Role::kManager)) {
          return absl::PermissionDeniedError(
              "job_id \"-\" (all jobs) needs the manager role");
        }
        ASSIGN_OR_RETURN(std::vector<v1::LedgerEntry> entries,
                         book_.Ledger(page.query));
        int64_t total = 0;
        for (const v1::LedgerEntry& e : entries) total += e.amount().micros();
        out.set_total_size(static_cast<int32_t>(entries.size()));
        out.mutable_total_amount()->set_currency_code(
            book_.RateCard().currency_code());
        out.mutable_total_amount()->set_micros(total);
        const int64_t end = std::min<int64_t>(
            page.offset + page.page_size, static_cast<int64_t>(entries.size()));
        for (int64_t i = page.offset; i < end; ++i) {
          *out.add_entries() = std::move(entries[i]);
        }
        if (end < static_cast<int64_t>(entries.size())) {
          out.set_next_page_token(NextLedgerToken(page, end));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CostServiceImpl::SetJobBudget(
    grpc::CallbackServerContext* ctx, const v1::SetJobBudgetRequest* req,
    v1::SetJobBudgetResponse* resp) {
  return rpc_.Unary(
      ctx, "SetJobBudget", req, resp,
      [this](const CallInfo&, const v1::SetJobBudgetRequest& r,
             v1::SetJobBudgetResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
        ASSIGN_OR_RETURN(std::optional<common::v1::Budget> budget,
                         ToBudget("budget", r.budget(), r.has_budget()));
        ASSIGN_OR_RETURN(*out.mutable_budget(),
                         book_.SetBudget(r.job_id(), budget, r.etag()));
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::WatchBudgetAlertsResponse>*
CostServiceImpl::WatchBudgetAlerts(grpc::CallbackServerContext* ctx,
                                   const v1::WatchBudgetAlertsRequest* req) {
  absl::StatusOr<auth::Principal> principal =
      rpc_.Admit(ctx, "WatchBudgetAlerts");
  return AlertWatch::Start(principal.status(), *req, book_, hub_,
                           rpc_.executor(), timer_, clock_, wall_clock_,
                           heartbeat_);
}

grpc::ServerUnaryReactor* CostServiceImpl::FinalizeJobCost(
    grpc::CallbackServerContext* ctx, const v1::FinalizeJobCostRequest* req,
    v1::FinalizeJobCostResponse* resp) {
  return rpc_.Unary(
      ctx, "FinalizeJobCost", req, resp,
      [this](const CallInfo&, const v1::FinalizeJobCostRequest& r,
             v1::FinalizeJobCostResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(FinalizeInput in, ToFinalize(r, clock_.Now()));
        ASSIGN_OR_RETURN(out,
                         book_.Finalize(r.job_id(), in.state, in.end_time));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CostServiceImpl::GetCostReport(
    grpc::CallbackServerContext* ctx, const v1::GetCostReportRequest* req,
    v1::GetCostReportResponse* resp) {
  return rpc_.Unary(ctx, "GetCostReport", req, resp,
                    [this](const CallInfo&, const v1::GetCostReportRequest& r,
                           v1::GetCostReportResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(ReportQuery q,
                                       ToReportQuery(r, clock_.Now()));
                      ASSIGN_OR_RETURN(out, book_.Report(q));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* CostServiceImpl::DeleteJobData(
    grpc::CallbackServerContext* ctx, const v1::DeleteJobDataRequest* req,
    v1::DeleteJobDataResponse* resp) {
  return rpc_.Unary(ctx, "DeleteJobData", req, resp,
                    [this](const CallInfo&, const v1::DeleteJobDataRequest& r,
                           v1::DeleteJobDataResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
                      ASSIGN_OR_RETURN(const int64_t n,
                                       book_.DeleteJobData(r.job_id()));
                      out.set_deleted_entries(n);
                      return absl::OkStatus();
                    });
}

}  // namespace trainyard::cost
