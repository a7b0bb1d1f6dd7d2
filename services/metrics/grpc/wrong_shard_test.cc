// Copyright 2026 Trainyard authors.
//
// metrics-ingest as shard 0 of 2 (--shard=0/2) refuses the jobs of shard 1
// (common/shard: "job-2" is shard 1, "job-1" and "job-7f3a" shard 0) on the
// webhook (421) and on every call about a job (FAILED_PRECONDITION
// WRONG_SHARD naming the job's shard), and stores nothing of them.
#include "common/shard/shard.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/metrics/testing/metrics_harness.h"

namespace trainyard::metrics {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TestServer;

class WrongShardTest : public ::testing::Test, public Harness {
 protected:
  WrongShardTest()
      : Harness("",
                [](MetricsConfig& c) { c.shard = {.index = 0, .count = 2}; }) {}

  template <typename Req, typename Resp, typename Method>
  absl::Status As(auth::Role role, Method call, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, role);
    return FromGrpcStatus((stub_.get()->*call)(&ctx, req, resp));
  }

  // FAILED_PRECONDITION WRONG_SHARD naming `job` and its shard 1.
  static void ExpectWrongShard(const absl::Status& s, const std::string& job) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                            HasSubstr("belongs to metrics shard 1 of 2")));
    EXPECT_EQ(ErrorReason(s), shard::kWrongShardReason);
    std::map<std::string, std::string> meta = ErrorMetadata(s);
    EXPECT_EQ(meta["job_id"], job);
    EXPECT_EQ(meta["shard"], "1");
    EXPECT_EQ(meta["this_shard"], "0");
  }

  v1::IngestEvent Event(const std::string& job, int i) {
    v1::IngestEvent e;
    e.set_job_id(job);
    e.set_event_id(absl::StrCat("evt_1_", i));
    e.set_type(common::v1::EVENT_TYPE_INFO);
    e.set_attempt(1);
    e.set_attempt_seq(i);
    e.set_message("hello");
    *e.mutable_occurred_time() = ToProto(server_.clock().Now());
    return e;
  }
};

TEST_F(WrongShardTest, WebhookForAnotherShardsJobIs421WithItsShard) {
  ASSERT_EQ(shard::ShardOf("job-1", 2), 0);
  ASSERT_EQ(shard::ShardOf("job-2", 2), 1);
  EXPECT_EQ(Post("job-1", "e1", MetricsBody(1, 100)).status, 200);
  http::HttpResponse r = Post("job-2", "e1", MetricsBody(1, 100));
  EXPECT_EQ(r.status, 421);
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["reason"], "WRONG_SHARD");
  EXPECT_EQ(body["shard"], 1);
  EXPECT_EQ(body["shardCount"], 2);
  EXPECT_THAT(body["error"].get<std::string>(),
              HasSubstr("job job-2 belongs to metrics shard 1 of 2"));
  // A bad signature is still 401: only genuine senders learn the shard.
  EXPECT_EQ(
      Post("job-2", "e2", MetricsBody(2, 110), "application/json", "v1,AAAA")
          .status,
      401);
}

TEST_F(WrongShardTest, CallsAboutAnotherShardsJobAreFailedPrecondition) {
  ASSERT_EQ(Post("job-1", "e1", MetricsBody(1, 100)).status, 200);
  {
    v1::GetProgressRequest req;
    req.set_job_id("job-2");
    v1::GetProgressResponse resp;
    ExpectWrongShard(As(auth::Role::kViewer,
                        &v1::MetricsService::Stub::GetProgress, req, &resp),
                     "job-2");
    req.set_job_id("job-1");
    EXPECT_OK(As(auth::Role::kViewer, &v1::MetricsService::Stub::GetProgress,
                 req, &resp));
    // Not an id at all: the request's own validation answers.
    req.set_job_id("");
    EXPECT_THAT(As(auth::Role::kViewer, &v1::MetricsService::Stub::GetProgress,
                   req, &resp),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    v1::BatchGetProgressRequest req;
    req.add_job_ids("job-1");
    req.add_job_ids("job-2");
    v1::BatchGetProgressResponse resp;
    ExpectWrongShard(
        As(auth::Role::kViewer, &v1::MetricsService::Stub::BatchGetProgress,
           req, &resp),
        "job-2");
  }
  {
    v1::GetJobOverviewRequest req;
    req.set_job_id("job-2");
    v1::GetJobOverviewResponse resp;
    ExpectWrongShard(As(auth::Role::kViewer,
                        &v1::MetricsService::Stub::GetJobOverview, req, &resp),
                     "job-2");
  }
  {
    v1::GetLossCurveRequest req;
    req.set_job_id("job-2");
    v1::GetLossCurveResponse resp;
    ExpectWrongShard(As(auth::Role::kViewer,
                        &v1::MetricsService::Stub::GetLossCurve, req, &resp),
                     "job-2");
  }
  {
    v1::ListEventsRequest req;
    req.set_job_id("job-2");
    v1::ListEventsResponse resp;
    ExpectWrongShard(As(auth::Role::kViewer,
                        &v1::MetricsService::Stub::ListEvents, req, &resp),
                     "job-2");
  }
  {
    v1::DeleteJobDataRequest req;
    req.set_job_id("job-2");
    v1::DeleteJobDataResponse resp;
    ExpectWrongShard(As(auth::Role::kService,
                        &v1::MetricsService::Stub::DeleteJobData, req, &resp),
                     "job-2");
  }
  {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kViewer);
    v1::SubscribeJobRequest req;
    req.set_job_id("job-2");
    auto reader = stub_->SubscribeJob(&ctx, req);
    v1::SubscribeJobResponse resp;
    EXPECT_FALSE(reader->Read(&resp));
    ExpectWrongShard(FromGrpcStatus(reader->Finish()), "job-2");
  }
}

TEST_F(WrongShardTest, IngestBatchWithAnotherShardsJobStoresNothing) {
  v1::IngestEventsRequest req;
  *req.add_events() = Event("job-7f3a", 1);  // shard 0
  *req.add_events() = Event("job-2", 1);     // shard 1
  v1::IngestEventsResponse resp;
  ExpectWrongShard(As(auth::Role::kService,
                      &v1::MetricsService::Stub::IngestEvents, req, &resp),
                   "job-2");
  EXPECT_EQ(ProgressCode("job-7f3a"), grpc::StatusCode::NOT_FOUND);
  req.mutable_events()->RemoveLast();
  EXPECT_OK(As(auth::Role::kService, &v1::MetricsService::Stub::IngestEvents,
               req, &resp));
  EXPECT_EQ(ProgressCode("job-7f3a"), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace trainyard::metrics
