// Copyright 2026 Trainyard authors.
//
// metrics-ingest in process over real loopback HTTP and gRPC with a real
// RocksDB: signed webhooks in (every answer of webhooks.md), queries out.
#include <cmath>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/http/client.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "common/webhook/base64.h"
#include "common/webhook/signature.h"
#include "gtest/gtest.h"
#include "services/metrics/metrics_module.h"
#include "services/metrics/testing/metrics_harness.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::metrics {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::TempDir;
using ::trainyard::testing::TestServer;

class MetricsServiceTest : public ::testing::Test, public Harness {};

// The vector's body and job, signed now (its own signature is of a fixed
// timestamp long past; common/webhook's tests check it, with the derived
// secret, against the independent vectors).
TEST_F(MetricsServiceTest, R_X_01_VectorBodyIsAcceptedOnceThenReplayed) {
  auto first = Post(kVectorJob, kVectorId, kVectorBody);
  EXPECT_EQ(first.status, 200) << first.body;
  auto replay = Post(kVectorJob, kVectorId, kVectorBody);
  EXPECT_EQ(replay.status, 200);
  EXPECT_THAT(replay.body, HasSubstr("\"duplicate\":true"));
  v1::ListEventsResponse events = ListAll(kVectorJob);
  ASSERT_EQ(events.events_size(), 1);
  const v1::Event& e = events.events(0).event();
  EXPECT_EQ(e.event_id(), kVectorId);
  EXPECT_EQ(e.type(), common::v1::EVENT_TYPE_CHECKPOINT);
  EXPECT_EQ(e.checkpoint().step(), 800);
  EXPECT_EQ(e.raw_json(), kVectorBody);  // stored as sent (R-EVT-01)
  EXPECT_EQ(e.job_seq(), 1u);
  EXPECT_EQ(e.attempt_seq(), 99);
}

TEST_F(MetricsServiceTest, R_X_01_ReplayStormStoresOnce) {
  std::string body = MetricsBody(1, 10);
  std::vector<std::thread> senders;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    senders.emplace_back([&] {
      http::HttpClient client(server_.AdminUrl());
      int64_t ts = absl::ToUnixSeconds(wall_.Now());
      for (int j = 0; j < 10; ++j) {
        auto r = client.Send(
            http::Method::kPost, "/v1/webhooks/runpod/storm",
            {{"webhook-id", "evt_1_1"},
             {"webhook-timestamp", absl::StrCat(ts)},
             {"webhook-signature",
              webhook::Sign(webhook::DeriveJobSecretKey(master_key_, "storm"),
                            "evt_1_1", ts, body)}},
            body, "application/json");
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(ListAll("storm").events_size(), 1);
}

// Issue 10 item 8: webhook-timestamp and its 5-minute tolerance are real
// time, so a sender whose suite clock has another origin (or scale) is not
// rejected as stale; a timestamp in suite time is.
TEST_F(MetricsServiceTest, R_X_01_SignatureTimestampIsWallClockTime) {
  const int64_t suite = absl::ToUnixSeconds(server_.clock().Now());
  ASSERT_GT(std::abs(absl::ToUnixSeconds(wall_.Now()) - suite), 3600);
  EXPECT_EQ(Post("wall", "evt_1_1", MetricsBody(1, 1)).status, 200);
  auto suite_signed = Post("wall", "evt_1_2", MetricsBody(2, 2),
                           "application/json", std::nullopt, suite);
  EXPECT_EQ(suite_signed.status, 401);
  EXPECT_THAT(suite_signed.body, HasSubstr("timestamp"));
}

TEST_F(MetricsServiceTest, R_X_01_BadRequestsGetExactAnswersAndStoreNothing) {
  const std::string job = "bad";
  // 401: wrong signature, stale timestamp, missing headers.
  EXPECT_EQ(Post(job, "e1", MetricsBody(1, 1), "application/json",
                 "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .status,
            401);
  EXPECT_EQ(Post(job, "e1", MetricsBody(1, 1), "application/json", std::nullopt,
                 absl::ToUnixSeconds(wall_.Now()) - 301)
                .status,
            401);
  // 415: not JSON.
  EXPECT_EQ(Post(job, "e1", MetricsBody(1, 1), "text/plain").status, 415);
  // 413: over 1 MiB.
  EXPECT_EQ(Post(job, "e1", std::string(1 << 21, ' ')).status, 413);
  // 400 naming the field.
  auto malformed = Post(job, "e1", "{\"type\":");
  EXPECT_EQ(malformed.status, 400);
  auto empty = Post(job, "e1", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_THAT(empty.body, HasSubstr("empty body"));
  EXPECT_THAT(empty.body, ::testing::Not(HasSubstr("  ")));
  EXPECT_THAT(empty.body, HasSubstr("\"field\":\"body\""));
  auto unknown_type =
      Post(job, "e1", R"({"type":"party","attempt":1,"seq":1})");
  EXPECT_EQ(unknown_type.status, 400);
  EXPECT_THAT(unknown_type.body, HasSubstr("\"field\":\"type\""));
  auto bad_loss = Post(job, "e1", MetricsBody(1, 1, "\"abc\""));
  EXPECT_EQ(bad_loss.status, 400);
  EXPECT_THAT(bad_loss.body, HasSubstr("metrics.trainLoss"));
  auto bad_step = Post(job, "e1", MetricsBody(1, -5));
  EXPECT_EQ(bad_step.status, 400);
  EXPECT_THAT(bad_step.body, HasSubstr("\"field\":\"metrics.step\""));
  auto no_seq = Post(
      job, "e1",
      R"({"type":"info","attempt":1,"message":"hi","time":"2025-11-29T03:00:00Z"})");
  EXPECT_EQ(no_seq.status, 400);
  EXPECT_THAT(no_seq.body, HasSubstr("\"field\":\"seq\""));
  // Nothing of any of them was stored.
  EXPECT_EQ(ProgressCode(job), grpc::StatusCode::NOT_FOUND);
  // 401s are counted by cause.
  std::string metrics = server_.host().exposition().Render();
  EXPECT_THAT(metrics, HasSubstr("trainyard_webhook_auth_failures_total{reason="
                                 "\"signature_mismatch\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("trainyard_webhook_auth_failures_total{reason="
                                 "\"stale_timestamp\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("trainyard_webhooks_total{result=\"bad_request\"} 6"));
  // The 413 is the webhook handler's own answer, so it is counted too.
  EXPECT_THAT(metrics,
              HasSubstr("trainyard_webhooks_total{result=\"too_large\"} 1"));
}

TEST_F(MetricsServiceTest, R_DASH_01_R_DASH_05_WebhooksFeedProgressAndMetrics) {
  ASSERT_EQ(Post("j1", "evt_1_1", MetricsBody(1, 100, "0.389")).status, 200);
  server_.clock().Advance(absl::Seconds(60));
  ASSERT_EQ(Post("j1", "evt_1_2", MetricsBody(2, 200, "0.342")).status, 200);
  v1::GetProgressRequest preq;
  preq.set_job_id("j1");
  v1::GetProgressResponse presp;
  ASSERT_TRUE(Call(&v1::MetricsService::Stub::GetProgress, preq, &presp).ok());
  EXPECT_EQ(presp.progress().step(), 200);
  EXPECT_DOUBLE_EQ(presp.progress().percent(), 10);
  EXPECT_EQ(presp.progress().epoch(), 1);
  v1::GetCurrentMetricsRequest mreq;
  mreq.set_job_id("j1");
  v1::GetCurrentMetricsResponse mresp;
  ASSERT_TRUE(
      Call(&v1::MetricsService::Stub::GetCurrentMetrics, mreq, &mresp).ok());
  EXPECT_DOUBLE_EQ(mresp.metrics().train_loss().previous_value(), 0.389);
  EXPECT_EQ(mresp.metrics().train_loss().trend(), common::v1::TREND_IMPROVING);
  EXPECT_FALSE(mresp.metrics().low_utilization_warning());
  // R-DASH-04: the curve has both points; extras are series too.
  v1::GetLossCurveRequest creq;
  creq.set_job_id("j1");
  creq.add_series("train_loss");
  creq.add_series("extra.reward");
  v1::GetLossCurveResponse cresp;
  ASSERT_TRUE(Call(&v1::MetricsService::Stub::GetLossCurve, creq, &cresp).ok());
  ASSERT_EQ(cresp.curve().series_size(), 2);
  EXPECT_EQ(cresp.curve().series(0).points_size(), 2);
  EXPECT_EQ(cresp.curve().series(1).points_size(), 2);
}

TEST_F(MetricsServiceTest, R_STAGE_04_StageHistoryListsEverySubstatus) {
  for (int i = 1; i <= 2; ++i) {
    std::string body = absl::StrFormat(
        R"({"type":"status","attempt":1,"seq":%d,"time":"2025-11-29T03:00:0%dZ",)"
        R"("status":{"stage":"preprocessing","substatus":"step %d","stageProgress":%d}})",
        i, i, i, i * 10);
    ASSERT_EQ(Post("h1", absl::StrCat("evt_1_", i), body).status, 200);
  }
  v1::GetStagesRequest req;
  req.set_job_id("h1");
  v1::GetStagesResponse resp;
  ASSERT_TRUE(Call(&v1::MetricsService::Stub::GetStages, req, &resp).ok());
  const common::v1::StageInfo& pre = resp.stages().stages(0);
  ASSERT_EQ(pre.history_size(), 2);
  EXPECT_EQ(pre.history(0).substatus(), "step 1");
  EXPECT_EQ(pre.history(1).substatus(), "step 2");
  EXPECT_DOUBLE_EQ(pre.history(1).progress_percent(), 20);
  EXPECT_EQ(resp.stages().stages(1).history_size(), 0);
}

TEST_F(MetricsServiceTest, R_X_01_NanLossIsStoredAndRaisesDivergenceWarning) {
  ASSERT_EQ(Post("nan", "evt_2_1", MetricsBody(1, 801, "\"NaN\"")).status, 200);
  v1::ListEventsResponse events = ListAll("nan");
  ASSERT_EQ(events.events_size(), 2);
  EXPECT_TRUE(std::isnan(events.events(0).event().metrics().train_loss()));
  const v1::Event& warning = events.events(1).event();
  EXPECT_EQ(warning.type(), common::v1::EVENT_TYPE_WARNING);
  EXPECT_EQ(warning.source(), common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_THAT(warning.message(), HasSubstr("diverged"));
}

TEST_F(MetricsServiceTest, R_X_01_IngestEventsGivesPerEventResults) {
  v1::IngestEventsRequest req;
  auto add = [&](const std::string& id, int64_t step) {
    v1::IngestEvent* e = req.add_events();
    e->set_job_id("g1");
    e->set_event_id(id);
    e->set_type(common::v1::EVENT_TYPE_METRICS);
    e->set_attempt(1);
    e->set_attempt_seq(1);
    *e->mutable_occurred_time() = ToProto(server_.clock().Now());
    e->mutable_metrics()->set_step(step);
    e->mutable_metrics()->set_train_loss(1.0);
  };
  add("a", 1);
  add("b", -1);  // rejected
  add("a", 1);   // duplicate within the call
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kService);
  v1::IngestEventsResponse resp;
  ASSERT_TRUE(stub_->IngestEvents(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.results(0).outcome(), v1::INGEST_OUTCOME_ACCEPTED);
  EXPECT_EQ(resp.results(1).outcome(), v1::INGEST_OUTCOME_REJECTED);
  EXPECT_EQ(resp.results(1).field(), "metrics.step");
  EXPECT_EQ(resp.results(2).outcome(), v1::INGEST_OUTCOME_DUPLICATE);
  EXPECT_EQ(resp.results(2).job_seq(), resp.results(0).job_seq());
  // A later call: stored ids (looked up in one batch) are duplicates, new
  // ones are stored.
  v1::IngestEventsRequest again;
  *again.add_events() = req.events(0);  // "a", stored
  *again.add_events() = req.events(0);
  again.mutable_events(1)->set_event_id("c");
  *again.add_events() = req.events(0);
  grpc::ClientContext ctx2;
  TestServer::Authorize(ctx2, auth::Role::kService);
  v1::IngestEventsResponse resp2;
  ASSERT_TRUE(stub_->IngestEvents(&ctx2, again, &resp2).ok());
  ASSERT_EQ(resp2.results_size(), 3);
  EXPECT_EQ(resp2.results(0).outcome(), v1::INGEST_OUTCOME_DUPLICATE);
  EXPECT_EQ(resp2.results(0).job_seq(), resp.results(0).job_seq());
  EXPECT_EQ(resp2.results(1).outcome(), v1::INGEST_OUTCOME_ACCEPTED);
  EXPECT_EQ(resp2.results(1).job_seq(), resp.results(0).job_seq() + 1);
  EXPECT_EQ(resp2.results(2).outcome(), v1::INGEST_OUTCOME_DUPLICATE);
  // A viewer may not ingest.
  grpc::ClientContext viewer;
  TestServer::Authorize(viewer, auth::Role::kViewer);
  v1::IngestEventsResponse denied;
  EXPECT_EQ(stub_->IngestEvents(&viewer, req, &denied).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Without a master key nothing can be verified: 503 with Retry-After (the
// sender retries 5xx), counted like every other answer.
TEST(MetricsWebhooksOffTest, R_X_01_WebhooksOffAnswer503WithRetryAfter) {
  Harness off("", [](MetricsConfig& c) { c.master_key_file.clear(); });
  http::HttpResponse r = off.Post("j", "evt_1_1", off.MetricsBody(1, 1));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("webhooks are off"));
  const std::string* retry_after = r.FindHeader("retry-after");
  ASSERT_NE(retry_after, nullptr);
  EXPECT_EQ(*retry_after, "60");
  EXPECT_THAT(off.server_.host().exposition().Render(),
              HasSubstr("trainyard_webhooks_total{result=\"off\"} 1"));
}

// Issue 11: the admin server (and so the webhook route) is up before Warmup
// ends; until MarkServing a webhook is "starting" with a short Retry-After,
// then the same webhook is taken.
TEST(MetricsStartingTest, R_X_01_WebhookBeforeServingIs503Starting) {
  Harness h("", nullptr, /*serve=*/false);
  const std::string body = h.MetricsBody(1, 1);
  http::HttpResponse early = h.Post("j", "evt_1_1", body);
  EXPECT_EQ(early.status, 503);
  EXPECT_THAT(early.body, HasSubstr("\"reason\":\"starting\""));
  const std::string* retry_after = early.FindHeader("retry-after");
  ASSERT_NE(retry_after, nullptr);
  EXPECT_EQ(*retry_after, "1");
  EXPECT_THAT(h.server_.host().exposition().Render(),
              HasSubstr("trainyard_webhooks_total{result=\"starting\"} 1"));

  h.server_.host().MarkServing();
  http::HttpResponse taken = h.Post("j", "evt_1_1", body);
  EXPECT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(taken.body, "{\"jobSeq\":1}");
}

TEST(MetricsRestartTest, R_X_01_EverythingSurvivesARestart) {
  TempDir dir;
  std::string data = dir.Sub("db");
  {
    Harness first(data);
    for (int i = 1; i <= 100; ++i) {  // past a state snapshot
      ASSERT_EQ(first
                    .Post("r1", absl::StrCat("evt_1_", i),
                          first.MetricsBody(i, i * 10))
                    .status,
                200);
    }
  }
  Harness second(data);
  v1::GetProgressRequest preq;
  preq.set_job_id("r1");
  v1::GetProgressResponse presp;
  ASSERT_TRUE(
      second.Call(&v1::MetricsService::Stub::GetProgress, preq, &presp).ok());
  EXPECT_EQ(presp.progress().step(), 1000);
  EXPECT_EQ(presp.progress().job_seq(), 100u);
  // Replays after the restart are still recognized; new events continue the
  // gapless sequence.
  auto replay = second.Post("r1", "evt_1_7", second.MetricsBody(7, 70));
  EXPECT_THAT(replay.body, HasSubstr("\"duplicate\":true"));
  auto next = second.Post("r1", "evt_1_101", second.MetricsBody(101, 1010));
  EXPECT_THAT(next.body, HasSubstr("\"jobSeq\":101"));
  EXPECT_EQ(second.ListAll("r1").total_size(), 101);
}

}  // namespace
}  // namespace trainyard::metrics
