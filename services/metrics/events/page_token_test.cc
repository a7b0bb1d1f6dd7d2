// Copyright 2026 Trainyard authors.
//
// ListEvents page tokens (R-EVT-03).
#include "services/metrics/events/page_token.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::trainyard::testing::StatusIs;

TEST(PageTokenTest, R_EVT_03_RoundTrip) {
  PageToken token;
  token.binding = PageTokenBinding("job-1", "types=4");
  token.anchor_job_seq = 100000;
  token.last_job_seq = 99951;
  token.issue_time = absl::FromUnixSeconds(1764385200);
  const std::string text = EncodePageToken(token);
  EXPECT_EQ(text.size(), 44u);
  ASSERT_OK_AND_ASSIGN(PageToken back, DecodePageToken(text));
  EXPECT_EQ(back.binding, token.binding);
  EXPECT_EQ(back.anchor_job_seq, 100000u);
  EXPECT_EQ(back.last_job_seq, 99951u);
  EXPECT_EQ(back.issue_time, token.issue_time);
}

TEST(PageTokenTest, R_EVT_03_BindingDependsOnJobAndSelection) {
  EXPECT_EQ(PageTokenBinding("a", "x"), PageTokenBinding("a", "x"));
  EXPECT_NE(PageTokenBinding("a", "x"), PageTokenBinding("b", "x"));
  EXPECT_NE(PageTokenBinding("a", "x"), PageTokenBinding("a", "y"));
  EXPECT_NE(PageTokenBinding("ab", "c"), PageTokenBinding("a", "bc"));
}

TEST(PageTokenTest, R_EVT_03_MalformedTokens) {
  for (const std::string& bad :
       {std::string("not base64!"), std::string("AAAA"),
        std::string(44, 'A') /* version 0 */}) {
    absl::StatusOr<PageToken> token = DecodePageToken(bad);
    EXPECT_THAT(token, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_EQ(ErrorReason(token.status()), "INVALID_PAGE_TOKEN");
    ASSERT_EQ(FieldViolations(token.status()).size(), 1u);
    EXPECT_EQ(FieldViolations(token.status())[0].field, "page_token");
  }
}

}  // namespace
}  // namespace trainyard::metrics
