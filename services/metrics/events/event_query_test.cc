// Copyright 2026 Trainyard authors.
//
// The compiled selection shared by ListEvents and ExportEvents (R-EVT-02,
// R-EVT-05), on EventFacts directly.
#include "services/metrics/events/event_query.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::metrics {
namespace {

namespace common = ::trainyard::common::v1;
using metrics::v1::EventQuery;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

EventFacts Facts(uint64_t seq, common::EventType type, int64_t occurred_ns) {
  EventFacts f;
  f.job_seq = seq;
  f.type = static_cast<uint8_t>(type);
  f.source = common::EVENT_SOURCE_CONTAINER;
  f.attempt = 1;
  f.occurred_ns = occurred_ns;
  f.receive_ns = occurred_ns + 1;
  return f;
}

TEST(EventQueryTest, R_EVT_02_EmptySelectionSelectsEverything) {
  ASSERT_OK_AND_ASSIGN(EventSelector s,
                       CompileEventQuery(EventQuery(), "", ""));
  EXPECT_TRUE(s.MatchesFacts(Facts(1, common::EVENT_TYPE_ERROR, 0)));
  EXPECT_EQ(s.keyword(), nullptr);
  EXPECT_EQ(s.MatchesText("anything", 10), 1);
  EXPECT_EQ(s.order(), EventOrder::kOldestFirst);
}

TEST(EventQueryTest, R_EVT_02_TypesAreAnyOf) {
  EventQuery q;
  q.add_types(common::EVENT_TYPE_WARNING);
  q.add_types(common::EVENT_TYPE_ERROR);
  ASSERT_OK_AND_ASSIGN(EventSelector s, CompileEventQuery(q, "", ""));
  EXPECT_TRUE(s.MatchesFacts(Facts(1, common::EVENT_TYPE_WARNING, 0)));
  EXPECT_TRUE(s.MatchesFacts(Facts(1, common::EVENT_TYPE_ERROR, 0)));
  EXPECT_FALSE(s.MatchesFacts(Facts(1, common::EVENT_TYPE_METRICS, 0)));
}

TEST(EventQueryTest, R_EVT_02_TimeRangeIsHalfOpenToTheNanosecond) {
  EventQuery q;
  q.mutable_time_range()->mutable_start_time()->set_seconds(100);
  q.mutable_time_range()->mutable_start_time()->set_nanos(5);
  q.mutable_time_range()->mutable_end_time()->set_seconds(200);
  ASSERT_OK_AND_ASSIGN(EventSelector s, CompileEventQuery(q, "", ""));
  const auto t = common::EVENT_TYPE_INFO;
  EXPECT_FALSE(s.MatchesFacts(Facts(1, t, 100'000'000'004)));
  EXPECT_TRUE(s.MatchesFacts(Facts(1, t, 100'000'000'005)));
  EXPECT_TRUE(s.MatchesFacts(Facts(1, t, 199'999'999'999)));
  EXPECT_FALSE(s.MatchesFacts(Facts(1, t, 200'000'000'000)));
}

TEST(EventQueryTest, R_EVT_02_EmptyTimeRangeIsValidAndSelectsNothing) {
  EventQuery q;
  q.mutable_time_range()->mutable_start_time()->set_seconds(100);
  q.mutable_time_range()->mutable_end_time()->set_seconds(100);
  ASSERT_OK_AND_ASSIGN(EventSelector s, CompileEventQuery(q, "", ""));
  EXPECT_FALSE(
      s.MatchesFacts(Facts(1, common::EVENT_TYPE_INFO, 100'000'000'000)));
}

TEST(EventQueryTest, R_EVT_02_KeywordCountsMatchesInFoldedText) {
  EventQuery q;
  q.set_keyword("Loss");
  ASSERT_OK_AND_ASSIGN(EventSelector s, CompileEventQuery(q, "", ""));
  ASSERT_NE(s.keyword(), nullptr);
  EXPECT_EQ(s.MatchesText(FoldCase("LOSS loss"), 10), 2);
  EXPECT_EQ(s.MatchesText(FoldCase("LOSS loss"), 1), 1);
  EXPECT_EQ(s.MatchesText(FoldCase("nothing"), 10), 0);
}

TEST(EventQueryTest, R_EVT_02_KeywordOf200CodePointsIsAccepted) {
  EventQuery q;
  std::string keyword;
  for (int i = 0; i < 200; ++i) keyword += "✓";
  q.set_keyword(keyword);
  EXPECT_OK(CompileEventQuery(q, "", "").status());
  q.set_keyword(keyword + "x");
  EXPECT_THAT(CompileEventQuery(q, "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EventQueryTest, R_EVT_02_FilterErrorsAreSpecific) {
  auto description = [](std::string_view filter) {
    absl::StatusOr<EventSelector> s =
        CompileEventQuery(EventQuery(), filter, "");
    std::vector<FieldViolation> v = FieldViolations(s.status());
    return v.size() == 1 && v[0].field == "filter" ? v[0].description
                                                   : std::string("<none>");
  };
  EXPECT_THAT(description("type = WARNING"),
              HasSubstr("unknown field \"type\""));
  EXPECT_THAT(
      description("source > CONTAINER"),
      HasSubstr("operator \">\" is not accepted for source at position 0"));
  EXPECT_THAT(description("receive_time != \"2025-11-29T03:00:00Z\""),
              HasSubstr("accepted: <, <=, >, >="));
  EXPECT_THAT(description("source = \"CONTAINER\""),
              HasSubstr("invalid value \"CONTAINER\" for source"));
  EXPECT_THAT(description("attempt = 99999999999"),
              HasSubstr("an integer from -2147483648 to 2147483647"));
  EXPECT_THAT(description("stage = RUNNING"), HasSubstr("PREPROCESSING"));
  // Enum values in exact case.
  EXPECT_THAT(description("source = container"),
              HasSubstr("invalid value container for source at position 0"));
}

TEST(EventQueryTest, R_EVT_02_FactsOfEvent) {
  metrics::v1::Event e;
  e.set_job_seq(7);
  e.set_type(common::EVENT_TYPE_STATUS);
  e.set_source(common::EVENT_SOURCE_CONTROL_PLANE);
  e.set_attempt(3);
  e.mutable_occurred_time()->set_seconds(10);
  e.mutable_occurred_time()->set_nanos(20);
  e.mutable_receive_time()->set_seconds(11);
  EventFacts f = FactsOf(e);
  EXPECT_EQ(f.job_seq, 7u);
  EXPECT_EQ(f.type, common::EVENT_TYPE_STATUS);
  EXPECT_EQ(f.source, common::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_EQ(f.attempt, 3);
  EXPECT_EQ(f.occurred_ns, 10'000'000'020);
  EXPECT_EQ(f.receive_ns, 11'000'000'000);
  EXPECT_EQ(f.stage, kNoStage);
  e.mutable_status()->set_stage(common::STAGE_TRAINING);
  EXPECT_EQ(FactsOf(e).stage, common::STAGE_TRAINING);
}

TEST(EventQueryTest, R_EVT_03_CanonicalFormBindsTokens) {
  EventQuery q;
  q.add_types(common::EVENT_TYPE_WARNING);
  q.add_types(common::EVENT_TYPE_STATUS);
  EventQuery reordered;
  reordered.add_types(common::EVENT_TYPE_STATUS);
  reordered.add_types(common::EVENT_TYPE_WARNING);
  ASSERT_OK_AND_ASSIGN(EventSelector a, CompileEventQuery(q, "", "job_seq"));
  ASSERT_OK_AND_ASSIGN(EventSelector b,
                       CompileEventQuery(reordered, "", "job_seq asc"));
  ASSERT_OK_AND_ASSIGN(EventSelector c,
                       CompileEventQuery(q, "", "job_seq desc"));
  ASSERT_OK_AND_ASSIGN(EventSelector d,
                       CompileEventQuery(q, "attempt = 1", ""));
  EXPECT_EQ(a.canonical(), b.canonical());
  EXPECT_NE(a.canonical(), c.canonical());
  EXPECT_NE(a.canonical(), d.canonical());
}

}  // namespace
}  // namespace trainyard::metrics
