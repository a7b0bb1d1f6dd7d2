// Copyright 2026 Trainyard authors.
//
// trainyard.scheduler.v1.SchedulerService: validates each request once,
// converts it into a typed command or query, and delegates to the Scheduler
// (app/). The streams are in streams.h.
#pragma once

#include "common/server/rpc.h"
#include "services/scheduler/app/scheduler.h"
#include "services/scheduler/grpc/streams.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace trainyard::scheduler {

class SchedulerServiceImpl final
    : public v1::SchedulerService::CallbackService {
 public:
  // References must outlive the service.
  SchedulerServiceImpl(server::Rpc& rpc, Scheduler& scheduler,
                       const Clock& clock, StreamDeps stream_deps);

  grpc::ServerUnaryReactor* Enqueue(grpc::CallbackServerContext* ctx,
                                    const v1::EnqueueRequest* req,
                                    v1::EnqueueResponse* resp) override;
  grpc::ServerUnaryReactor* RemoveFromQueue(
      grpc::CallbackServerContext* ctx, const v1::RemoveFromQueueRequest* req,
      v1::RemoveFromQueueResponse* resp) override;
  grpc::ServerUnaryReactor* ReleaseSlot(grpc::CallbackServerContext* ctx,
                                        const v1::ReleaseSlotRequest* req,
                                        v1::ReleaseSlotResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchAssignmentsResponse>* WatchAssignments(
      grpc::CallbackServerContext* ctx,
      const v1::WatchAssignmentsRequest* req) override;
  grpc::ServerUnaryReactor* Reconcile(grpc::CallbackServerContext* ctx,
                                      const v1::ReconcileRequest* req,
                                      v1::ReconcileResponse* resp) override;
  grpc::ServerUnaryReactor* GetQueueEntry(
      grpc::CallbackServerContext* ctx, const v1::GetQueueEntryRequest* req,
      v1::GetQueueEntryResponse* resp) override;
  grpc::ServerUnaryReactor* ListQueueEntries(
      grpc::CallbackServerContext* ctx, const v1::ListQueueEntriesRequest* req,
      v1::ListQueueEntriesResponse* resp) override;
  grpc::ServerUnaryReactor* ListActiveSlots(
      grpc::CallbackServerContext* ctx, const v1::ListActiveSlotsRequest* req,
      v1::ListActiveSlotsResponse* resp) override;
  grpc::ServerUnaryReactor* GetQueueStatus(
      grpc::CallbackServerContext* ctx, const v1::GetQueueStatusRequest* req,
      v1::GetQueueStatusResponse* resp) override;
  grpc::ServerUnaryReactor* GetQueueSettings(
      grpc::CallbackServerContext* ctx, const v1::GetQueueSettingsRequest* req,
      v1::GetQueueSettingsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateQueueSettings(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateQueueSettingsRequest* req,
      v1::UpdateQueueSettingsResponse* resp) override;
  grpc::ServerUnaryReactor* RequestPromotion(
      grpc::CallbackServerContext* ctx, const v1::RequestPromotionRequest* req,
      v1::RequestPromotionResponse* resp) override;
  grpc::ServerUnaryReactor* ApprovePromotion(
      grpc::CallbackServerContext* ctx, const v1::ApprovePromotionRequest* req,
      v1::ApprovePromotionResponse* resp) override;
  grpc::ServerUnaryReactor* DenyPromotion(
      grpc::CallbackServerContext* ctx, const v1::DenyPromotionRequest* req,
      v1::DenyPromotionResponse* resp) override;
  grpc::ServerUnaryReactor* GetPromotion(
      grpc::CallbackServerContext* ctx, const v1::GetPromotionRequest* req,
      v1::GetPromotionResponse* resp) override;
  grpc::ServerUnaryReactor* ListPromotions(
      grpc::CallbackServerContext* ctx, const v1::ListPromotionsRequest* req,
      v1::ListPromotionsResponse* resp) override;
  grpc::ServerUnaryReactor* GetQueueAnalytics(
      grpc::CallbackServerContext* ctx, const v1::GetQueueAnalyticsRequest* req,
      v1::GetQueueAnalyticsResponse* resp) override;
  grpc::ServerUnaryReactor* GetQueueNotificationSettings(
      grpc::CallbackServerContext* ctx,
      const v1::GetQueueNotificationSettingsRequest* req,
      v1::GetQueueNotificationSettingsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateQueueNotificationSettings(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateQueueNotificationSettingsRequest* req,
      v1::UpdateQueueNotificationSettingsResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchQueueResponse>* WatchQueue(
      grpc::CallbackServerContext* ctx,
      const v1::WatchQueueRequest* req) override;

 private:
  server::Rpc& rpc_;
  Scheduler& scheduler_;
  const Clock& clock_;
  const StreamDeps stream_deps_;
};

}  // namespace trainyard::scheduler
