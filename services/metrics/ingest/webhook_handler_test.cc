// Copyright 2026 Trainyard authors.
//
// The webhook answers that the HTTP round trip cannot easily provoke
// (starting, draining, overload, a failing disk), on a real RocksDB with a
// hand-built request.
#include "services/metrics/ingest/webhook_handler.h"

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "common/webhook/signature.h"
#include "gtest/gtest.h"
#include "services/metrics/ingest/ingest_fixture.h"

namespace trainyard::metrics {
namespace {

using ::testing::HasSubstr;

class WebhookHandlerTest : public ::testing::Test, public IngestFixture {
 protected:
  WebhookHandler Handler(server::ServicePhase phase = Serving,
                         int max_in_flight = 512) {
    WebhookOptions options;
    options.max_in_flight = max_in_flight;
    return WebhookHandler(
        kKey, *ingestor_, clock_, [phase] { return phase; }, nullptr, options);
  }

  static constexpr server::ServicePhase Serving =
      server::ServicePhase::kServing;

  http::HttpRequest Request(std::string body) {
    http::HttpRequest r;
    r.method = http::Method::kPost;
    r.path = "/v1/webhooks/runpod/j1";
    r.path_params = {{"job_id", "j1"}};
    int64_t ts = absl::ToUnixSeconds(clock_.Now());
    r.headers = {{"Content-Type", "application/json"},
                 {"webhook-id", "evt_1_1"},
                 {"webhook-timestamp", absl::StrCat(ts)},
                 {"webhook-signature",
                  webhook::Sign(webhook::DeriveJobSecretKey(kKey, "j1"),
                                "evt_1_1", ts, body)}};
    r.body = std::move(body);
    return r;
  }

  static constexpr char kKey[] = "0123456789abcdef0123456789abcdef";
  static constexpr char kBody[] =
      R"({"type":"info","attempt":1,"seq":1,"time":"2025-11-29T03:00:00Z","message":"hello"})";
};

// Issue 11: before MarkServing (Warmup) the answer is "starting" with a short
// Retry-After, not "draining"; while the service shuts down, "draining".
TEST_F(WebhookHandlerTest, R_X_01_StartingAndDrainingAre503WithRetryAfter) {
  struct Case {
    server::ServicePhase phase;
    std::string reason;
    std::string retry_after;
  };
  for (const Case& c :
       {Case{server::ServicePhase::kStarting, "starting", "1"},
        Case{server::ServicePhase::kDraining, "draining", "5"}}) {
    SCOPED_TRACE(c.reason);
    http::HttpResponse r = Handler(c.phase).Handle(Request(kBody));
    EXPECT_EQ(r.status, 503);
    ASSERT_NE(r.FindHeader("Retry-After"), nullptr);
    EXPECT_EQ(*r.FindHeader("Retry-After"), c.retry_after);
    EXPECT_THAT(r.body, HasSubstr("\"reason\":\"" + c.reason + "\""));
    EXPECT_THAT(jobs_->State("j1"),
                testing::StatusIs(absl::StatusCode::kNotFound));
  }
}

// Issue 11: a failing disk is a retryable answer (503, Retry-After, the
// storage reason), never a 400 or a crash, and the same webhook is taken
// once the disk works again (storage::Db resumes writes by itself).
TEST_F(WebhookHandlerTest, R_X_01_StorageFaultIs503UntilItClears) {
  WebhookHandler handler = Handler();
  for (auto [fault, reason] :
       std::vector<std::pair<storage::testing::WalFault, std::string>>{
           {storage::testing::WalFault::kNoSpace, "STORAGE_FULL"},
           {storage::testing::WalFault::kFail, "STORAGE_ERROR"}}) {
    SCOPED_TRACE(reason);
    wal_->set_fault(fault);
    http::HttpResponse failed = handler.Handle(Request(kBody));
    EXPECT_EQ(failed.status, 503) << failed.body;
    ASSERT_NE(failed.FindHeader("Retry-After"), nullptr);
    EXPECT_EQ(*failed.FindHeader("Retry-After"), "1");
    EXPECT_THAT(failed.body, HasSubstr("\"reason\":\"" + reason + "\""));
    EXPECT_THAT(events_->FindByEventId("j1", "evt_1_1"),
                testing::IsOkAndHolds(std::nullopt));
    wal_->set_fault(storage::testing::WalFault::kNone);
  }
  http::HttpResponse accepted = handler.Handle(Request(kBody));
  EXPECT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.body, "{\"jobSeq\":1}");
  EXPECT_THAT(events_->FindByEventId("j1", "evt_1_1"),
              testing::IsOkAndHolds(std::optional<uint64_t>(1)));
}

TEST_F(WebhookHandlerTest, R_X_01_OverloadIs429WithRetryAfter) {
  http::HttpResponse r =
      Handler(Serving, /*max_in_flight=*/0).Handle(Request(kBody));
  EXPECT_EQ(r.status, 429);
  ASSERT_NE(r.FindHeader("Retry-After"), nullptr);
  EXPECT_EQ(*r.FindHeader("Retry-After"), "1");
  EXPECT_THAT(jobs_->State("j1"),
              testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(WebhookHandlerTest, R_X_01_AcceptedThenDuplicate) {
  WebhookHandler handler = Handler();
  http::HttpResponse first = handler.Handle(Request(kBody));
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body, "{\"jobSeq\":1}");
  http::HttpResponse again = handler.Handle(Request(kBody));
  EXPECT_EQ(again.status, 200);
  EXPECT_THAT(again.body, HasSubstr("\"duplicate\":true"));
}

TEST_F(WebhookHandlerTest, R_X_01_BodyOverTheLimitIs413AndStoresNothing) {
  const size_t size = std::string_view(kBody).size();
  WebhookHandler exact(kKey, *ingestor_, clock_,
                       [] { return server::ServicePhase::kServing; }, nullptr,
                       {.max_body_bytes = size});
  WebhookHandler smaller(kKey, *ingestor_, clock_,
                         [] { return server::ServicePhase::kServing; }, nullptr,
                         {.max_body_bytes = size - 1});
  http::HttpResponse r = smaller.Handle(Request(kBody));
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("body over"));
  EXPECT_THAT(jobs_->State("j1"),
              testing::StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(exact.Handle(Request(kBody)).status, 200);
}

TEST_F(WebhookHandlerTest, R_X_01_MissingWebhookIdIs401) {
  http::HttpRequest r = Request(kBody);
  r.headers.erase(r.headers.begin() + 1);  // webhook-id
  EXPECT_EQ(Handler().Handle(r).status, 401);
}

}  // namespace
}  // namespace trainyard::metrics
