// Copyright 2026 Trainyard authors.
//
// Answers to requests that are bad as a whole, over a real channel to the
// real service: bytes that are not the method's message (issue 11 §3) and
// batches over IngestEvents' limits (metrics.proto).
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/testing/raw_call.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/metrics/testing/metrics_harness.h"

namespace trainyard::metrics {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TestServer;

class MetricsApiErrorsTest : public ::testing::Test, public Harness {
 protected:
  absl::Status Raw(bool stream, std::string_view method,
                   std::string_view bytes) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kService);
    std::string path =
        "/trainyard.metrics.v1.MetricsService/" + std::string(method);
    return FromGrpcStatus(
        stream
            ? testing::RawServerStreamCall(server_.Channel(), path, bytes, ctx)
            : testing::RawUnaryCall(server_.Channel(), path, bytes, ctx));
  }

  absl::Status Ingest(const v1::IngestEventsRequest& req) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kService);
    v1::IngestEventsResponse resp;
    return FromGrpcStatus(stub_->IngestEvents(&ctx, req, &resp));
  }

  v1::IngestEvent Event(int i) {
    v1::IngestEvent e;
    e.set_job_id("job-batch");
    e.set_event_id(absl::StrCat("evt_1_", i));
    e.set_type(common::v1::EVENT_TYPE_METRICS);
    e.set_attempt(1);
    e.set_attempt_seq(i);
    *e.mutable_occurred_time() = ToProto(server_.clock().Now());
    e.mutable_metrics()->set_step(i);
    return e;
  }
};

TEST_F(MetricsApiErrorsTest, R_X_01_UndecodableRequestsAreInvalidArgument) {
  // A truncated varint tag, for a unary and a streaming method.
  const std::string garbage = "\xff\xff\xff";
  // GetProgressRequest.job_id (field 1) holding invalid UTF-8.
  const std::string bad_utf8("\x0a\x04job\xff", 6);
  struct Case {
    bool stream;
    std::string method;
    std::string bytes;
    std::string type;
  };
  for (const Case& c :
       {Case{false, "IngestEvents", garbage, "IngestEventsRequest"},
        Case{false, "GetProgress", bad_utf8, "GetProgressRequest"},
        Case{true, "WatchEvents", garbage, "WatchEventsRequest"},
        Case{true, "SubscribeJob", bad_utf8, "SubscribeJobRequest"}}) {
    absl::Status s = Raw(c.stream, c.method, c.bytes);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.method;
    EXPECT_EQ(ErrorReason(s), "MALFORMED_REQUEST") << c.method;
    EXPECT_THAT(s.message(), HasSubstr("trainyard.metrics.v1." + c.type));
  }
  // Nothing was stored: the job is still unknown.
  EXPECT_THAT(Raw(false, "GetProgress", std::string("\x0a\x03job", 5)),
              StatusIs(absl::StatusCode::kNotFound));
}

// metrics.proto: over 1,000 events is INVALID_ARGUMENT naming `events`; over
// the 4 MiB message limit gRPC itself answers RESOURCE_EXHAUSTED, which the
// proto tells clients not to retry unchanged (split the batch). Neither
// stores anything.
TEST_F(MetricsApiErrorsTest, R_X_01_BatchesOverTheLimitsAreRefusedWhole) {
  v1::IngestEventsRequest too_many;
  for (int i = 1; i <= 1001; ++i) *too_many.add_events() = Event(i);
  absl::Status s = Ingest(too_many);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("1 to 1,000 events")));
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "events");

  v1::IngestEventsRequest too_big;
  for (int i = 1; i <= 80; ++i) {
    v1::IngestEvent* e = too_big.add_events();
    *e = Event(i);
    e->set_raw_json(absl::StrCat("\"", std::string(60 << 10, 'x'), "\""));
  }
  ASSERT_GT(too_big.ByteSizeLong(), size_t{4} << 20);
  EXPECT_THAT(Ingest(too_big), StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr("larger than max")));
  EXPECT_EQ(ProgressCode("job-batch"), grpc::StatusCode::NOT_FOUND);

  // The same events in batches under both limits are stored.
  v1::IngestEventsRequest half;
  for (int i = 1; i <= 40; ++i) *half.add_events() = too_big.events(i - 1);
  EXPECT_OK(Ingest(half));
  EXPECT_EQ(ProgressCode("job-batch"), grpc::StatusCode::OK);
}

// Issue 11 §4: one job id rule on every way in (webhook URL, IngestEvents,
// reads), and page_size < 0 refused by every list.
TEST_F(MetricsApiErrorsTest, R_X_01_JobIdsFollowOneRuleEverywhere) {
  const std::string bad = "Job-1";
  http::HttpResponse posted = Post(bad, "evt_1_1", MetricsBody(1, 1));
  EXPECT_EQ(posted.status, 400);
  // The handler names fields as the JSON does (webhook_handler.cc).
  EXPECT_THAT(posted.body, HasSubstr("\"field\":\"jobId\""));

  v1::IngestEventsRequest ingest;
  *ingest.add_events() = Event(1);
  ingest.mutable_events(0)->set_job_id("../etc");
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kService);
  v1::IngestEventsResponse results;
  ASSERT_TRUE(stub_->IngestEvents(&ctx, ingest, &results).ok());
  EXPECT_EQ(results.results(0).outcome(), v1::INGEST_OUTCOME_REJECTED);
  EXPECT_EQ(results.results(0).field(), "job_id");

  const std::string text =
      "job_id: must be 1 to 64 characters of a-z, 0-9, '_' and '-'";
  v1::GetProgressRequest progress;
  progress.set_job_id(bad);
  v1::GetProgressResponse progress_out;
  EXPECT_THAT(FromGrpcStatus(Call(&v1::MetricsService::Stub::GetProgress,
                                  progress, &progress_out)),
              StatusIs(absl::StatusCode::kInvalidArgument, text));
  v1::ListEventsRequest list;
  list.set_job_id("a/b");
  v1::ListEventsResponse list_out;
  EXPECT_THAT(FromGrpcStatus(
                  Call(&v1::MetricsService::Stub::ListEvents, list, &list_out)),
              StatusIs(absl::StatusCode::kInvalidArgument, text));
  v1::GetLossCurveRequest curve;
  curve.set_job_id(std::string(65, 'j'));
  v1::GetLossCurveResponse curve_out;
  EXPECT_THAT(FromGrpcStatus(Call(&v1::MetricsService::Stub::GetLossCurve,
                                  curve, &curve_out)),
              StatusIs(absl::StatusCode::kInvalidArgument, text));
  v1::BatchGetProgressRequest batch;
  batch.add_job_ids("job-a");
  batch.add_job_ids("job b");
  v1::BatchGetProgressResponse batch_out;
  absl::Status s = FromGrpcStatus(
      Call(&v1::MetricsService::Stub::BatchGetProgress, batch, &batch_out));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "job_ids[1]");
}

TEST_F(MetricsApiErrorsTest, R_DASH_04_NegativePageSizeIsInvalidOnEveryList) {
  ASSERT_EQ(Post("job-p", "evt_1_1", MetricsBody(1, 1)).status, 200);
  v1::ListSeriesRequest series;
  series.set_job_id("job-p");
  series.set_page_size(-1);
  v1::ListSeriesResponse series_out;
  absl::Status s = FromGrpcStatus(
      Call(&v1::MetricsService::Stub::ListSeries, series, &series_out));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "page_size");
  series.set_page_size(0);
  EXPECT_TRUE(
      Call(&v1::MetricsService::Stub::ListSeries, series, &series_out).ok());

  v1::ListEventsRequest events;
  events.set_job_id("job-p");
  events.set_page_size(-1);
  v1::ListEventsResponse events_out;
  s = FromGrpcStatus(
      Call(&v1::MetricsService::Stub::ListEvents, events, &events_out));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "page_size");
}

}  // namespace
}  // namespace trainyard::metrics
