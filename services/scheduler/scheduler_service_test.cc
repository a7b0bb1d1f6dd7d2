// Copyright 2026 Trainyard authors.
//
// queue-scheduler over real gRPC with a fake clock: every RPC answers, bad
// input gets the specific error, streams deliver and redeliver.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "common/status/errors.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "services/scheduler/testing/scheduler_harness.h"

namespace trainyard::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trainyard::testing::TempDir;
using Stub = v1::SchedulerService::Stub;

// The first BadRequest field and the ErrorInfo reason of a gRPC error.
struct Details {
  std::string field;
  std::string reason;
};
Details DetailsOf(const grpc::Status& s) {
  Details d;
  google::rpc::Status status;
  if (!status.ParseFromString(s.error_details())) return d;
  for (const auto& any : status.details()) {
    google::rpc::BadRequest bad;
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&bad) && bad.field_violations_size() > 0) {
      d.field = bad.field_violations(0).field();
    } else if (any.UnpackTo(&info)) {
      d.reason = info.reason();
    }
  }
  return d;
}

class SchedulerServiceTest : public ::testing::Test, public testing::Harness {
 protected:
  // Reads assignment messages until `n` assignments came (or the deadline).
  std::vector<v1::Assignment> ReadAssignments(const std::string& cursor,
                                              size_t n,
                                              std::string* last_cursor) {
    grpc::ClientContext ctx;
    ::trainyard::testing::TestServer::Authorize(ctx, auth::Role::kService);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::WatchAssignmentsRequest req;
    req.set_cursor(cursor);
    auto reader = stub_->WatchAssignments(&ctx, req);
    std::vector<v1::Assignment> out;
    v1::WatchAssignmentsResponse msg;
    while (out.size() < n && reader->Read(&msg)) {
      for (const auto& a : msg.assignments()) out.push_back(a);
      *last_cursor = msg.cursor();
    }
    ctx.TryCancel();
    reader->Finish();
    return out;
  }

  std::vector<std::string> Ids(const std::vector<v1::Assignment>& as) {
    std::vector<std::string> ids;
    for (const auto& a : as) ids.push_back(a.job_id());
    return ids;
  }

  v1::QueueSettings Settings() {
    v1::GetQueueSettingsResponse r;
    EXPECT_TRUE(
        Call(&Stub::GetQueueSettings, v1::GetQueueSettingsRequest(), &r).ok());
    return r.settings();
  }

  grpc::Status SetLimit(int limit, std::string etag = "") {
    v1::UpdateQueueSettingsRequest req;
    req.mutable_settings()->set_concurrency_limit(limit);
    req.mutable_settings()->set_etag(etag.empty() ? Settings().etag() : etag);
    req.mutable_update_mask()->add_paths("concurrency_limit");
    v1::UpdateQueueSettingsResponse resp;
    return Call(&Stub::UpdateQueueSettings, req, &resp, auth::Role::kAdmin);
  }
};

TEST_F(SchedulerServiceTest, R_Q_01_EnqueueValidatesAndNamesTheField) {
  v1::EnqueueRequest bad = Job("j", 1);
  bad.clear_job_id();
  v1::EnqueueResponse resp;
  grpc::Status s = Call(&Stub::Enqueue, bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).field, "job_id");
  bad = Job("j", 1, absl::ZeroDuration());
  s = Call(&Stub::Enqueue, bad, &resp);
  EXPECT_EQ(DetailsOf(s).field, "estimated_duration");
  bad = Job("j", 1);
  bad.add_notification_triggers(common::v1::NOTIFICATION_TRIGGER_JOB_FAILED);
  s = Call(&Stub::Enqueue, bad, &resp);
  EXPECT_EQ(DetailsOf(s).field, "notification_triggers[0]");
  // Role: service only.
  s = Call(&Stub::Enqueue, Job("j", 1), &resp, auth::Role::kEngineer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Idempotent: a second call is the same entry, not a second one.
  ASSERT_TRUE(SetLimit(1).ok());
  Enqueue(Job("run", 0));
  v1::EnqueueResponse first = Enqueue(Job("j", 1));
  v1::EnqueueResponse again = Enqueue(Job("j", 1));
  EXPECT_EQ(first.entry().position(), 1);
  EXPECT_EQ(again.entry().position(), 1);
  v1::GetQueueStatusResponse status;
  ASSERT_TRUE(Call(&Stub::GetQueueStatus, v1::GetQueueStatusRequest(), &status,
                   auth::Role::kViewer)
                  .ok());
  EXPECT_EQ(status.status().depth(), 1);
  EXPECT_EQ(status.status().used_slots(), 1);
  EXPECT_EQ(status.status().concurrency_limit(), 1);
  EXPECT_EQ(status.status().depth_level(), v1::DEPTH_LEVEL_LOW);
}

TEST_F(SchedulerServiceTest, R_Q_04_SettingsEtagBoundsAndRole) {
  v1::QueueSettings s0 = Settings();
  EXPECT_EQ(s0.concurrency_limit(), 3);
  EXPECT_FALSE(s0.etag().empty());
  grpc::Status zero = SetLimit(0);
  EXPECT_EQ(zero.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(zero).field, "settings.concurrency_limit");
  EXPECT_EQ(SetLimit(1000).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(SetLimit(5).ok());
  grpc::Status stale = SetLimit(6, s0.etag());
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(DetailsOf(stale).reason, "ETAG_MISMATCH");
  v1::UpdateQueueSettingsRequest no_etag;
  no_etag.mutable_settings()->set_concurrency_limit(4);
  v1::UpdateQueueSettingsResponse resp;
  grpc::Status s =
      Call(&Stub::UpdateQueueSettings, no_etag, &resp, auth::Role::kAdmin);
  EXPECT_EQ(DetailsOf(s).field, "settings.etag");
  no_etag.mutable_settings()->set_etag(Settings().etag());
  EXPECT_EQ(
      Call(&Stub::UpdateQueueSettings, no_etag, &resp, auth::Role::kManager)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Settings().concurrency_limit(), 5);
}

TEST_F(SchedulerServiceTest,
       R_X_02_AssignmentsInOrderRedeliveredAfterReconnectAndRestart) {
  for (int i = 0; i < 5; ++i) Enqueue(Job(absl::StrCat("j", i), i));
  std::string cursor;
  auto first = ReadAssignments("", 3, &cursor);
  EXPECT_THAT(Ids(first), ElementsAre("j0", "j1", "j2"));
  // job-control reconnects before it acknowledged them (its cursor is still
  // empty): the same assignments come again, same ids.
  std::string ignored;
  auto again = ReadAssignments("", 3, &ignored);
  EXPECT_THAT(Ids(again), ElementsAre("j0", "j1", "j2"));
  EXPECT_EQ(again[0].assignment_id(), first[0].assignment_id());
  // A release starts the next job; the stream resumes after the cursor.
  v1::ReleaseSlotRequest release;
  release.set_job_id("j0");
  release.set_assignment_id(first[0].assignment_id());
  release.set_outcome(v1::SLOT_OUTCOME_COMPLETED);
  release.set_request_id("j0/1/release");
  v1::ReleaseSlotResponse released;
  ASSERT_TRUE(Call(&Stub::ReleaseSlot, release, &released).ok());
  EXPECT_TRUE(released.released());
  auto next = ReadAssignments(cursor, 1, &cursor);
  EXPECT_THAT(Ids(next), ElementsAre("j3"));
  EXPECT_EQ(next[0].slot_index(), first[0].slot_index());  // j0's slot
  // A malformed cursor.
  grpc::ClientContext ctx;
  ::trainyard::testing::TestServer::Authorize(ctx, auth::Role::kService);
  v1::WatchAssignmentsRequest bad;
  bad.set_cursor("nope!");
  auto reader = stub_->WatchAssignments(&ctx, bad);
  v1::WatchAssignmentsResponse msg;
  EXPECT_FALSE(reader->Read(&msg));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).reason, "INVALID_PAGE_TOKEN");
}

TEST(SchedulerServiceRestart, R_X_02_UnacknowledgedAssignmentsSurviveARestart) {
  TempDir dir;
  std::string cursor_after_first;
  {
    testing::Harness h(dir.Sub("db"));
    for (int i = 0; i < 4; ++i) h.Enqueue(h.Job(absl::StrCat("j", i), i));
  }
  testing::Harness h(dir.Sub("db"));
  grpc::ClientContext ctx;
  ::trainyard::testing::TestServer::Authorize(ctx, auth::Role::kService);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto reader = h.stub_->WatchAssignments(&ctx, v1::WatchAssignmentsRequest());
  v1::WatchAssignmentsResponse msg;
  std::vector<std::string> ids;
  while (ids.size() < 3 && reader->Read(&msg)) {
    for (const auto& a : msg.assignments()) ids.push_back(a.job_id());
  }
  ctx.TryCancel();
  reader->Finish();
  EXPECT_THAT(ids, ElementsAre("j0", "j1", "j2"));
  v1::ListQueueEntriesResponse queue;
  ASSERT_TRUE(h.Call(&Stub::ListQueueEntries, v1::ListQueueEntriesRequest(),
                     &queue, auth::Role::kViewer)
                  .ok());
  ASSERT_EQ(queue.entries_size(), 1);
  EXPECT_EQ(queue.entries(0).job_id(), "j3");
}

TEST_F(SchedulerServiceTest,
       R_Q_01_ListQueueEntriesPagesFiltersAndRejectsBadTokens) {
  ASSERT_TRUE(SetLimit(1).ok());
  for (int i = 0; i < 8; ++i) {
    v1::EnqueueRequest r = Job(absl::StrCat("j", i), i);
    r.mutable_config()->set_gpu_type(i % 2 == 0 ? common::v1::GPU_TYPE_H100_80GB
                                                : common::v1::GPU_TYPE_L40S);
    Enqueue(r);
  }
  v1::ListQueueEntriesRequest req;
  req.set_page_size(3);
  v1::ListQueueEntriesResponse page;
  ASSERT_TRUE(
      Call(&Stub::ListQueueEntries, req, &page, auth::Role::kViewer).ok());
  EXPECT_EQ(page.total_size(), 7);
  ASSERT_EQ(page.entries_size(), 3);
  EXPECT_EQ(page.entries(0).job_id(), "j1");
  EXPECT_EQ(page.entries(2).position(), 3);
  EXPECT_EQ(page.entries(0).confidence(), v1::CONFIDENCE_LOW);  // no speed
  req.set_page_token(page.next_page_token());
  ASSERT_TRUE(
      Call(&Stub::ListQueueEntries, req, &page, auth::Role::kViewer).ok());
  EXPECT_EQ(page.entries(0).job_id(), "j4");
  EXPECT_EQ(page.entries(0).position(), 4);
  // The token belongs to the unfiltered query.
  req.set_filter("gpu_type = L40S");
  grpc::Status s =
      Call(&Stub::ListQueueEntries, req, &page, auth::Role::kViewer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).field, "page_token");
  req.clear_page_token();
  ASSERT_TRUE(
      Call(&Stub::ListQueueEntries, req, &page, auth::Role::kViewer).ok());
  EXPECT_EQ(page.total_size(), 4);
  EXPECT_EQ(page.entries(1).job_id(), "j3");
  EXPECT_EQ(page.entries(1).position(), 3);  // positions in the whole queue
  req.set_filter("gpu_type = BANANA");
  s = Call(&Stub::ListQueueEntries, req, &page, auth::Role::kViewer);
  EXPECT_EQ(DetailsOf(s).field, "filter");
  req.set_filter("");
  req.set_page_size(-1);
  s = Call(&Stub::ListQueueEntries, req, &page, auth::Role::kViewer);
  EXPECT_EQ(DetailsOf(s).field, "page_size");
  v1::GetQueueEntryRequest get;
  get.set_job_id("j0");
  v1::GetQueueEntryResponse entry;
  s = Call(&Stub::GetQueueEntry, get, &entry, auth::Role::kViewer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(DetailsOf(s).reason, "JOB_NOT_QUEUED");
}

TEST_F(SchedulerServiceTest, R_Q_05_PromotionOverGrpc) {
  ASSERT_TRUE(SetLimit(1).ok());
  for (int i = 0; i < 4; ++i) Enqueue(Job(absl::StrCat("j", i), i));
  v1::RequestPromotionRequest req;
  req.set_request_id("p1");
  req.set_job_id("j3");
  req.set_reason(v1::PROMOTION_REASON_CLIENT_DEADLINE);
  req.set_justification(std::string(99, 'x'));
  v1::RequestPromotionResponse resp;
  grpc::Status s =
      Call(&Stub::RequestPromotion, req, &resp, auth::Role::kManager);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).field, "justification");
  req.set_justification(std::string(100, 'x'));
  EXPECT_EQ(Call(&Stub::RequestPromotion, req, &resp, auth::Role::kEngineer)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      Call(&Stub::RequestPromotion, req, &resp, auth::Role::kManager).ok());
  EXPECT_EQ(resp.promotion().impact().delayed_job_count(), 2);
  v1::ApprovePromotionRequest approve;
  approve.set_promotion_id(resp.promotion().promotion_id());
  approve.set_etag(resp.promotion().etag());
  v1::ApprovePromotionResponse approved;
  s = Call(&Stub::ApprovePromotion, approve, &approved, auth::Role::kManager);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(DetailsOf(s).reason, "SELF_APPROVAL");
  ASSERT_TRUE(
      Call(&Stub::ApprovePromotion, approve, &approved, auth::Role::kAdmin)
          .ok());
  EXPECT_EQ(approved.entry().position(), 1);
  v1::DenyPromotionRequest deny;
  deny.set_promotion_id(approve.promotion_id());
  deny.set_etag(approved.promotion().etag());
  v1::DenyPromotionResponse denied;
  s = Call(&Stub::DenyPromotion, deny, &denied, auth::Role::kAdmin);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::GetPromotionRequest get;
  get.set_promotion_id(approve.promotion_id());
  v1::GetPromotionResponse got;
  ASSERT_TRUE(Call(&Stub::GetPromotion, get, &got, auth::Role::kViewer).ok());
  EXPECT_EQ(got.promotion().state(), v1::PROMOTION_STATE_APPROVED);
  v1::ListPromotionsRequest list;
  list.set_filter("state = APPROVED AND job_id = j3");
  v1::ListPromotionsResponse listed;
  ASSERT_TRUE(
      Call(&Stub::ListPromotions, list, &listed, auth::Role::kViewer).ok());
  EXPECT_EQ(listed.total_size(), 1);
  list.set_filter("state = PENDING");
  ASSERT_TRUE(
      Call(&Stub::ListPromotions, list, &listed, auth::Role::kViewer).ok());
  EXPECT_EQ(listed.total_size(), 0);
  // The API's filter grammar (common.proto): OR groups and time ranges.
  list.set_filter(absl::StrCat(
      "(state = PENDING OR state = APPROVED) AND create_time <= \"",
      absl::FormatTime(absl::RFC3339_full, server_.clock().Now(),
                       absl::UTCTimeZone()),
      "\""));
  ASSERT_TRUE(
      Call(&Stub::ListPromotions, list, &listed, auth::Role::kViewer).ok());
  EXPECT_EQ(listed.total_size(), 1);
  list.set_filter("create_time > \"2100-01-01T00:00:00Z\"");
  ASSERT_TRUE(
      Call(&Stub::ListPromotions, list, &listed, auth::Role::kViewer).ok());
  EXPECT_EQ(listed.total_size(), 0);
  list.set_filter("");
  list.set_page_size(-1);
  s = Call(&Stub::ListPromotions, list, &listed, auth::Role::kViewer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).field, "page_size");
  list.set_page_size(0);
  for (const char* bad : {"job_id != j3", "(state = PENDING OR job_id = j3)",
                          "create_time > yesterday", "color = red"}) {
    list.set_filter(bad);
    s = Call(&Stub::ListPromotions, list, &listed, auth::Role::kViewer);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_EQ(DetailsOf(s).reason, "INVALID_FILTER") << bad;
    EXPECT_EQ(DetailsOf(s).field, "filter") << bad;
  }
}

TEST_F(SchedulerServiceTest,
       R_Q_02_R_Q_06_SlotsAnalyticsNotificationsReconcile) {
  Enqueue(Job("a", 0));
  server_.clock().Advance(absl::Minutes(30));
  v1::ListActiveSlotsResponse slots;
  ASSERT_TRUE(Call(&Stub::ListActiveSlots, v1::ListActiveSlotsRequest(), &slots,
                   auth::Role::kViewer)
                  .ok());
  EXPECT_EQ(slots.used_slots(), 1);
  EXPECT_EQ(slots.concurrency_limit(), 3);
  EXPECT_EQ(slots.available_slots(), 2);
  ASSERT_EQ(slots.slots_size(), 1);
  EXPECT_EQ(slots.slots(0).slot_index(), 1);
  v1::ListActiveSlotsRequest negative;
  negative.set_page_size(-1);
  grpc::Status bad_size =
      Call(&Stub::ListActiveSlots, negative, &slots, auth::Role::kViewer);
  EXPECT_EQ(bad_size.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(bad_size).field, "page_size");

  v1::GetQueueAnalyticsResponse analytics;
  ASSERT_TRUE(Call(&Stub::GetQueueAnalytics, v1::GetQueueAnalyticsRequest(),
                   &analytics, auth::Role::kViewer)
                  .ok());
  EXPECT_EQ(analytics.jobs_started(), 1);
  EXPECT_EQ(analytics.estimate_accuracy().sample_count(), 1);
  // Free slot: estimated at +5 min (provisioning), started at once.
  EXPECT_EQ(FromProto(analytics.estimate_accuracy().mean_absolute_error()),
            absl::Minutes(5));
  v1::GetQueueAnalyticsRequest bad_period;
  *bad_period.mutable_period()->mutable_start_time() = ToProto(absl::Now());
  *bad_period.mutable_period()->mutable_end_time() =
      ToProto(absl::Now() - absl::Hours(1));
  grpc::Status s = Call(&Stub::GetQueueAnalytics, bad_period, &analytics,
                        auth::Role::kViewer);
  EXPECT_EQ(DetailsOf(s).field, "period.end_time");

  v1::UpdateQueueNotificationSettingsRequest update;
  update.mutable_settings()->set_job_id("a");
  update.mutable_settings()->add_triggers(
      common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED);
  v1::UpdateQueueNotificationSettingsResponse updated;
  ASSERT_TRUE(Call(&Stub::UpdateQueueNotificationSettings, update, &updated,
                   auth::Role::kViewer)
                  .ok());
  EXPECT_EQ(updated.settings().user().user_id(), "viewer");
  v1::GetQueueNotificationSettingsRequest get;
  get.set_job_id("a");
  v1::GetQueueNotificationSettingsResponse got;
  ASSERT_TRUE(
      Call(&Stub::GetQueueNotificationSettings, get, &got, auth::Role::kViewer)
          .ok());
  EXPECT_EQ(got.settings().triggers_size(), 1);
  get.set_job_id("unknown");
  s = Call(&Stub::GetQueueNotificationSettings, get, &got, auth::Role::kViewer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::ReconcileRequest reconcile;
  reconcile.set_validate_only(true);
  v1::ReconcileResponse reconciled;
  ASSERT_TRUE(Call(&Stub::Reconcile, reconcile, &reconciled).ok());
  // Assigned 30 min ago, not held by job-control, no cursor: kept (job-control
  // has not processed it).
  EXPECT_EQ(reconciled.kept_size(), 1);
  EXPECT_EQ(reconciled.released_size(), 0);

  v1::RemoveFromQueueRequest remove;
  remove.set_job_id("a");
  v1::RemoveFromQueueResponse removed;
  ASSERT_TRUE(Call(&Stub::RemoveFromQueue, remove, &removed).ok());
  EXPECT_FALSE(removed.removed());  // running, not queued
}

// The API's id rule (common/status/ids.h) on every job_id the scheduler
// takes: INVALID_ARGUMENT naming the field (it took any string up to 128
// characters before).
TEST_F(SchedulerServiceTest, JobIdsFollowTheOneIdRule) {
  const std::string kBad[] = {"", "../x", "Job-1", std::string(65, 'a')};
  for (const std::string& id : kBad) {
    SCOPED_TRACE(id);
    auto expect_field = [](const grpc::Status& s, const std::string& field) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(DetailsOf(s).field, field);
    };
    v1::EnqueueResponse enqueued;
    v1::EnqueueRequest enqueue = Job("j", 1);
    enqueue.set_job_id(id);
    expect_field(Call(&Stub::Enqueue, enqueue, &enqueued), "job_id");
    v1::RemoveFromQueueRequest remove;
    remove.set_job_id(id);
    v1::RemoveFromQueueResponse removed;
    expect_field(Call(&Stub::RemoveFromQueue, remove, &removed), "job_id");
    v1::ReleaseSlotRequest release;
    release.set_job_id(id);
    release.set_attempt(1);
    release.set_outcome(v1::SLOT_OUTCOME_COMPLETED);
    v1::ReleaseSlotResponse released;
    expect_field(Call(&Stub::ReleaseSlot, release, &released), "job_id");
    v1::RequestPromotionRequest promote;
    promote.set_job_id(id);
    promote.set_reason(v1::PROMOTION_REASON_CLIENT_DEADLINE);
    promote.set_justification(std::string(100, 'x'));
    v1::RequestPromotionResponse promoted;
    expect_field(
        Call(&Stub::RequestPromotion, promote, &promoted, auth::Role::kManager),
        "job_id");
    v1::GetQueueEntryRequest get;
    get.set_job_id(id);
    v1::GetQueueEntryResponse entry;
    expect_field(Call(&Stub::GetQueueEntry, get, &entry, auth::Role::kViewer),
                 "job_id");
    v1::GetQueueNotificationSettingsRequest get_settings;
    get_settings.set_job_id(id);
    v1::GetQueueNotificationSettingsResponse settings;
    expect_field(Call(&Stub::GetQueueNotificationSettings, get_settings,
                      &settings, auth::Role::kViewer),
                 "job_id");
    v1::UpdateQueueNotificationSettingsRequest update;
    update.mutable_settings()->set_job_id(id);
    v1::UpdateQueueNotificationSettingsResponse updated;
    expect_field(Call(&Stub::UpdateQueueNotificationSettings, update, &updated,
                      auth::Role::kViewer),
                 "settings.job_id");
    v1::ReconcileRequest reconcile;
    reconcile.add_held_jobs()->set_job_id(id);
    v1::ReconcileResponse reconciled;
    expect_field(Call(&Stub::Reconcile, reconcile, &reconciled),
                 "held_jobs[0].job_id");
  }
  v1::RequestPromotionRequest unknown;
  unknown.set_job_id("job-unknown");
  unknown.set_reason(v1::PROMOTION_REASON_CLIENT_DEADLINE);
  unknown.set_justification(std::string(100, 'x'));
  v1::RequestPromotionResponse promoted;
  grpc::Status s =
      Call(&Stub::RequestPromotion, unknown, &promoted, auth::Role::kManager);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(DetailsOf(s).reason, "JOB_NOT_FOUND");
}

TEST_F(SchedulerServiceTest, R_Q_01_WatchQueueSendsASnapshotPerChange) {
  grpc::ClientContext ctx;
  ::trainyard::testing::TestServer::Authorize(ctx, auth::Role::kViewer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto reader = stub_->WatchQueue(&ctx, v1::WatchQueueRequest());
  v1::WatchQueueResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  ASSERT_TRUE(msg.has_snapshot());
  EXPECT_EQ(msg.snapshot().status().depth(), 0);
  ASSERT_TRUE(SetLimit(1).ok());
  Enqueue(Job("a", 0));
  Enqueue(Job("b", 1));
  // Coalesced: the latest state arrives (within a snapshot or two).
  while (reader->Read(&msg)) {
    if (msg.has_snapshot() && msg.snapshot().status().depth() == 1 &&
        msg.snapshot().slots_size() == 1) {
      break;
    }
  }
  EXPECT_EQ(msg.snapshot().entries(0).job_id(), "b");
  EXPECT_EQ(msg.snapshot().slots(0).job_id(), "a");
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(SchedulerServiceTest, R_Q_04_PrometheusMetricsOnTheAdminPort) {
  ASSERT_TRUE(SetLimit(1).ok());
  Enqueue(Job("a", 0));
  Enqueue(Job("b", 1));
  http::HttpClient admin(server_.AdminUrl());
  auto r = admin.Send(http::Method::kGet, "/metrics");
  ASSERT_OK(r.status());
  EXPECT_THAT(r->body, HasSubstr("trainyard_queue_depth 1"));
  EXPECT_THAT(r->body, HasSubstr("trainyard_queue_active_slots 1"));
  EXPECT_THAT(r->body, HasSubstr("trainyard_queue_concurrency_limit 1"));
  EXPECT_THAT(r->body, HasSubstr("trainyard_queue_assignments_total 1"));
  EXPECT_THAT(r->body, HasSubstr("trainyard_queue_wait_seconds_count 1"));
  EXPECT_THAT(r->body,
              HasSubstr("trainyard_queue_estimate_error_seconds_count 1"));
}

TEST(SchedulerServiceNotifications, R_Q_07_NotificationsReachTheJsonlFile) {
  TempDir dir;
  testing::Harness h("", dir.Sub("notifications.jsonl"));
  v1::EnqueueRequest r = h.Job("a", 0);
  r.add_notification_triggers(
      common::v1::NOTIFICATION_TRIGGER_PROVISIONING_STARTED);
  h.Enqueue(r);
  h.module_->FlushNotifications();
  std::ifstream in(dir.Sub("notifications.jsonl"));
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_THAT(line, HasSubstr("\"kind\":\"PROVISIONING_STARTED\""));
  EXPECT_THAT(line, HasSubstr("\"recipient\":\"engineer\""));
}

TEST(SchedulerServiceNotifications,
     R_Q_07_OptedInUserGetsSlackPostsOncePerCrossing) {
  // A local Slack-compatible receiver.
  absl::Mutex mu;
  std::vector<std::string> posts;
  http::HttpServer receiver{http::HttpServerOptions{}};
  receiver.Handle(http::Method::kPost, "/hooks/queue",
                  [&](const http::HttpRequest& r) {
                    absl::MutexLock lock(&mu);
                    posts.push_back(r.body);
                    return http::HttpResponse{};
                  });
  auto port = receiver.Start();
  ASSERT_OK(port.status());
  testing::Harness h("", "",
                     absl::StrCat("http://127.0.0.1:", *port, "/hooks/queue"));
  v1::UpdateQueueSettingsRequest limit;
  {
    v1::GetQueueSettingsResponse current;
    ASSERT_TRUE(
        h.Call(&Stub::GetQueueSettings, v1::GetQueueSettingsRequest(), &current)
            .ok());
    limit.mutable_settings()->set_concurrency_limit(1);
    limit.mutable_settings()->set_etag(current.settings().etag());
    limit.mutable_update_mask()->add_paths("concurrency_limit");
    v1::UpdateQueueSettingsResponse updated;
    ASSERT_TRUE(
        h.Call(&Stub::UpdateQueueSettings, limit, &updated, auth::Role::kAdmin)
            .ok());
  }
  for (int i = 0; i < 4; ++i) h.Enqueue(h.Job(absl::StrCat("j", i), i));
  // The viewer opts in for j3 (#3 in the queue): "reached #3" at once.
  v1::UpdateQueueNotificationSettingsRequest opt_in;
  opt_in.mutable_settings()->set_job_id("j3");
  opt_in.mutable_settings()->add_triggers(
      common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_THREE);
  opt_in.mutable_settings()->add_triggers(
      common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_ONE);
  v1::UpdateQueueNotificationSettingsResponse opted;
  ASSERT_TRUE(h.Call(&Stub::UpdateQueueNotificationSettings, opt_in, &opted,
                     auth::Role::kViewer)
                  .ok());
  // j1 and j2 leave the queue: j3 is #1.
  for (const char* id : {"j1", "j2"}) {
    v1::RemoveFromQueueRequest remove;
    remove.set_job_id(id);
    v1::RemoveFromQueueResponse removed;
    ASSERT_TRUE(h.Call(&Stub::RemoveFromQueue, remove, &removed).ok());
  }
  h.Enqueue(h.Job("j1", 1));  // same attempt again: no second entry
  h.module_->FlushNotifications();
  receiver.Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_THAT(posts[0], HasSubstr("#3 in the queue"));
  EXPECT_THAT(posts[1], HasSubstr("is next!"));
}

}  // namespace
}  // namespace trainyard::scheduler
