// Copyright 2026 The Trainyard Authors.

#include "common/http/router.h"

#include <string>

#include "gtest/gtest.h"

namespace trainyard::http {
namespace {

using Result = Router::Lookup::Result;

// A handler that answers with `tag` as the body, so tests can tell which
// route was found.
Handler Tagged(std::string tag) {
  return [tag](const HttpRequest&) {
    HttpResponse response;
    response.body = tag;
    return response;
  };
}

std::string Call(const Router::Lookup& lookup) {
  if (lookup.handler == nullptr) return "<none>";
  return (*lookup.handler)(HttpRequest()).body;
}

TEST(RouterTest, LiteralAndParams) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/healthz", Tagged("health")).ok());
  ASSERT_TRUE(
      router
          .Add(Method::kPost, "/v1/webhooks/runpod/{job_id}", Tagged("webhook"))
          .ok());
  ASSERT_TRUE(
      router
          .Add(Method::kGet, "/v1/jobs/{job_id}/events/{seq}", Tagged("event"))
          .ok());

  HttpParams params;
  Router::Lookup lookup = router.Find(Method::kGet, "/healthz", &params);
  EXPECT_EQ(lookup.result, Result::kFound);
  EXPECT_EQ(Call(lookup), "health");
  EXPECT_TRUE(params.empty());

  lookup = router.Find(Method::kPost, "/v1/webhooks/runpod/job-7f3a", &params);
  EXPECT_EQ(lookup.result, Result::kFound);
  EXPECT_EQ(Call(lookup), "webhook");
  EXPECT_EQ(params, (HttpParams{{"job_id", "job-7f3a"}}));

  params.clear();
  lookup = router.Find(Method::kGet, "/v1/jobs/j1/events/42", &params);
  EXPECT_EQ(Call(lookup), "event");
  EXPECT_EQ(params, (HttpParams{{"job_id", "j1"}, {"seq", "42"}}));
}

TEST(RouterTest, NotFound) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/healthz", Tagged("health")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("job")).ok());
  HttpParams params;
  for (const char* path : {"/healthz/", "/healthzz", "/v1/jobs", "/v1/jobs/",
                           "/v1/jobs/a/b", "/", "", "healthz", "/v1/jobs//"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(router.Find(Method::kGet, path, &params).result,
              Result::kNotFound);
  }
  EXPECT_TRUE(params.empty());
}

TEST(RouterTest, RootPattern) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/", Tagged("root")).ok());
  HttpParams params;
  EXPECT_EQ(Call(router.Find(Method::kGet, "/", &params)), "root");
  EXPECT_EQ(router.Find(Method::kGet, "/x", &params).result, Result::kNotFound);
}

TEST(RouterTest, LiteralBeatsParamWhateverTheOrder) {
  for (bool literal_first : {true, false}) {
    SCOPED_TRACE(literal_first);
    Router router;
    if (literal_first) {
      ASSERT_TRUE(
          router.Add(Method::kGet, "/v1/jobs/active", Tagged("lit")).ok());
    }
    ASSERT_TRUE(
        router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("param")).ok());
    ASSERT_TRUE(
        router.Add(Method::kGet, "/v1/{kind}/active", Tagged("early")).ok());
    if (!literal_first) {
      ASSERT_TRUE(
          router.Add(Method::kGet, "/v1/jobs/active", Tagged("lit")).ok());
    }
    HttpParams params;
    EXPECT_EQ(Call(router.Find(Method::kGet, "/v1/jobs/active", &params)),
              "lit");
    EXPECT_TRUE(params.empty());
    EXPECT_EQ(Call(router.Find(Method::kGet, "/v1/jobs/j-1", &params)),
              "param");
    EXPECT_EQ(params, (HttpParams{{"id", "j-1"}}));
    params.clear();
    EXPECT_EQ(Call(router.Find(Method::kGet, "/v1/pods/active", &params)),
              "early");
    EXPECT_EQ(params, (HttpParams{{"kind", "pods"}}));
  }
}

TEST(RouterTest, EarliestLiteralDecides) {
  Router router;
  ASSERT_TRUE(
      router.Add(Method::kGet, "/v1/{kind}/active", Tagged("late")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("early")).ok());
  HttpParams params;
  EXPECT_EQ(Call(router.Find(Method::kGet, "/v1/jobs/active", &params)),
            "early");
  EXPECT_EQ(params, (HttpParams{{"id", "active"}}));
}

TEST(RouterTest, LessSpecificRouteServesOtherMethods) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kPost, "/v1/jobs/active", Tagged("lit")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("param")).ok());
  HttpParams params;
  EXPECT_EQ(Call(router.Find(Method::kGet, "/v1/jobs/active", &params)),
            "param");
  EXPECT_EQ(params, (HttpParams{{"id", "active"}}));
}

TEST(RouterTest, MethodNotAllowedListsMethods) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("get")).ok());
  ASSERT_TRUE(
      router.Add(Method::kDelete, "/v1/jobs/{job}", Tagged("del")).ok());
  ASSERT_TRUE(
      router.Add(Method::kPost, "/v1/jobs/active", Tagged("post")).ok());
  HttpParams params;
  Router::Lookup lookup = router.Find(Method::kPut, "/v1/jobs/j-1", &params);
  EXPECT_EQ(lookup.result, Result::kMethodNotAllowed);
  EXPECT_EQ(lookup.allow, "GET, HEAD, DELETE");
  lookup = router.Find(Method::kPut, "/v1/jobs/active", &params);
  EXPECT_EQ(lookup.allow, "GET, HEAD, POST, DELETE");
  EXPECT_TRUE(params.empty());
  EXPECT_EQ(Call(router.Find(Method::kDelete, "/v1/jobs/j-2", &params)), "del");
  EXPECT_EQ(params, (HttpParams{{"job", "j-2"}}));
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/metrics", Tagged("get")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/both", Tagged("get")).ok());
  ASSERT_TRUE(router.Add(Method::kHead, "/both", Tagged("head")).ok());
  HttpParams params;
  EXPECT_EQ(Call(router.Find(Method::kHead, "/metrics", &params)), "get");
  EXPECT_EQ(Call(router.Find(Method::kHead, "/both", &params)), "head");
}

TEST(RouterTest, RejectsMalformedPatterns) {
  Router router;
  for (const char* pattern :
       {"", "healthz", "/v1/{", "/v1/{}", "/v1/{a-b}", "/v1/x{id}", "/v1/{id}x",
        "/v1/{id}/{id}", "/v1/a}"}) {
    SCOPED_TRACE(pattern);
    EXPECT_EQ(router.Add(Method::kGet, pattern, Tagged("x")).code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(router.Add(Method::kGet, "/x", nullptr).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RouterTest, RejectsDuplicates) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("a")).ok());
  EXPECT_EQ(router.Add(Method::kGet, "/v1/jobs/{id}", Tagged("b")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(router.Add(Method::kGet, "/v1/jobs/{other}", Tagged("b")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(router.Add(Method::kPost, "/v1/jobs/{id}", Tagged("c")).ok());
  EXPECT_TRUE(router.Add(Method::kGet, "/v1/jobs/{id}/x", Tagged("d")).ok());
}

}  // namespace
}  // namespace trainyard::http
