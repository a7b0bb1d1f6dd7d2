// Copyright 2026 Trainyard authors.
//
// SubscribeJob over real gRPC (R-EVT-04, R-X-02, R-DASH-07, R-DASH-09):
// snapshot then deltas, resume without gap or duplicate after a disconnect
// and after a server restart, a subscriber that falls behind, the end of a
// finished job, and shutdown. Sequence numbers (job_seq) are checked.
#include <set>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/metrics/testing/metrics_harness.h"

namespace trainyard::metrics {
namespace {

using ::trainyard::testing::TempDir;
using ::trainyard::testing::TestServer;

class Subscription {
 public:
  Subscription(v1::MetricsService::Stub& stub, const std::string& job,
               const std::string& token = "",
               absl::Duration interval = absl::Milliseconds(250)) {
    TestServer::Authorize(ctx_, auth::Role::kViewer);
    v1::SubscribeJobRequest req;
    req.set_job_id(job);
    req.set_resume_token(token);
    req.set_include_events(true);
    *req.mutable_min_update_interval() = ToProto(interval);
    reader_ = stub.SubscribeJob(&ctx_, req);
  }
  bool Read(v1::SubscribeJobResponse* out) { return reader_->Read(out); }
  grpc::Status Finish() { return reader_->Finish(); }
  void Cancel() { ctx_.TryCancel(); }

  // Reads until the stream has delivered every event up to `job_seq`;
  // returns the job_seqs of the events seen (deltas and snapshot).
  std::vector<uint64_t> ReadThrough(uint64_t job_seq, std::string* token) {
    std::vector<uint64_t> seqs;
    v1::SubscribeJobResponse msg;
    uint64_t reached = 0;
    while (reached < job_seq && Read(&msg)) {
      *token = msg.resume_token();
      if (msg.has_snapshot()) {
        for (const auto& e : msg.snapshot().recent_events())
          seqs.push_back(e.job_seq());
        reached = msg.snapshot().job_seq();
      } else if (msg.has_delta()) {
        for (const auto& e : msg.delta().events()) seqs.push_back(e.job_seq());
        reached = msg.delta().job_seq();
      }
    }
    return seqs;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeJobResponse>> reader_;
};

std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

class SubscriptionTest : public ::testing::Test, public Harness {
 protected:
  void PostMetrics(const std::string& job, int from, int to) {
    for (int i = from; i <= to; ++i) {
      ASSERT_EQ(
          Post(job, absl::StrCat("evt_1_", i), MetricsBody(i, i * 10)).status,
          200);
    }
  }
};

TEST_F(SubscriptionTest, R_EVT_04_SnapshotThenDeltasWithPoints) {
  PostMetrics("s1", 1, 2);
  Subscription sub(*stub_, "s1");
  v1::SubscribeJobResponse msg;
  ASSERT_TRUE(sub.Read(&msg));
  ASSERT_TRUE(msg.has_snapshot());
  EXPECT_EQ(msg.snapshot().job_seq(), 2u);
  EXPECT_EQ(msg.snapshot().progress().step(), 20);
  EXPECT_EQ(msg.snapshot().loss_curve().series(0).points_size(), 2);
  EXPECT_FALSE(msg.resume_token().empty());
  PostMetrics("s1", 3, 5);
  std::string token;
  std::vector<uint64_t> seqs = sub.ReadThrough(5, &token);
  EXPECT_EQ(seqs, Range(3, 5));  // no gap, no duplicate
  sub.Cancel();
}

// Subscribers asking for a snapshot at the same job_seq share its curve and
// events (SnapshotCache), but each gets its stages (and progress) projected
// at its own moment.
TEST_F(SubscriptionTest, R_X_02_SharedSnapshotsAreProjectedAnew) {
  PostMetrics("s10", 1, 3);
  v1::SubscribeJobResponse first, second;
  {
    Subscription a(*stub_, "s10");
    ASSERT_TRUE(a.Read(&first));
    a.Cancel();
  }
  server_.clock().Advance(absl::Minutes(7));
  {
    Subscription b(*stub_, "s10");
    ASSERT_TRUE(b.Read(&second));
    b.Cancel();
  }
  ASSERT_TRUE(first.has_snapshot());
  ASSERT_TRUE(second.has_snapshot());
  EXPECT_EQ(second.snapshot().job_seq(), 3u);
  EXPECT_EQ(second.snapshot().loss_curve().SerializeAsString(),
            first.snapshot().loss_curve().SerializeAsString());
  EXPECT_EQ(FromProto(second.snapshot().stages().as_of()) -
                FromProto(first.snapshot().stages().as_of()),
            absl::Minutes(7));
  auto training = [](const v1::JobSnapshot& s) {
    for (const auto& stage : s.stages().stages()) {
      if (stage.stage() == common::v1::STAGE_TRAINING) {
        return FromProto(stage.duration());
      }
    }
    return absl::ZeroDuration();
  };
  EXPECT_EQ(training(second.snapshot()) - training(first.snapshot()),
            absl::Minutes(7));
}

// Subscribers of one job share the Deltas they agree on (DeltaCache); each
// still gets every event exactly once, wherever it started.
TEST_F(SubscriptionTest, R_X_02_SubscribersSharingDeltasEachGetEveryEventOnce) {
  PostMetrics("s9", 1, 2);
  std::string token;
  {
    Subscription first(*stub_, "s9");
    first.ReadThrough(2, &token);  // a snapshot at job_seq 2
    first.Cancel();
  }
  PostMetrics("s9", 3, 4);
  Subscription a(*stub_, "s9");
  Subscription b(*stub_, "s9");
  Subscription resumed(*stub_, "s9", token);  // at job_seq 2, behind a and b
  v1::SubscribeJobResponse msg;
  ASSERT_TRUE(a.Read(&msg));
  ASSERT_TRUE(msg.has_snapshot());
  ASSERT_TRUE(b.Read(&msg));
  ASSERT_TRUE(msg.has_snapshot());
  for (int burst = 0; burst < 4; ++burst) {
    PostMetrics("s9", 5 + burst * 5, 9 + burst * 5);
  }
  std::string ignored;
  EXPECT_EQ(a.ReadThrough(24, &ignored), Range(5, 24));
  EXPECT_EQ(b.ReadThrough(24, &ignored), Range(5, 24));
  EXPECT_EQ(resumed.ReadThrough(24, &ignored), Range(3, 24));
  a.Cancel();
  b.Cancel();
  resumed.Cancel();
}

TEST_F(SubscriptionTest, R_X_02_ResumeAfterDisconnectHasNoGapNoDuplicate) {
  PostMetrics("s2", 1, 3);
  std::string token;
  {
    Subscription sub(*stub_, "s2");
    sub.ReadThrough(3, &token);
    sub.Cancel();
  }
  PostMetrics("s2", 4, 9);
  Subscription again(*stub_, "s2", token);
  std::string next;
  EXPECT_EQ(again.ReadThrough(9, &next), Range(4, 9));
  again.Cancel();
}

TEST_F(SubscriptionTest, R_X_02_TokenOfAnotherJobIsInvalidArgument) {
  PostMetrics("s3", 1, 1);
  PostMetrics("other", 1, 1);
  std::string token;
  {
    Subscription sub(*stub_, "other");
    sub.ReadThrough(1, &token);
    sub.Cancel();
  }
  Subscription wrong(*stub_, "s3", token);
  v1::SubscribeJobResponse msg;
  EXPECT_FALSE(wrong.Read(&msg));
  EXPECT_EQ(wrong.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SubscriptionTest, R_DASH_09_FinishedJobSendsFinalStateAndEnds) {
  v1::IngestEventsRequest req;
  v1::IngestEvent* e = req.add_events();
  e->set_job_id("done");
  e->set_event_id("jc_1");
  e->set_type(common::v1::EVENT_TYPE_INFO);
  e->set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  e->set_attempt(1);
  e->set_message("completed");
  *e->mutable_occurred_time() = ToProto(server_.clock().Now());
  e->mutable_lifecycle()->set_job_state(common::v1::JOB_STATE_COMPLETED);
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kService);
  v1::IngestEventsResponse resp;
  ASSERT_TRUE(stub_->IngestEvents(&ctx, req, &resp).ok());
  Subscription sub(*stub_, "done");
  v1::SubscribeJobResponse msg;
  ASSERT_TRUE(sub.Read(&msg));
  EXPECT_TRUE(msg.has_snapshot());
  ASSERT_TRUE(sub.Read(&msg));
  ASSERT_TRUE(msg.has_end());
  EXPECT_EQ(msg.end().final_state(), common::v1::JOB_STATE_COMPLETED);
  EXPECT_FALSE(sub.Read(&msg));
  EXPECT_TRUE(sub.Finish().ok());
}

TEST_F(SubscriptionTest, R_X_02_ServerShutdownEndsStreamsCleanly) {
  PostMetrics("s4", 1, 1);
  Subscription sub(*stub_, "s4");
  v1::SubscribeJobResponse msg;
  ASSERT_TRUE(sub.Read(&msg));
  server_.Shutdown();
  while (sub.Read(&msg)) {
  }
  EXPECT_TRUE(sub.Finish().ok());
}

TEST(SubscriptionLagTest, R_X_02_SlowSubscriberIsToldItFellBehindAndResumes) {
  Harness h("", [](MetricsConfig& c) { c.subscriber_max_lag_events = 5; });
  for (int i = 1; i <= 2; ++i) {
    ASSERT_EQ(
        h.Post("lag", absl::StrCat("evt_1_", i), h.MetricsBody(i, i)).status,
        200);
  }
  // Deltas at most every 2 s: the 20 events below land well before the next.
  Subscription sub(*h.stub_, "lag", "", absl::Seconds(2));
  v1::SubscribeJobResponse msg;
  ASSERT_TRUE(sub.Read(&msg));
  ASSERT_TRUE(msg.has_snapshot());
  std::string token = msg.resume_token();
  // The subscriber reads nothing while 20 events arrive: ingest answers each
  // at once regardless.
  for (int i = 3; i <= 22; ++i) {
    ASSERT_EQ(
        h.Post("lag", absl::StrCat("evt_1_", i), h.MetricsBody(i, i)).status,
        200);
  }
  std::vector<uint64_t> seen;
  bool fell_behind = false;
  while (sub.Read(&msg)) {
    token = msg.resume_token();
    if (msg.has_delta()) {
      for (const auto& e : msg.delta().events()) seen.push_back(e.job_seq());
    }
    fell_behind |= msg.has_fell_behind();
  }
  EXPECT_TRUE(fell_behind);
  EXPECT_TRUE(sub.Finish().ok());
  // Resuming from the token catches up with exactly what was missed.
  Subscription again(*h.stub_, "lag", token);
  std::string next;
  std::vector<uint64_t> rest = again.ReadThrough(22, &next);
  seen.insert(seen.end(), rest.begin(), rest.end());
  EXPECT_EQ(seen, Range(3, 22));
  again.Cancel();
  EXPECT_THAT(h.server_.host().exposition().Render(),
              ::testing::HasSubstr("trainyard_subscriber_lagged_total 1"));
}

TEST(SubscriptionRestartTest, R_X_02_ResumeAfterServerRestart) {
  TempDir dir;
  std::string token;
  {
    Harness first(dir.Sub("db"));
    for (int i = 1; i <= 3; ++i) {
      ASSERT_EQ(
          first.Post("rs", absl::StrCat("evt_1_", i), first.MetricsBody(i, i))
              .status,
          200);
    }
    Subscription sub(*first.stub_, "rs");
    sub.ReadThrough(3, &token);
    sub.Cancel();
  }
  Harness second(dir.Sub("db"));
  for (int i = 4; i <= 6; ++i) {
    ASSERT_EQ(
        second.Post("rs", absl::StrCat("evt_1_", i), second.MetricsBody(i, i))
            .status,
        200);
  }
  Subscription again(*second.stub_, "rs", token);
  std::string next;
  EXPECT_EQ(again.ReadThrough(6, &next), Range(4, 6));
  again.Cancel();
}

// Reads WatchEvents responses until `count` events arrived; returns their
// (job, job_seq) and leaves the last cursor in *cursor.
std::vector<std::pair<std::string, uint64_t>> Watch(
    v1::MetricsService::Stub& stub, const std::string& from_cursor,
    size_t count, std::string* cursor) {
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kService);
  v1::WatchEventsRequest req;
  req.set_cursor(from_cursor);
  req.set_start_from_oldest(from_cursor.empty());
  req.add_types(common::v1::EVENT_TYPE_METRICS);
  req.set_max_batch_size(2);
  auto reader = stub.WatchEvents(&ctx, req);
  std::vector<std::pair<std::string, uint64_t>> seen;
  v1::WatchEventsResponse resp;
  while (seen.size() < count && reader->Read(&resp)) {
    for (const auto& e : resp.events())
      seen.emplace_back(e.job_id(), e.job_seq());
    *cursor = resp.cursor();
  }
  ctx.TryCancel();
  return seen;
}

TEST(WatchEventsTest, R_X_02_CrossJobStreamResumesFromDurableCursor) {
  TempDir dir;
  std::string cursor;
  {
    Harness first(dir.Sub("db"));
    for (int i = 1; i <= 2; ++i) {
      for (const char* job : {"wa", "wb"}) {
        ASSERT_EQ(
            first.Post(job, absl::StrCat("evt_1_", i), first.MetricsBody(i, i))
                .status,
            200);
      }
    }
    auto seen = Watch(*first.stub_, "", 4, &cursor);
    std::vector<std::pair<std::string, uint64_t>> want = {
        {"wa", 1}, {"wb", 1}, {"wa", 2}, {"wb", 2}};
    EXPECT_EQ(seen, want);  // write order across jobs
  }
  // After a restart, the cursor still points where it did.
  Harness second(dir.Sub("db"));
  ASSERT_EQ(second.Post("wb", "evt_1_3", second.MetricsBody(3, 3)).status, 200);
  ASSERT_EQ(second.Post("wa", "evt_1_3", second.MetricsBody(3, 3)).status, 200);
  std::string next;
  auto rest = Watch(*second.stub_, cursor, 2, &next);
  std::vector<std::pair<std::string, uint64_t>> want = {{"wb", 3}, {"wa", 3}};
  EXPECT_EQ(rest, want);
}

}  // namespace
}  // namespace trainyard::metrics
