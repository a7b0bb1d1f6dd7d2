// Copyright 2026 Trainyard authors.
//
// WatchJobs over real gRPC in process (R-LIST-07, R-X-02, R-X-08): the
// initial sync or not, changes as they happen, per-job coalescing, resume
// after a disconnect, the view's filter and id list, heartbeats, a watcher
// that falls behind, a token of another epoch. WatchJobs' intervals and
// heartbeats run on a fake wall clock and timer: the tests advance them, and
// never wait for time.
#include <chrono>
#include <set>

#include "common/server/deadline_timer.h"
#include "common/status/errors.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "services/jobs/grpc/job_views_fixture.h"
#include "services/jobs/views/job_watch.h"

namespace trainyard::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using trainyard::testing::StatusIs;

class WatchJobsTest : public JobViewsTest {
 protected:
  WatchJobsTest() : timer_(wall_) {}

  void StartWatching(WatchLimits limits = {}) {
    views_ = [this, limits](const JobViewsDeps& d) {
      JobViewsDeps out{d.rpc, d.engine, d.index, d.sources, timer_, wall_};
      out.watch = limits;
      return out;
    };
    Start();
  }

  // Moves the watch's wall clock and lets the timer see it.
  void Advance(absl::Duration d) {
    wall_.Advance(d);
    timer_.KickAndWait();
  }

  class Watch {
   public:
    Watch(v1::JobService::Stub& stub, v1::WatchJobsRequest req) {
      TestServer::Authorize(ctx_, auth::Role::kViewer);
      // Only bounds a failing test; a passing one never waits on wall time.
      ctx_.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(20));
      reader_ = stub.WatchJobs(&ctx_, req);
    }
    ~Watch() {
      if (finished_) return;
      ctx_.TryCancel();
      reader_->Finish().IgnoreError();
    }
    v1::WatchJobsResponse Next() {
      v1::WatchJobsResponse msg;
      EXPECT_TRUE(reader_->Read(&msg));
      if (!msg.resume_token().empty()) token = msg.resume_token();
      return msg;
    }
    // Reads past heartbeats to the next change.
    v1::JobChange NextChange() {
      while (true) {
        v1::WatchJobsResponse msg;
        if (!reader_->Read(&msg)) {
          ADD_FAILURE() << "stream ended";
          return {};
        }
        token = msg.resume_token();
        if (msg.has_change()) return msg.change();
      }
    }
    absl::Status End() {
      v1::WatchJobsResponse msg;
      while (reader_->Read(&msg)) {
      }
      finished_ = true;
      return FromGrpcStatus(reader_->Finish());
    }
    std::string token;

   private:
    bool finished_ = false;
    grpc::ClientContext ctx_;
    std::unique_ptr<grpc::ClientReader<v1::WatchJobsResponse>> reader_;
  };

  std::unique_ptr<Watch> Open(const std::string& filter, bool initial,
                              const std::string& token = "",
                              absl::Duration interval = absl::Seconds(1)) {
    v1::WatchJobsRequest req;
    req.set_filter(filter);
    req.set_send_initial(initial);
    req.set_resume_token(token);
    *req.mutable_min_update_interval() = ToProto(interval);
    return std::make_unique<Watch>(*stub_, req);
  }

  static std::vector<std::string> Paths(const v1::JobChange& c) {
    return {c.changed_fields().paths().begin(),
            c.changed_fields().paths().end()};
  }

  FakeClock wall_;
  server::DeadlineTimer timer_;
};

TEST_F(WatchJobsTest, R_LIST_07_InitialSyncThenChangesOfTheView) {
  StartWatching();
  v1::Job a = Create("a");
  v1::Job b = Create("b");
  Create("theirs", auth::Role::kManager);
  auto w = Open("created_by = \"engineer\"", /*initial=*/true);
  std::set<std::string> existing;
  for (int i = 0; i < 2; ++i) {
    v1::WatchJobsResponse msg = w->Next();
    ASSERT_TRUE(msg.has_change());
    EXPECT_EQ(msg.change().type(), v1::CHANGE_TYPE_EXISTING);
    EXPECT_TRUE(msg.change().changed_fields().paths().empty());
    existing.insert(msg.change().job().job_id());
  }
  EXPECT_EQ(existing, (std::set<std::string>{a.job_id(), b.job_id()}));
  v1::WatchJobsResponse done = w->Next();
  ASSERT_TRUE(done.has_initial_sync_done());
  EXPECT_EQ(done.initial_sync_done().job_count(), 2);
  EXPECT_FALSE(done.resume_token().empty());

  SetCostAndState(a.job_id(), 12.5, common::v1::JOB_STATE_TRAINING);
  v1::JobChange c = w->NextChange();
  EXPECT_EQ(c.type(), v1::CHANGE_TYPE_MODIFIED);
  EXPECT_EQ(c.job().job_id(), a.job_id());
  EXPECT_EQ(c.job().state(), common::v1::JOB_STATE_TRAINING);
  EXPECT_EQ(c.job().cost().spend().micros(), 12500000);
  EXPECT_THAT(Paths(c), ::testing::IsSupersetOf({"state", "cost"}));
}

TEST_F(WatchJobsTest, R_LIST_07_WithoutInitialSyncStartsWithAHeartbeat) {
  StartWatching();
  Create("before");
  auto w = Open("", /*initial=*/false);
  v1::WatchJobsResponse first = w->Next();
  EXPECT_TRUE(first.has_heartbeat());  // no EXISTING, a token at once
  EXPECT_FALSE(first.resume_token().empty());
  v1::Job later = Create("later");
  v1::JobChange c = w->NextChange();
  EXPECT_EQ(c.type(), v1::CHANGE_TYPE_ADDED);
  EXPECT_EQ(c.job().job_id(), later.job_id());
}

TEST_F(WatchJobsTest, R_LIST_07_FilterAddsRemovesAndIgnoresJobsOutsideIt) {
  StartWatching();
  v1::Job a = Create("a");
  v1::Job b = Create("b");
  auto w = Open("state = TRAINING", /*initial=*/true);
  ASSERT_TRUE(w->Next().has_initial_sync_done());  // nothing trains yet
  SetCostAndState(a.job_id(), 1, common::v1::JOB_STATE_TRAINING);
  v1::JobChange added = w->NextChange();
  EXPECT_EQ(added.type(), v1::CHANGE_TYPE_ADDED);
  EXPECT_EQ(added.job().job_id(), a.job_id());
  Advance(absl::Seconds(1));
  SetCostAndState(b.job_id(), 2, common::v1::JOB_STATE_QUEUED);  // outside
  SetCostAndState(a.job_id(), 3, common::v1::JOB_STATE_PAUSING);
  v1::JobChange removed = w->NextChange();
  EXPECT_EQ(removed.type(), v1::CHANGE_TYPE_REMOVED);
  EXPECT_EQ(removed.job().job_id(), a.job_id());
  EXPECT_EQ(removed.job().state(), common::v1::JOB_STATE_PAUSING);

  // An id list narrows the view further (R-X-08: yardctl's one job).
  v1::WatchJobsRequest one;
  one.add_job_ids(b.job_id());
  one.set_send_initial(true);
  Watch only_b(*stub_, one);
  v1::WatchJobsResponse msg = only_b.Next();
  ASSERT_TRUE(msg.has_change());
  EXPECT_EQ(msg.change().job().job_id(), b.job_id());
  EXPECT_EQ(only_b.Next().initial_sync_done().job_count(), 1);
}

// At most one change per job per interval: three changes of a job within
// the interval arrive as one message with the latest state.
TEST_F(WatchJobsTest, R_LIST_07_ChangesOfAJobWithinTheIntervalAreCoalesced) {
  StartWatching();
  v1::Job a = Create("a");
  v1::Job b = Create("b");
  auto w = Open("", /*initial=*/false);
  ASSERT_TRUE(w->Next().has_heartbeat());
  SetCostAndState(a.job_id(), 1, common::v1::JOB_STATE_TRAINING);
  EXPECT_EQ(w->NextChange().job().cost().spend().micros(), 1000000);
  // The next round is due 1 s after that one began.
  SetCostAndState(a.job_id(), 2, common::v1::JOB_STATE_TRAINING);
  SetCostAndState(b.job_id(), 5, common::v1::JOB_STATE_TRAINING);
  SetCostAndState(a.job_id(), 3, common::v1::JOB_STATE_TRAINING);
  Advance(absl::Seconds(1));
  v1::JobChange first = w->NextChange();
  v1::JobChange second = w->NextChange();
  EXPECT_EQ(first.job().job_id(), a.job_id());
  EXPECT_EQ(first.job().cost().spend().micros(), 3000000);  // the latest
  EXPECT_THAT(Paths(first), ElementsAre("cost"));
  EXPECT_EQ(second.job().job_id(), b.job_id());
  // Nothing more about `a`: the next message is the idle heartbeat.
  Advance(absl::Seconds(15));
  EXPECT_TRUE(w->Next().has_heartbeat());
}

TEST_F(WatchJobsTest, R_X_02_ResumeAfterDisconnectMissesNothing) {
  StartWatching();
  v1::Job a = Create("a");
  std::string token;
  {
    auto w = Open("", /*initial=*/true);
    while (!w->Next().has_initial_sync_done()) {
    }
    SetCostAndState(a.job_id(), 1, common::v1::JOB_STATE_TRAINING);
    EXPECT_EQ(w->NextChange().job().job_id(), a.job_id());
    token = w->token;
  }  // disconnected
  SetCostAndState(a.job_id(), 7, common::v1::JOB_STATE_TRAINING);
  v1::Job b = Create("b");
  auto again = Open("", /*initial=*/true, token);  // initial ignored
  v1::JobChange c1 = again->NextChange();
  v1::JobChange c2 = again->NextChange();
  EXPECT_EQ(c1.type(), v1::CHANGE_TYPE_MODIFIED);
  EXPECT_EQ(c1.job().cost().spend().micros(), 7000000);
  EXPECT_EQ(c2.type(), v1::CHANGE_TYPE_ADDED);
  EXPECT_EQ(c2.job().job_id(), b.job_id());

  // A token is bound to its view.
  auto other = Open("state = QUEUED", false, token);
  absl::Status s = other->End();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "resume_token");
}

TEST_F(WatchJobsTest, R_X_02_TokenOfAnotherEpochAsksForAReload) {
  StartWatching();
  Create("a");
  absl::StatusOr<WatchView> view =
      ParseWatchView("", "", google::protobuf::RepeatedPtrField<std::string>());
  ASSERT_OK(view.status());
  // As if issued before a restart of job-control.
  std::string old = EncodeWatchToken(*view, {12345, 1});
  auto w = Open("", false, old);
  v1::WatchJobsResponse msg = w->Next();
  ASSERT_TRUE(msg.has_reset());
  EXPECT_THAT(msg.reset().reason(), ::testing::HasSubstr("ListJobs"));
  EXPECT_NE(msg.resume_token(), old);
}

TEST_F(WatchJobsTest, R_LIST_07_HeartbeatsWhenIdleOnTheWallClock) {
  StartWatching();
  auto w = Open("", false);
  ASSERT_TRUE(w->Next().has_heartbeat());  // t = 0
  Advance(absl::Seconds(10));
  v1::Job a = Create("a");  // t = 10: a change, not a heartbeat
  EXPECT_EQ(w->Next().change().job().job_id(), a.job_id());
  Advance(absl::Seconds(14));  // 14 s of silence: nothing due yet
  server_.clock().Advance(absl::Minutes(5));
  Advance(absl::Seconds(1));  // 15 s
  v1::WatchJobsResponse hb = w->Next();
  ASSERT_TRUE(hb.has_heartbeat());
  // The server's suite clock, moved 5 min above.
  EXPECT_EQ(FromProto(hb.heartbeat().server_time()), server_.clock().Now());
}

// A watcher that stops keeping up is told so instead of holding memory: the
// writers never wait for it, and it resumes from its token, coalesced.
TEST_F(WatchJobsTest, R_LIST_07_WatcherFallingBehindIsToldAndResumes) {
  WatchLimits limits;
  limits.max_lag_changes = 5;
  StartWatching(limits);
  v1::Job first = Create("first");
  auto w = Open("", false, "", absl::Seconds(60));
  ASSERT_TRUE(w->Next().has_heartbeat());
  SetCostAndState(first.job_id(), 1, common::v1::JOB_STATE_TRAINING);
  ASSERT_EQ(w->NextChange().job().job_id(), first.job_id());
  Advance(absl::Seconds(15));
  ASSERT_TRUE(w->Next().has_heartbeat());  // caught up
  std::set<std::string> created;
  for (int i = 0; i < 10; ++i)
    created.insert(Create(absl::StrCat("j", i)).job_id());
  Advance(absl::Seconds(45));  // the next round: 10 changes behind
  absl::Status s = w->End();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(ErrorReason(s), "SUBSCRIBER_FELL_BEHIND");

  auto again = Open("", false, w->token, absl::Seconds(60));
  std::set<std::string> seen;
  while (seen.size() < created.size()) {
    v1::JobChange c = again->NextChange();
    EXPECT_EQ(c.type(), v1::CHANGE_TYPE_ADDED);
    EXPECT_TRUE(seen.insert(c.job().job_id()).second) << "twice";
  }
  EXPECT_EQ(seen, created);
}

TEST_F(WatchJobsTest, R_LIST_07_BadRequestsNameTheField) {
  StartWatching();
  v1::WatchJobsRequest req;
  for (int i = 0; i < 501; ++i) req.add_job_ids(absl::StrCat("job-", i));
  Watch many(*stub_, req);
  absl::Status s = many.End();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "job_ids");
  auto bad = Open("state = SLEEPING", false);
  EXPECT_EQ(FieldViolations(bad->End())[0].field, "filter");
  auto negative = Open("", false, "", absl::Seconds(-1));
  EXPECT_EQ(FieldViolations(negative->End())[0].field, "min_update_interval");
  // The API's id rule (common/status/ids.h) on each job id.
  for (const char* id : {"", "../x", "Job-1"}) {
    v1::WatchJobsRequest ids;
    ids.add_job_ids("job-a");
    ids.add_job_ids(id);
    Watch bad_id(*stub_, ids);
    s = bad_id.End();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << id;
    EXPECT_EQ(FieldViolations(s)[0].field, "job_ids[1]") << id;
  }
}

TEST_F(WatchJobsTest, R_LIST_07_ShutdownEndsWatchesCleanly) {
  StartWatching();
  auto w = Open("", false);
  ASSERT_TRUE(w->Next().has_heartbeat());
  server_.Shutdown();
  EXPECT_OK(w->End());
}

}  // namespace
}  // namespace trainyard::jobs
