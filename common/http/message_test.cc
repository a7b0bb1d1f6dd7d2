// Copyright 2026 The Trainyard Authors.

#include "common/http/message.h"

#include "gtest/gtest.h"

namespace trainyard::http {
namespace {

TEST(JsonErrorTest, MessageOnly) {
  HttpResponse response = JsonError(404, "not found");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":"not found"})");
}

TEST(JsonErrorTest, WithField) {
  HttpResponse response = JsonError(400, "must be >= 1", "metrics.step");
  EXPECT_EQ(response.body,
            R"({"error":"must be >= 1","field":"metrics.step"})");
}

TEST(JsonErrorTest, WithReason) {
  EXPECT_EQ(JsonError(503, "wait", "", "starting").body,
            R"({"error":"wait","reason":"starting"})");
  EXPECT_EQ(JsonError(400, "bad", "seq", "R").body,
            R"({"error":"bad","field":"seq","reason":"R"})");
}

TEST(JsonErrorTest, EscapesQuotesAndReplacesInvalidUtf8) {
  HttpResponse response = JsonError(400, "bad \"x\"\n\xff", "a\\b");
  EXPECT_EQ(
      response.body,
      "{\"error\":\"bad \\\"x\\\"\\n\xEF\xBF\xBD\",\"field\":\"a\\\\b\"}");
}

TEST(HeadersTest, FindIgnoresCase) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", "evt_1_1"},
                     {"Webhook-ID", "second"}};
  ASSERT_NE(request.FindHeader("content-type"), nullptr);
  EXPECT_EQ(*request.FindHeader("content-type"), "application/json");
  EXPECT_EQ(request.Header("WEBHOOK-ID"), "evt_1_1");
  EXPECT_EQ(request.FindHeader("webhook-signature"), nullptr);
  EXPECT_EQ(request.Header("webhook-signature"), "");
}

TEST(HeadersTest, ParamsAreCaseSensitive) {
  HttpRequest request;
  request.path_params = {{"job_id", "j-1"}};
  request.query_params = {{"limit", "10"}, {"limit", "20"}};
  EXPECT_EQ(request.PathParam("job_id"), "j-1");
  EXPECT_EQ(request.PathParam("JOB_ID"), "");
  ASSERT_NE(request.FindQueryParam("limit"), nullptr);
  EXPECT_EQ(*request.FindQueryParam("limit"), "10");
}

TEST(HttpResponseTest, SetHeaderReplacesAllCases) {
  HttpResponse response;
  response.headers = {{"X-A", "1"}, {"x-a", "2"}, {"X-B", "3"}};
  response.SetHeader("X-a", "9");
  EXPECT_EQ(response.headers, (HttpHeaders{{"X-B", "3"}, {"X-a", "9"}}));
}

TEST(HttpResponseTest, RetryAfterRoundsUpToSeconds) {
  HttpResponse response = JsonError(503, "draining");
  response.SetRetryAfter(absl::Milliseconds(1200));
  ASSERT_NE(response.FindHeader("retry-after"), nullptr);
  EXPECT_EQ(*response.FindHeader("retry-after"), "2");
  response.SetRetryAfter(absl::Seconds(30));
  EXPECT_EQ(*response.FindHeader("Retry-After"), "30");
  response.SetRetryAfter(-absl::Seconds(3));
  EXPECT_EQ(*response.FindHeader("Retry-After"), "0");
  EXPECT_EQ(response.headers.size(), 1u);
}

TEST(MethodTest, NamesRoundTrip) {
  for (int i = 0; i < kNumMethods; ++i) {
    const Method method = static_cast<Method>(i);
    ASSERT_EQ(ParseMethod(MethodName(method)), method);
  }
  EXPECT_EQ(ParseMethod("get"), std::nullopt);
  EXPECT_EQ(ParseMethod("TRACE"), std::nullopt);
}

}  // namespace
}  // namespace trainyard::http
