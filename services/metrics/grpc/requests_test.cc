// Copyright 2026 Trainyard authors.
//
// The handlers' request parsing: each bad input is INVALID_ARGUMENT naming
// exactly one field; a good one becomes the typed query the stores take.
#include "services/metrics/grpc/requests.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::testing::ElementsAre;
using ::trainyard::testing::StatusIs;

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

}  // namespace
}  // namespace trainyard::metrics
