// Copyright 2026 Trainyard authors.
//
// trainyard.cost.v1.CostService handlers: each validates and converts its
// request once (requests.h), calls the book, and fills the response. Runs
// on the service's executor through Rpc::Unary.
#pragma once

#include "common/server/rpc.h"
#include "services/cost/app/cost_book.h"
#include "services/cost/grpc/alert_watch.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"

namespace trainyard::cost {

class CostServiceImpl final : public v1::CostService::CallbackService {
 public:
  // References must outlive the service.
  CostServiceImpl(server::Rpc& rpc, CostBook& book, AlertHub& hub,
                  server::DeadlineTimer& timer, const Clock& clock,
                  const Clock& wall_clock, absl::Duration heartbeat);

  grpc::ServerUnaryReactor* GetRateCard(grpc::CallbackServerContext* ctx,
                                        const v1::GetRateCardRequest* req,
                                        v1::GetRateCardResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateRateCard(
      grpc::CallbackServerContext* ctx, const v1::UpdateRateCardRequest* req,
      v1::UpdateRateCardResponse* resp) override;
  grpc::ServerUnaryReactor* EstimateCost(
      grpc::CallbackServerContext* ctx, const v1::EstimateCostRequest* req,
      v1::EstimateCostResponse* resp) override;
  grpc::ServerUnaryReactor* RegisterJob(grpc::CallbackServerContext* ctx,
                                        const v1::RegisterJobRequest* req,
                                        v1::RegisterJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJobCost(grpc::CallbackServerContext* ctx,
                                       const v1::GetJobCostRequest* req,
                                       v1::GetJobCostResponse* resp) override;
  grpc::ServerUnaryReactor* BatchGetJobCosts(
      grpc::CallbackServerContext* ctx, const v1::BatchGetJobCostsRequest* req,
      v1::BatchGetJobCostsResponse* resp) override;
  grpc::ServerUnaryReactor* OpenMeter(grpc::CallbackServerContext* ctx,
                                      const v1::OpenMeterRequest* req,
                                      v1::OpenMeterResponse* resp) override;
  grpc::ServerUnaryReactor* CloseMeter(grpc::CallbackServerContext* ctx,
                                       const v1::CloseMeterRequest* req,
                                       v1::CloseMeterResponse* resp) override;
  grpc::ServerUnaryReactor* ListLedgerEntries(
      grpc::CallbackServerContext* ctx, const v1::ListLedgerEntriesRequest* req,
      v1::ListLedgerEntriesResponse* resp) override;
  grpc::ServerUnaryReactor* SetJobBudget(
      grpc::CallbackServerContext* ctx, const v1::SetJobBudgetRequest* req,
      v1::SetJobBudgetResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchBudgetAlertsResponse>* WatchBudgetAlerts(
      grpc::CallbackServerContext* ctx,
      const v1::WatchBudgetAlertsRequest* req) override;
  grpc::ServerUnaryReactor* FinalizeJobCost(
      grpc::CallbackServerContext* ctx, const v1::FinalizeJobCostRequest* req,
      v1::FinalizeJobCostResponse* resp) override;
  grpc::ServerUnaryReactor* GetCostReport(
      grpc::CallbackServerContext* ctx, const v1::GetCostReportRequest* req,
      v1::GetCostReportResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteJobData(
      grpc::CallbackServerContext* ctx, const v1::DeleteJobDataRequest* req,
      v1::DeleteJobDataResponse* resp) override;

 private:
  server::Rpc& rpc_;
  CostBook& book_;
  AlertHub& hub_;
  server::DeadlineTimer& timer_;
  const Clock& clock_;
  const Clock& wall_clock_;
  const absl::Duration heartbeat_;
};

}  // namespace trainyard::cost
