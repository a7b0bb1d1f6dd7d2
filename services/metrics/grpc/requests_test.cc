// Copyright 2026 Trainyard authors.
//
// The handlers' request parsing: each bad input is INVALID_ARGUMENT naming
// exactly one field; a good one becomes the typed query the stores take.
#include "services/metrics/grpc/requests.h"

#include <functional>

#include "common/paging/opaque_token.h"
#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::testing::ElementsAre;
using ::trainyard::testing::StatusIs;
namespace common = ::trainyard::common::v1;

constexpr int64_t kBaseSeconds = 1764385200;  // 2025-11-29T03:00:00Z
const absl::Time kNow = absl::FromUnixSeconds(kBaseSeconds + 100000);

google::protobuf::Timestamp Seconds(int64_t s, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(s);
  t.set_nanos(nanos);
  return t;
}

// The one field violation of `status` (checks there is exactly one).
std::string BadField(const absl::Status& status) {
  std::vector<FieldViolation> v = FieldViolations(status);
  return v.size() == 1 ? v[0].field : "<" + std::to_string(v.size()) + ">";
}

v1::ListEventsRequest ListRequest(std::string_view job, int32_t page_size) {
  v1::ListEventsRequest r;
  r.set_job_id(std::string(job));
  r.set_page_size(page_size);
  return r;
}

v1::GetLossCurveRequest Request() {
  v1::GetLossCurveRequest r;
  r.set_job_id("j");
  return r;
}

TEST(ParseGetLossCurve, R_DASH_04_BadRequestsNameTheField) {
  struct Case {
    std::string name;
    v1::GetLossCurveRequest request;
    std::string field;
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string field, auto mutate) {
    v1::GetLossCurveRequest request = Request();
    mutate(request);
    cases.push_back({std::move(name), std::move(request), std::move(field)});
  };
  add("no job", "job_id", [](auto& r) { r.clear_job_id(); });
  add("11 series", "series", [](auto& r) {
    for (int i = 0; i < 11; ++i) r.add_series("s" + std::to_string(i));
  });
  add("empty series name", "series", [](auto& r) { r.add_series(""); });
  add("long series name", "series",
      [](auto& r) { r.add_series(std::string(200, 'x')); });
  add("negative start", "start_step", [](auto& r) { r.set_start_step(-1); });
  add("negative end", "end_step", [](auto& r) { r.set_end_step(-1); });
  add("start after end", "start_step", [](auto& r) {
    r.set_start_step(10);
    r.set_end_step(9);
  });
  add("negative last_steps", "last_steps",
      [](auto& r) { r.set_last_steps(-5); });
  add("last_steps with start", "last_steps", [](auto& r) {
    r.set_last_steps(5);
    r.set_start_step(1);
  });
  add("last_steps with end", "last_steps", [](auto& r) {
    r.set_last_steps(5);
    r.set_end_step(1);
  });
  add("negative max_points", "max_points",
      [](auto& r) { r.set_max_points(-1); });
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<CurveQuery> query = ParseGetLossCurve(c.request);
    EXPECT_THAT(query, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(FieldViolations(query.status()),
                ElementsAre(::testing::Field(&FieldViolation::field, c.field)));
  }
  // Limits that are fine.
  v1::GetLossCurveRequest ten = Request();
  for (int i = 0; i < 10; ++i) ten.add_series("s" + std::to_string(i));
  EXPECT_OK(ParseGetLossCurve(ten).status());
  v1::GetLossCurveRequest same = Request();
  same.set_start_step(7);
  same.set_end_step(7);
  EXPECT_OK(ParseGetLossCurve(same).status());
}

TEST(ParseGetLossCurve, R_DASH_04_DefaultsDuplicatesAndCoercion) {
  ASSERT_OK_AND_ASSIGN(CurveQuery defaults, ParseGetLossCurve(Request()));
  EXPECT_EQ(defaults.job_id, "j");
  EXPECT_THAT(defaults.series, ElementsAre("train_loss", "val_loss"));
  EXPECT_EQ(defaults.max_points, kDefaultMaxPoints);
  EXPECT_FALSE(defaults.start_step.has_value());
  EXPECT_FALSE(defaults.end_step.has_value());
  EXPECT_EQ(defaults.last_steps, 0);
  EXPECT_FALSE(defaults.include_rolled_back);

  v1::GetLossCurveRequest r = Request();
  for (const char* s : {"extra.reward", "train_loss", "extra.reward"}) {
    r.add_series(s);
  }
  r.set_start_step(0);
  r.set_end_step(99);
  r.set_max_points(1);
  r.set_include_rolled_back(true);
  ASSERT_OK_AND_ASSIGN(CurveQuery q, ParseGetLossCurve(r));
  EXPECT_THAT(q.series, ElementsAre("extra.reward", "train_loss"));
  EXPECT_EQ(q.start_step, 0);
  EXPECT_EQ(q.end_step, 99);
  EXPECT_EQ(q.max_points, kMinMaxPoints);
  EXPECT_TRUE(q.include_rolled_back);
  r.set_max_points(20000);
  ASSERT_OK_AND_ASSIGN(q, ParseGetLossCurve(r));
  EXPECT_EQ(q.max_points, kMaxMaxPoints);
}

TEST(ParseCurveOptions, R_DASH_07_OptionsNameTheirFieldUnderThePrefix) {
  v1::CurveOptions options;
  options.set_last_steps(500);
  options.set_max_points(200);
  ASSERT_OK_AND_ASSIGN(CurveQuery q, ParseCurveOptions("j", options, "curve."));
  EXPECT_EQ(q.job_id, "j");
  EXPECT_EQ(q.last_steps, 500);
  EXPECT_EQ(q.max_points, 200);
  EXPECT_THAT(q.series, ElementsAre("train_loss", "val_loss"));

  options.set_max_points(-1);
  absl::StatusOr<CurveQuery> bad = ParseCurveOptions("j", options, "curve.");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldViolations(bad.status()),
              ElementsAre(::testing::Field(&FieldViolation::field,
                                           "curve.max_points")));
  EXPECT_THAT(ParseCurveOptions("", v1::CurveOptions(), "curve."),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseListEvents, R_EVT_03_BadInputsNameTheField) {
  struct Case {
    std::string what;
    std::function<void(v1::ListEventsRequest*)> edit;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no job", [](auto* r) { r->clear_job_id(); }, "job_id"},
      {"negative page", [](auto* r) { r->set_page_size(-1); }, "page_size"},
      {"unspecified type",
       [](auto* r) {
         r->mutable_query()->add_types(common::EVENT_TYPE_UNSPECIFIED);
       },
       "query.types"},
      {"unknown type",
       [](auto* r) {
         r->mutable_query()->add_types(static_cast<common::EventType>(42));
       },
       "query.types"},
      {"long keyword",
       [](auto* r) { r->mutable_query()->set_keyword(std::string(201, 'x')); },
       "query.keyword"},
      {"bad utf-8", [](auto* r) { r->mutable_query()->set_keyword("\xC3("); },
       "query.keyword"},
      {"reversed range",
       [](auto* r) {
         auto* range = r->mutable_query()->mutable_time_range();
         *range->mutable_start_time() = Seconds(kBaseSeconds + 10);
         *range->mutable_end_time() = Seconds(kBaseSeconds + 9);
       },
       "query.time_range"},
      {"bad timestamp",
       [](auto* r) {
         *r->mutable_query()->mutable_time_range()->mutable_start_time() =
             Seconds(kBaseSeconds, -1);
       },
       "query.time_range.start_time"},
      {"unknown field", [](auto* r) { r->set_filter("type = WARNING"); },
       "filter"},
      {"bad op", [](auto* r) { r->set_filter("source < CONTAINER"); },
       "filter"},
      {"bad op for time",
       [](auto* r) {
         r->set_filter("receive_time = \"2025-11-29T03:00:00Z\"");
       },
       "filter"},
      {"has op", [](auto* r) { r->set_filter("attempt : 1"); }, "filter"},
      {"bad enum", [](auto* r) { r->set_filter("source = GPU"); }, "filter"},
      {"unspecified enum",
       [](auto* r) { r->set_filter("stage = UNSPECIFIED"); }, "filter"},
      {"bad number", [](auto* r) { r->set_filter("attempt = two"); }, "filter"},
      {"negative seq", [](auto* r) { r->set_filter("job_seq > -1"); },
       "filter"},
      {"unquoted time", [](auto* r) { r->set_filter("receive_time > 2026"); },
       "filter"},
      {"bad time",
       [](auto* r) { r->set_filter("receive_time > \"yesterday\""); },
       "filter"},
      {"syntax", [](auto* r) { r->set_filter("attempt = 1 AND"); }, "filter"},
      {"order field", [](auto* r) { r->set_order_by("receive_time"); },
       "order_by"},
      {"order dir", [](auto* r) { r->set_order_by("job_seq up"); }, "order_by"},
      {"order case", [](auto* r) { r->set_order_by("job_seq DESC"); },
       "order_by"},
  };
  for (const Case& c : cases) {
    v1::ListEventsRequest req = ListRequest("job-a", 100);
    c.edit(&req);
    absl::StatusOr<EventListQuery> q = ParseListEvents(req, kNow);
    EXPECT_THAT(q, StatusIs(absl::StatusCode::kInvalidArgument)) << c.what;
    EXPECT_EQ(BadField(q.status()), c.field) << c.what << ": " << q.status();
    if (c.field == "filter") {
      EXPECT_EQ(ErrorReason(q.status()), "INVALID_FILTER") << c.what;
    }
  }
}

TEST(ParseListEvents, R_EVT_03_PageSizeDefaultAndCoercion) {
  for (auto [asked, got] : std::vector<std::pair<int32_t, int32_t>>{
           {0, 50}, {1, 1}, {25, 25}, {100, 100}, {101, 100}, {500, 100}}) {
    ASSERT_OK_AND_ASSIGN(EventListQuery q,
                         ParseListEvents(ListRequest("job-a", asked), kNow));
    EXPECT_EQ(q.page_size, got) << asked;
    EXPECT_EQ(q.job_id, "job-a");
    EXPECT_EQ(q.after, std::nullopt);
  }
}

// A page token carries its cursor back, bound to the job and the selection
// (common/paging's codec), and expires after 24 h.
TEST(ParseListEvents, R_EVT_03_PageTokenRoundTripAndMisuse) {
  v1::ListEventsRequest req = ListRequest("job-a", 10);
  req.mutable_query()->add_types(common::EVENT_TYPE_METRICS);
  req.set_filter("attempt = 1");
  ASSERT_OK_AND_ASSIGN(EventListQuery first, ParseListEvents(req, kNow));
  const std::string token = ListEventsPageToken(
      first, {.anchor_job_seq = 60, .last_job_seq = 12}, kNow);
  req.set_page_token(token);
  ASSERT_OK_AND_ASSIGN(EventListQuery next, ParseListEvents(req, kNow));
  ASSERT_NE(next.after, std::nullopt);
  EXPECT_EQ(next.after->anchor_job_seq, 60u);
  EXPECT_EQ(next.after->last_job_seq, 12u);

  auto expect_token_error = [&](const v1::ListEventsRequest& r,
                                std::string_view what, absl::Time now = kNow) {
    absl::StatusOr<EventListQuery> got = ParseListEvents(r, now);
    EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument)) << what;
    EXPECT_EQ(BadField(got.status()), "page_token") << what;
    EXPECT_EQ(ErrorReason(got.status()), "INVALID_PAGE_TOKEN") << what;
  };
  v1::ListEventsRequest other_job = req;
  other_job.set_job_id("job-b");
  expect_token_error(other_job, "other job");
  v1::ListEventsRequest other_query = req;
  other_query.mutable_query()->add_types(common::EVENT_TYPE_STATUS);
  expect_token_error(other_query, "other types");
  v1::ListEventsRequest other_keyword = req;
  other_keyword.mutable_query()->set_keyword("step");
  expect_token_error(other_keyword, "other keyword");
  v1::ListEventsRequest other_range = req;
  *other_range.mutable_query()->mutable_time_range()->mutable_end_time() =
      Seconds(kBaseSeconds + 30);
  expect_token_error(other_range, "other time range");
  v1::ListEventsRequest other_filter = req;
  other_filter.set_filter("attempt = 2");
  expect_token_error(other_filter, "other filter");
  v1::ListEventsRequest other_order = req;
  other_order.set_order_by("job_seq desc");
  expect_token_error(other_order, "other order");
  v1::ListEventsRequest garbage = req;
  garbage.set_page_token("bm90IGEgdG9rZW4");
  expect_token_error(garbage, "garbage");
  v1::ListEventsRequest not_strict = req;  // base64 that re-encodes otherwise
  not_strict.set_page_token(token + "=");
  expect_token_error(not_strict, "padding");
  v1::ListEventsRequest other_kind = req;  // the codec, another kind of token
  other_kind.set_page_token(paging::EncodeOpaqueToken("metrics.resume", "job-a",
                                                      std::string(24, '\0')));
  expect_token_error(other_kind, "other kind");

  // Same request but the page size: fine. "job_seq asc" means the default.
  v1::ListEventsRequest same = req;
  same.set_page_size(30);
  same.set_order_by("job_seq asc");
  EXPECT_OK(ParseListEvents(same, kNow).status());

  // Tokens expire after 24 h.
  EXPECT_OK(ParseListEvents(req, kNow + absl::Hours(24)).status());
  expect_token_error(req, "expired", kNow + absl::Hours(24) + absl::Seconds(1));
}

TEST(ParseExportEvents, R_EVT_05_FormatDefaultAndBadRequests) {
  v1::ExportEventsRequest req;
  req.set_job_id("job-a");
  ASSERT_OK_AND_ASSIGN(EventExportQuery q, ParseExportEvents(req));
  EXPECT_EQ(q.format, common::EXPORT_FORMAT_CSV);
  EXPECT_EQ(q.job_id, "job-a");
  req.set_format(common::EXPORT_FORMAT_JSONL);
  ASSERT_OK_AND_ASSIGN(q, ParseExportEvents(req));
  EXPECT_EQ(q.format, common::EXPORT_FORMAT_JSONL);

  auto field_of = [](const v1::ExportEventsRequest& r) {
    absl::StatusOr<EventExportQuery> got = ParseExportEvents(r);
    EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument));
    return BadField(got.status());
  };
  v1::ExportEventsRequest r = req;
  r.set_format(static_cast<common::ExportFormat>(9));
  EXPECT_EQ(field_of(r), "format");
  r = req;
  r.clear_job_id();
  EXPECT_EQ(field_of(r), "job_id");
  r = req;
  r.set_filter("attempt ~ 1");
  EXPECT_EQ(field_of(r), "filter");
  r = req;
  r.set_order_by("time");
  EXPECT_EQ(field_of(r), "order_by");
  r = req;
  r.mutable_query()->set_keyword(std::string(300, 'k'));
  EXPECT_EQ(field_of(r), "query.keyword");
}

}  // namespace
}  // namespace trainyard::metrics
