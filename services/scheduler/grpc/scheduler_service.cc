// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/scheduler_service.h"

#include <algorithm>

#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "services/scheduler/grpc/requests.h"

namespace trainyard::scheduler {
namespace {

using server::CallInfo;

// The page [offset, offset + size) of `items`, in place.
template <typename T>
void TakePage(std::vector<T>& items, int64_t offset, int size) {
  if (offset >= static_cast<int64_t>(items.size())) {
    items.clear();
    return;
  }
  items.erase(items.begin(), items.begin() + offset);
  if (items.size() > static_cast<size_t>(size)) items.resize(size);
}

template <typename T>
std::vector<T> Matching(std::vector<T> items,
                        const std::function<bool(const T&)>& match) {
  if (!match) return items;
  std::vector<T> out;
  for (auto& item : items) {
    if (match(item)) out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

SchedulerServiceImpl::SchedulerServiceImpl(server::Rpc& rpc,
                                           Scheduler& scheduler,
                                           const Clock& clock,
                                           StreamDeps stream_deps)
    : rpc_(rpc),
      scheduler_(scheduler),
      clock_(clock),
      stream_deps_(stream_deps) {}

grpc::ServerUnaryReactor* SchedulerServiceImpl::Enqueue(
    grpc::CallbackServerContext* ctx, const v1::EnqueueRequest* req,
    v1::EnqueueResponse* resp) {
  return rpc_.Unary(ctx, "Enqueue", req, resp,
                    [this](const CallInfo&, const v1::EnqueueRequest& r,
                           v1::EnqueueResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(EnqueueCommand cmd, ToEnqueue(r));
                      ASSIGN_OR_RETURN(*out.mutable_entry(),
                                       scheduler_.Enqueue(cmd));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::RemoveFromQueue(
    grpc::CallbackServerContext* ctx, const v1::RemoveFromQueueRequest* req,
    v1::RemoveFromQueueResponse* resp) {
  return rpc_.Unary(ctx, "RemoveFromQueue", req, resp,
                    [this](const CallInfo&, const v1::RemoveFromQueueRequest& r,
                           v1::RemoveFromQueueResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(RemoveCommand cmd, ToRemove(r));
                      ASSIGN_OR_RETURN(bool removed, scheduler_.Remove(cmd));
                      out.set_removed(removed);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::ReleaseSlot(
    grpc::CallbackServerContext* ctx, const v1::ReleaseSlotRequest* req,
    v1::ReleaseSlotResponse* resp) {
  return rpc_.Unary(ctx, "ReleaseSlot", req, resp,
                    [this](const CallInfo&, const v1::ReleaseSlotRequest& r,
                           v1::ReleaseSlotResponse& out) -> absl::Status {
                      ASSIGN_OR_RETURN(ReleaseCommand cmd, ToRelease(r));
                      ASSIGN_OR_RETURN(bool released, scheduler_.Release(cmd));
                      out.set_released(released);
                      return absl::OkStatus();
                    });
}

grpc::ServerWriteReactor<v1::WatchAssignmentsResponse>*
SchedulerServiceImpl::WatchAssignments(grpc::CallbackServerContext* ctx,
                                       const v1::WatchAssignmentsRequest* req) {
  absl::StatusOr<auth::Principal> principal =
      rpc_.Admit(ctx, "WatchAssignments");
  return StartAssignmentWatch(principal.status(), *req, stream_deps_);
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::Reconcile(
    grpc::CallbackServerContext* ctx, const v1::ReconcileRequest* req,
    v1::ReconcileResponse* resp) {
  return rpc_.Unary(
      ctx, "Reconcile", req, resp,
      [this](const CallInfo&, const v1::ReconcileRequest& r,
             v1::ReconcileResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(ReconcileQuery q, ToReconcile(r));
        ASSIGN_OR_RETURN(
            out, scheduler_.Reconcile(q.held, q.cursor_seq, q.validate_only));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::GetQueueEntry(
    grpc::CallbackServerContext* ctx, const v1::GetQueueEntryRequest* req,
    v1::GetQueueEntryResponse* resp) {
  return rpc_.Unary(ctx, "GetQueueEntry", req, resp,
                    [this](const CallInfo&, const v1::GetQueueEntryRequest& r,
                           v1::GetQueueEntryResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
                      ASSIGN_OR_RETURN(*out.mutable_entry(),
                                       scheduler_.GetEntry(r.job_id()));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::ListQueueEntries(
    grpc::CallbackServerContext* ctx, const v1::ListQueueEntriesRequest* req,
    v1::ListQueueEntriesResponse* resp) {
  return rpc_.Unary(
      ctx, "ListQueueEntries", req, resp,
      [this](const CallInfo&, const v1::ListQueueEntriesRequest& r,
             v1::ListQueueEntriesResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(ListQuery<v1::QueueEntry> q, ToQueueQuery(r));
        Scheduler::EntryPage page = scheduler_.ListEntries(
            q.match, static_cast<int>(q.offset), q.page_size);
        for (auto& e : page.entries) *out.add_entries() = std::move(e);
        out.set_total_size(page.total);
        out.set_next_page_token(NextPageToken("queue", q.binding, q.offset,
                                              out.entries_size(), page.total));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::ListActiveSlots(
    grpc::CallbackServerContext* ctx, const v1::ListActiveSlotsRequest* req,
    v1::ListActiveSlotsResponse* resp) {
  return rpc_.Unary(
      ctx, "ListActiveSlots", req, resp,
      [this](const CallInfo&, const v1::ListActiveSlotsRequest& r,
             v1::ListActiveSlotsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(SlotQuery q, ToSlotQuery(r));
        std::vector<v1::Slot> all = scheduler_.Slots();
        const v1::QueueStatus status = scheduler_.Status();
        out.set_used_slots(static_cast<int32_t>(all.size()));
        out.set_concurrency_limit(status.concurrency_limit());
        out.set_available_slots(status.available_slots());
        std::vector<v1::Slot> slots = Matching(std::move(all), q.list.match);
        if (q.by_assign_time) {
          std::stable_sort(
              slots.begin(), slots.end(), [](const auto& a, const auto& b) {
                return FromProto(a.assign_time()) < FromProto(b.assign_time());
              });
        }
        const int64_t total = static_cast<int64_t>(slots.size());
        TakePage(slots, q.list.offset, q.list.page_size);
        for (auto& s : slots) *out.add_slots() = std::move(s);
        out.set_total_size(static_cast<int32_t>(total));
        out.set_next_page_token(NextPageToken(
            "slots", q.list.binding, q.list.offset, out.slots_size(), total));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::GetQueueStatus(
    grpc::CallbackServerContext* ctx, const v1::GetQueueStatusRequest* req,
    v1::GetQueueStatusResponse* resp) {
  return rpc_.Unary(ctx, "GetQueueStatus", req, resp,
                    [this](const CallInfo&, const v1::GetQueueStatusRequest&,
                           v1::GetQueueStatusResponse& out) -> absl::Status {
                      *out.mutable_status() = scheduler_.Status();
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::GetQueueSettings(
    grpc::CallbackServerContext* ctx, const v1::GetQueueSettingsRequest* req,
    v1::GetQueueSettingsResponse* resp) {
  return rpc_.Unary(ctx, "GetQueueSettings", req, resp,
                    [this](const CallInfo&, const v1::GetQueueSettingsRequest&,
                           v1::GetQueueSettingsResponse& out) -> absl::Status {
                      *out.mutable_settings() = scheduler_.Settings();
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::UpdateQueueSettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateQueueSettingsRequest* req,
    v1::UpdateQueueSettingsResponse* resp) {
  return rpc_.Unary(
      ctx, "UpdateQueueSettings", req, resp,
      [this](const CallInfo& call, const v1::UpdateQueueSettingsRequest& r,
             v1::UpdateQueueSettingsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<std::string> paths, ToSettingsPaths(r));
        ASSIGN_OR_RETURN(
            *out.mutable_settings(),
            scheduler_.UpdateSettings(r.settings(), paths, call.principal));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::RequestPromotion(
    grpc::CallbackServerContext* ctx, const v1::RequestPromotionRequest* req,
    v1::RequestPromotionResponse* resp) {
  return rpc_.Unary(
      ctx, "RequestPromotion", req, resp,
      [this](const CallInfo& call, const v1::RequestPromotionRequest& r,
             v1::RequestPromotionResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(PromotionCommand cmd, ToPromotion(r));
        ASSIGN_OR_RETURN(*out.mutable_promotion(),
                         scheduler_.RequestPromotion(cmd, call.principal));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::ApprovePromotion(
    grpc::CallbackServerContext* ctx, const v1::ApprovePromotionRequest* req,
    v1::ApprovePromotionResponse* resp) {
  return rpc_.Unary(
      ctx, "ApprovePromotion", req, resp,
      [this](const CallInfo& call, const v1::ApprovePromotionRequest& r,
             v1::ApprovePromotionResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("promotion_id", r.promotion_id()));
        ASSIGN_OR_RETURN(auto decided, scheduler_.ApprovePromotion(
                                           r.promotion_id(), r.etag(),
                                           r.comment(), call.principal));
        *out.mutable_promotion() = std::move(decided.first);
        *out.mutable_entry() = std::move(decided.second);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::DenyPromotion(
    grpc::CallbackServerContext* ctx, const v1::DenyPromotionRequest* req,
    v1::DenyPromotionResponse* resp) {
  return rpc_.Unary(
      ctx, "DenyPromotion", req, resp,
      [this](const CallInfo& call, const v1::DenyPromotionRequest& r,
             v1::DenyPromotionResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("promotion_id", r.promotion_id()));
        ASSIGN_OR_RETURN(*out.mutable_promotion(),
                         scheduler_.DenyPromotion(r.promotion_id(), r.etag(),
                                                  r.comment(), call.principal));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::GetPromotion(
    grpc::CallbackServerContext* ctx, const v1::GetPromotionRequest* req,
    v1::GetPromotionResponse* resp) {
  return rpc_.Unary(
      ctx, "GetPromotion", req, resp,
      [this](const CallInfo&, const v1::GetPromotionRequest& r,
             v1::GetPromotionResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("promotion_id", r.promotion_id()));
        ASSIGN_OR_RETURN(*out.mutable_promotion(),
                         scheduler_.GetPromotion(r.promotion_id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::ListPromotions(
    grpc::CallbackServerContext* ctx, const v1::ListPromotionsRequest* req,
    v1::ListPromotionsResponse* resp) {
  return rpc_.Unary(
      ctx, "ListPromotions", req, resp,
      [this](const CallInfo&, const v1::ListPromotionsRequest& r,
             v1::ListPromotionsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(PromotionQuery q, ToPromotionQuery(r));
        std::vector<v1::Promotion> all =
            Matching(scheduler_.Promotions(), q.list.match);
        if (q.order_by != "create_time desc") {
          const bool by_expiry = q.order_by == "expire_time";
          std::stable_sort(all.begin(), all.end(),
                           [by_expiry](const auto& a, const auto& b) {
                             return by_expiry ? FromProto(a.expire_time()) <
                                                    FromProto(b.expire_time())
                                              : FromProto(a.create_time()) <
                                                    FromProto(b.create_time());
                           });
        }
        const int64_t total = static_cast<int64_t>(all.size());
        TakePage(all, q.list.offset, q.list.page_size);
        for (auto& p : all) *out.add_promotions() = std::move(p);
        out.set_total_size(static_cast<int32_t>(total));
        out.set_next_page_token(NextPageToken("promotions", q.list.binding,
                                              q.list.offset,
                                              out.promotions_size(), total));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::GetQueueAnalytics(
    grpc::CallbackServerContext* ctx, const v1::GetQueueAnalyticsRequest* req,
    v1::GetQueueAnalyticsResponse* resp) {
  return rpc_.Unary(
      ctx, "GetQueueAnalytics", req, resp,
      [this](const CallInfo&, const v1::GetQueueAnalyticsRequest& r,
             v1::GetQueueAnalyticsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(AnalyticsPeriod period, ToPeriod(r, clock_.Now()));
        out = scheduler_.Analytics(period.start, period.end);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::GetQueueNotificationSettings(
    grpc::CallbackServerContext* ctx,
    const v1::GetQueueNotificationSettingsRequest* req,
    v1::GetQueueNotificationSettingsResponse* resp) {
  return rpc_.Unary(
      ctx, "GetQueueNotificationSettings", req, resp,
      [this](const CallInfo& call,
             const v1::GetQueueNotificationSettingsRequest& r,
             v1::GetQueueNotificationSettingsResponse& out) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
        ASSIGN_OR_RETURN(
            *out.mutable_settings(),
            scheduler_.NotificationSettings(r.job_id(), call.principal.user));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SchedulerServiceImpl::UpdateQueueNotificationSettings(
    grpc::CallbackServerContext* ctx,
    const v1::UpdateQueueNotificationSettingsRequest* req,
    v1::UpdateQueueNotificationSettingsResponse* resp) {
  return rpc_.Unary(
      ctx, "UpdateQueueNotificationSettings", req, resp,
      [this](const CallInfo& call,
             const v1::UpdateQueueNotificationSettingsRequest& r,
             v1::UpdateQueueNotificationSettingsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(NotificationUpdate u, ToNotificationUpdate(r));
        ASSIGN_OR_RETURN(
            *out.mutable_settings(),
            scheduler_.UpdateNotificationSettings(
                u.settings, u.triggers, u.targets, call.principal.user));
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::WatchQueueResponse>*
SchedulerServiceImpl::WatchQueue(grpc::CallbackServerContext* ctx,
                                 const v1::WatchQueueRequest* req) {
  absl::StatusOr<auth::Principal> principal = rpc_.Admit(ctx, "WatchQueue");
  return StartQueueWatch(principal.status(), *req, stream_deps_);
}

}  // namespace trainyard::scheduler
