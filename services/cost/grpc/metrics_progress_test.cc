// Copyright 2026 Trainyard authors.
//
// MetricsProgressSource against a real metrics-ingest process (the built
// trainyard-metrics on ephemeral ports and a temp data dir, fed through its
// IngestEvents), and against an address nobody listens on.
#include "services/cost/grpc/metrics_progress.h"

#include "common/testing/service_process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::cost {
namespace {

using trainyard::testing::ServiceProcess;
using trainyard::testing::TestServer;

// A container's METRICS report of attempt 1: `seq` seconds after a fixed past
// instant (so before the server's clock), at `step` of 2,000.
metrics::v1::IngestEvent MetricsEvent(const std::string& job, int seq,
                                      int step) {
  metrics::v1::IngestEvent e;
  e.set_job_id(job);
  e.set_event_id(absl::StrCat("evt_1_", seq));
  e.set_type(common::v1::EVENT_TYPE_METRICS);
  e.set_attempt(1);
  e.set_attempt_seq(seq);
  *e.mutable_occurred_time() =
      ToProto(absl::FromUnixSeconds(1764385800) + absl::Seconds(seq));
  e.mutable_metrics()->set_step(step);
  e.mutable_metrics()->set_total_steps(2000);
  e.mutable_metrics()->set_train_loss(0.5);
  return e;
}

TEST(MetricsProgress, R_DASH_06_ReadsProgressFromMetrics) {
  trainyard::testing::TempDir dir;
  const trainyard::testing::SharedFiles files(dir);
  ServiceProcess metrics(
      "metrics", dir.Sub("metrics-data"), dir.path(),
      {"--tokens_file=" + files.tokens_file, "--stall_check_interval=0s"});
  ASSERT_OK(metrics.Start());
  auto channel = grpc::CreateChannel(metrics.GrpcAddress(),
                                     grpc::InsecureChannelCredentials());
  metrics::v1::IngestEventsRequest req;
  *req.add_events() = MetricsEvent("job-1", 1, 100);
  *req.add_events() = MetricsEvent("job-1", 2, 110);
  metrics::v1::IngestEventsResponse resp;
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kService);
  grpc::Status ingested =
      metrics::v1::MetricsService::NewStub(channel)->IngestEvents(&ctx, req,
                                                                  &resp);
  ASSERT_TRUE(ingested.ok()) << ingested.error_message() << metrics.Log();
  for (const metrics::v1::IngestResult& r : resp.results()) {
    ASSERT_EQ(r.outcome(), metrics::v1::INGEST_OUTCOME_ACCEPTED) << r.reason();
  }

  MetricsProgressSource source(
      channel, TestServer::TokenFor(auth::Role::kService), absl::Seconds(5));
  absl::StatusOr<ProgressView> p = source.Progress("job-1");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->step, 110);
  EXPECT_EQ(p->total_steps, 2000);
  ASSERT_TRUE(p->seconds_per_step.has_value());
  EXPECT_NEAR(*p->seconds_per_step, 0.1, 1e-9);  // 10 steps in 1 s
  EXPECT_EQ(source.Progress("job-2").status().code(),
            absl::StatusCode::kNotFound);
  std::vector<absl::StatusOr<ProgressView>> many =
      source.ProgressMany({"job-1"});
  ASSERT_EQ(many.size(), 1u);
  ASSERT_OK(many[0].status());
  EXPECT_EQ(many[0]->step, 110);
  // One unknown job: every job of the batch falls back.
  many = source.ProgressMany({"job-1", "job-2"});
  EXPECT_FALSE(many[0].ok());
  EXPECT_FALSE(many[1].ok());
}

TEST(MetricsProgress, UnreachableMetricsIsAnErrorWithinTheDeadline) {
  // Port 1 on loopback: nothing listens there.
  MetricsProgressSource source(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
      "", absl::Milliseconds(300));
  absl::StatusOr<ProgressView> p = source.Progress("job-1");
  EXPECT_TRUE(p.status().code() == absl::StatusCode::kUnavailable ||
              p.status().code() == absl::StatusCode::kDeadlineExceeded)
      << p.status();
}

}  // namespace
}  // namespace trainyard::cost
