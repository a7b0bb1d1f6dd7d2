// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/requests.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::cost {
namespace {

using F = LedgerComparison::Field;

// The API's one filter grammar (common/search), bound to the ledger's fields:
// OR groups in parentheses, errors naming the position and the field.
TEST(LedgerRequest, R_X_04_FilterUsesTheApiGrammar) {
  v1::ListLedgerEntriesRequest r;
  r.set_job_id("j1");
  r.set_filter(
      "(phase = ACTIVE_COMPUTE OR phase = WASTED_STEPS) AND attempt >= 2");
  absl::StatusOr<LedgerPage> page = ToLedgerPage(r);
  ASSERT_OK(page.status());
  ASSERT_EQ(page->query.clauses.size(), 2u);
  EXPECT_EQ(page->query.clauses[0].size(), 2u);
  EXPECT_EQ(page->query.clauses[1][0].field, F::kAttempt);
  r.set_filter("(gpu_type = \"H100_80GB\" OR gpu_type = L40S)");
  ASSERT_OK(ToLedgerPage(r).status());
  for (const char* bad :
       {"phase =", "phase ACTIVE", "attempt = 1 AND", "(attempt = 1",
        "attempt = 1 attempt = 2", "attempt ! 1", "phase = \"x",
        "phase = ACTIVE_COMPUTE OR phase = WASTED_STEPS", "attempt : 2",
        "color = red"}) {
    r.set_filter(bad);
    absl::Status s = ToLedgerPage(r).status();
    EXPECT_EQ(ErrorReason(s), "INVALID_FILTER") << bad;
    EXPECT_EQ(FieldViolations(s)[0].field, "filter") << bad;
  }
  r.set_filter("pricing != SPOT");
  EXPECT_THAT(FieldViolations(ToLedgerPage(r).status())[0].description,
              ::testing::HasSubstr("operator \"!=\" is not accepted for "
                                   "pricing at position 0 (accepted: =)"));
}

TEST(LedgerRequest, R_X_04_FilterOrderAndPageToken) {
  v1::ListLedgerEntriesRequest r;
  r.set_job_id("j1");
  r.set_filter(
      "phase != PAUSED_STORAGE AND start_time >= \"2025-11-29T03:00:00Z\" AND "
      "provisional = false");
  r.set_order_by("amount desc");
  absl::StatusOr<LedgerPage> page = ToLedgerPage(r);
  ASSERT_OK(page.status());
  EXPECT_EQ(page->page_size, kDefaultPageSize);
  EXPECT_EQ(page->query.order, LedgerOrder::kAmountDesc);
  ASSERT_EQ(page->query.clauses.size(), 3u);
  EXPECT_EQ(page->query.clauses[1][0].field, F::kStartTime);
  EXPECT_EQ(page->query.clauses[1][0].value, int64_t{1764385200} * 1000);
  v1::LedgerEntry e;
  e.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
  *e.mutable_start_time() = ToProto(absl::FromUnixSeconds(1764385200));
  EXPECT_TRUE(Matches(e, page->query.clauses));
  e.set_provisional(true);
  EXPECT_FALSE(Matches(e, page->query.clauses));
  // The next page's token continues this query only.
  r.set_page_token(NextLedgerToken(*page, 100));
  page = ToLedgerPage(r);
  ASSERT_OK(page.status());
  EXPECT_EQ(page->offset, 100);
  r.set_filter("phase = ACTIVE_COMPUTE");
  absl::Status other = ToLedgerPage(r).status();
  EXPECT_EQ(ErrorReason(other), "INVALID_PAGE_TOKEN");
  EXPECT_EQ(FieldViolations(other)[0].field, "page_token");
  r.clear_page_token();
  r.set_page_size(5000);
  EXPECT_EQ(ToLedgerPage(r)->page_size, kMaxPageSize);
  r.set_filter("attempt ~ 2");
  EXPECT_EQ(ToLedgerPage(r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r.set_filter("gpu_type != H100_80GB");  // only =
  EXPECT_EQ(ToLedgerPage(r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ReportRequest, DefaultsAndFilters) {
  const absl::Time now = absl::FromUnixSeconds(1764385200);
  v1::GetCostReportRequest r;
  r.set_filter(
      "preset != AGGRESSIVE AND created_by = alice AND pricing = SPOT");
  absl::StatusOr<ReportQuery> q = ToReportQuery(r, now);
  ASSERT_OK(q.status());
  EXPECT_EQ(q->group_by, v1::COST_REPORT_GROUPING_CREATOR);
  EXPECT_EQ(q->end - q->start, absl::Hours(24 * 30));
  EXPECT_EQ(q->end, now + absl::Nanoseconds(1));  // up to now, inclusive
  EXPECT_EQ(q->preset.ne, std::vector<int>{common::v1::PRESET_AGGRESSIVE});
  EXPECT_EQ(q->created_by.eq, std::vector<std::string>{"alice"});
  r.set_filter("pricing != SPOT");
  EXPECT_EQ(FieldViolations(ToReportQuery(r, now).status())[0].field, "filter");
  r.set_filter("tag = x");
  EXPECT_EQ(FieldViolations(ToReportQuery(r, now).status())[0].field, "filter");
}

TEST(MeterRequests, R_X_04_DefaultsAndBounds) {
  const absl::Time now = absl::FromUnixSeconds(1764385200);
  v1::OpenMeterRequest open;
  open.set_request_id("r");
  open.set_job_id("j1");
  open.set_phase(common::v1::COST_PHASE_RECOVERY_OVERHEAD);
  open.set_gpu_type(common::v1::GPU_TYPE_L40S);
  absl::StatusOr<MeterOpening> o = ToOpening(open, now);
  ASSERT_OK(o.status());
  EXPECT_EQ(o->start_time, now);
  EXPECT_EQ(o->gpu_count, 1);
  EXPECT_EQ(o->attempt, 1);
  open.set_gpu_count(9);
  EXPECT_EQ(FieldViolations(ToOpening(open, now).status())[0].field,
            "gpu_count");
  v1::CloseMeterRequest close;
  close.set_meter_id("j1.m1");
  close.set_reason(v1::METER_CLOSE_REASON_INTERRUPTED);
  close.set_last_step(10);
  close.set_last_checkpoint_step(11);
  EXPECT_EQ(FieldViolations(ToClosing(close, now).status())[0].field,
            "last_checkpoint_step");
}

}  // namespace
}  // namespace trainyard::cost
