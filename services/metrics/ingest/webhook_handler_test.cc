// Copyright 2026 Trainyard authors.
//
// The webhook answers that the HTTP round trip cannot easily provoke
// (draining, overload), on a real RocksDB with a hand-built request.
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
  WebhookHandler Handler(bool draining, int max_in_flight = 512) {
    WebhookOptions options;
    options.max_in_flight = max_in_flight;
    return WebhookHandler(
        kKey, *ingestor_, clock_, [draining] { return draining; }, nullptr,
        options);
  }

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

TEST_F(WebhookHandlerTest, R_X_01_DrainingIs503WithRetryAfter) {
  http::HttpResponse r = Handler(/*draining=*/true).Handle(Request(kBody));
  EXPECT_EQ(r.status, 503);
  ASSERT_NE(r.FindHeader("Retry-After"), nullptr);
  EXPECT_EQ(*r.FindHeader("Retry-After"), "5");
  EXPECT_THAT(jobs_->State("j1"),
              testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(WebhookHandlerTest, R_X_01_OverloadIs429WithRetryAfter) {
  http::HttpResponse r =
      Handler(false, /*max_in_flight=*/0).Handle(Request(kBody));
  EXPECT_EQ(r.status, 429);
  ASSERT_NE(r.FindHeader("Retry-After"), nullptr);
  EXPECT_EQ(*r.FindHeader("Retry-After"), "1");
  EXPECT_THAT(jobs_->State("j1"),
              testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(WebhookHandlerTest, R_X_01_AcceptedThenDuplicate) {
  WebhookHandler handler = Handler(false);
  http::HttpResponse first = handler.Handle(Request(kBody));
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body, "{\"jobSeq\":1}");
  http::HttpResponse again = handler.Handle(Request(kBody));
  EXPECT_EQ(again.status, 200);
  EXPECT_THAT(again.body, HasSubstr("\"duplicate\":true"));
}

TEST_F(WebhookHandlerTest, R_X_01_BodyOverTheLimitIs413AndStoresNothing) {
  const size_t size = std::string_view(kBody).size();
  WebhookHandler exact(kKey, *ingestor_, clock_, [] { return false; }, nullptr,
                       {.max_body_bytes = size});
  WebhookHandler smaller(kKey, *ingestor_, clock_, [] { return false; },
                         nullptr, {.max_body_bytes = size - 1});
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
  EXPECT_EQ(Handler(false).Handle(r).status, 401);
}

}  // namespace
}  // namespace trainyard::metrics
