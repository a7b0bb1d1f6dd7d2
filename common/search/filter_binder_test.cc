// Copyright 2026 Trainyard authors.
//
// The binder of list filters to a list's fields (filter_binder.h): the table
// decides fields, operators, OR groups and values, and every error has one
// shape (INVALID_FILTER on "filter", naming field, operator or value,
// position and what is accepted).
#include "common/search/filter_binder.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;
using enum FilterOp;

enum Id { kState, kOwner, kAttempt, kSeq, kCost, kDone, kTime, kExact };

const std::vector<FilterField>& Fields() {
  static const auto* fields = new std::vector<FilterField>{
      {.name = "state",
       .id = kState,
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .enum_type = common::v1::JobState_descriptor()},
      {.name = "owner",
       .id = kOwner,
       .ops = {kEq},
       .or_groups = FilterOrGroups::kNone},
      {.name = "attempt",
       .id = kAttempt,
       .ops = {kEq, kLt, kGe},
       .kind = FilterValueKind::kInteger,
       .or_groups = FilterOrGroups::kEqualOnly,
       .bare = true,
       .min = 1,
       .max = 100},
      {.name = "seq",
       .id = kSeq,
       .ops = {kEq, kGt},
       .kind = FilterValueKind::kUnsigned},
      {.name = "cost",
       .id = kCost,
       .ops = {kLt, kGt},
       .kind = FilterValueKind::kNumber,
       .min = 0},
      {.name = "done",
       .id = kDone,
       .ops = {kEq},
       .kind = FilterValueKind::kBool},
      {.name = "time",
       .id = kTime,
       .ops = {kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kTime},
      {.name = "exact",
       .id = kExact,
       .ops = {kEq},
       .kind = FilterValueKind::kEnum,
       .enum_type = common::v1::JobState_descriptor(),
       .enum_case = FilterEnumCase::kExact,
       .enum_unspecified = true},
  };
  return *fields;
}

absl::StatusOr<BoundFilter> Bind(std::string_view filter) {
  return BindFilter(filter, Fields());
}

// The description of the single "filter" violation of `filter`'s error.
std::string Error(std::string_view filter) {
  absl::Status s = Bind(filter).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << filter;
  std::vector<FieldViolation> v = FieldViolations(s);
  if (v.size() != 1 || v[0].field != "filter") return "<no filter violation>";
  EXPECT_EQ(ErrorReason(s), "INVALID_FILTER") << filter;
  return v[0].description;
}

// The one restriction of a one-restriction filter.
BoundRestriction One(std::string_view filter) {
  absl::StatusOr<BoundFilter> f = Bind(filter);
  EXPECT_TRUE(f.ok()) << filter << ": " << f.status();
  if (!f.ok() || f->all_of.size() != 1 || f->all_of[0].any_of.size() != 1) {
    return {};
  }
  return f->all_of[0].any_of[0];
}

TEST(FilterBinderTest, KeepsTheFiltersShapeAndTagsEachField) {
  EXPECT_TRUE(Bind("  ")->all_of.empty());
  ASSERT_OK_AND_ASSIGN(
      BoundFilter f,
      Bind("(state = TRAINING OR state = queued) AND owner = \"ana\" AND "
           "attempt >= 2"));
  ASSERT_EQ(f.all_of.size(), 3u);
  ASSERT_EQ(f.all_of[0].any_of.size(), 2u);
  const BoundRestriction& a = f.all_of[0].any_of[1];
  EXPECT_EQ(a.id, kState);
  EXPECT_EQ(a.field, "state");
  EXPECT_EQ(a.op, kEq);
  EXPECT_EQ(a.position, 21u);
  EXPECT_EQ(a.value.text, "queued");
  EXPECT_EQ(a.number, common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(f.all_of[1].any_of[0].id, kOwner);
  EXPECT_EQ(f.all_of[1].any_of[0].value.text, "ana");
  EXPECT_TRUE(f.all_of[1].any_of[0].value.quoted);
  EXPECT_EQ(f.all_of[2].any_of[0].id, kAttempt);
  EXPECT_EQ(f.all_of[2].any_of[0].op, kGe);
  EXPECT_EQ(f.all_of[2].any_of[0].number, 2);
}

TEST(FilterBinderTest, ReadsEachKindOfValue) {
  EXPECT_EQ(One("state = JOB_STATE_PAUSED").number,
            common::v1::JOB_STATE_PAUSED);
  EXPECT_EQ(One("state != \"failed\"").number, common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(One("exact = PAUSED").number, common::v1::JOB_STATE_PAUSED);
  EXPECT_EQ(One("exact = UNSPECIFIED").number, 0);
  EXPECT_EQ(One("exact = JOB_STATE_UNSPECIFIED").number, 0);
  EXPECT_EQ(One("attempt < 100").number, 100);
  EXPECT_EQ(One("seq > 18446744073709551615").unsigned_number,
            uint64_t{18446744073709551615u});
  EXPECT_DOUBLE_EQ(One("cost < 49.99").real, 49.99);
  EXPECT_EQ(One("done = true").number, 1);
  EXPECT_EQ(One("done = \"false\"").number, 0);
  EXPECT_EQ(One("time >= \"2026-11-29T04:05:00+01:00\"").time,
            absl::FromUnixSeconds(1795921500));
  EXPECT_EQ(One("owner = \"\"").value.text, "");
}

TEST(FilterBinderTest, UnknownFieldListsTheAcceptedOnes) {
  EXPECT_EQ(Error("state = QUEUED AND colour = red"),
            "unknown field \"colour\" at position 19 (accepted: state, owner, "
            "attempt, seq, cost, done, time, exact)");
}

TEST(FilterBinderTest, OperatorNotAcceptedNamesFieldPositionAndOperators) {
  EXPECT_EQ(Error("state < QUEUED"),
            "operator \"<\" is not accepted for state at position 0 "
            "(accepted: =, !=)");
  EXPECT_EQ(Error("done = true AND time = \"2026-11-29T04:05:00Z\""),
            "operator \"=\" is not accepted for time at position 16 "
            "(accepted: <, <=, >, >=)");
  EXPECT_THAT(Error("owner : ana"), HasSubstr("(accepted: =)"));
}

TEST(FilterBinderTest, OrGroupsFollowEachFieldsRule) {
  // Any operator the field accepts.
  ASSERT_OK_AND_ASSIGN(BoundFilter f,
                       Bind("(state = QUEUED OR state != TRAINING)"));
  EXPECT_EQ(f.all_of[0].any_of[1].op, kNe);
  // `=` only.
  ASSERT_OK(Bind("(attempt = 1 OR attempt = 2)").status());
  EXPECT_EQ(Error("(attempt = 1 OR attempt >= 5)"),
            "operator \">=\" is not accepted for attempt in an OR group at "
            "position 16 (accepted in an OR group: =)");
  // None.
  EXPECT_EQ(Error("(owner = ana OR owner = bob)"),
            "OR is not accepted for owner at position 16 (accepted: one "
            "restriction on owner per term)");
  // The same field twice, AND-ed, is two terms.
  ASSERT_OK_AND_ASSIGN(f, Bind("owner = ana AND owner = bob"));
  EXPECT_EQ(f.all_of.size(), 2u);
}

TEST(FilterBinderTest, BadValuesNameWhatIsExpected) {
  EXPECT_EQ(Error("state = NAPPING"),
            "invalid value NAPPING for state at position 0 (expected one of "
            "QUEUED, PROVISIONING, PREPROCESSING, MODEL_LOADING, TRAINING, "
            "FINALIZING, COMPLETED, FAILED, CANCELLING, CANCELLED, PAUSING, "
            "PAUSED, RECOVERING)");
  EXPECT_THAT(Error("state = UNSPECIFIED"), HasSubstr("invalid value"));
  EXPECT_THAT(Error("exact = paused"),
              HasSubstr("(expected one of UNSPECIFIED, QUEUED,"));
  EXPECT_EQ(Error("attempt = \"2\""),
            "invalid value \"2\" for attempt at position 0 (expected an "
            "integer from 1 to 100, unquoted)");
  EXPECT_THAT(Error("attempt = 101"), HasSubstr("from 1 to 100"));
  EXPECT_THAT(Error("attempt = two"), HasSubstr("invalid value two"));
  EXPECT_EQ(Error("seq = -0"),
            "invalid value -0 for seq at position 0 (expected a non-negative "
            "integer)");
  EXPECT_EQ(Error("cost < -1"),
            "invalid value -1 for cost at position 0 (expected a number of at "
            "least 0)");
  EXPECT_THAT(Error("cost > nan"), HasSubstr("invalid value nan"));
  EXPECT_THAT(Error("done = yes"), HasSubstr("(expected true or false)"));
  EXPECT_THAT(Error("done = True"), HasSubstr("(expected true or false)"));
  EXPECT_EQ(Error("time > 2026"),
            "invalid value 2026 for time at position 0 (expected an RFC 3339 "
            "time in double quotes, e.g. \"2026-11-29T03:05:00Z\")");
  EXPECT_THAT(Error("time > \"yesterday\""),
              HasSubstr("invalid value \"yesterday\" for time"));
}

TEST(FilterBinderTest, ParseErrorsAreTheParsers) {
  EXPECT_THAT(Error("state ="),
              HasSubstr("expected a value after \"state =\" at position 7"));
  EXPECT_THAT(Error("(state = QUEUED OR owner = ana)"),
              HasSubstr("different fields"));
}

TEST(FilterBinderTest, CallersRejectValuesInTheSameWording) {
  const BoundRestriction r = One("owner = \"\"");
  absl::Status s = InvalidFilterValueError(r, "a user id");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ErrorReason(s), "INVALID_FILTER");
  EXPECT_THAT(FieldViolations(s),
              ElementsAre(FieldViolation{
                  "filter",
                  "invalid value \"\" for owner at position 0 (expected a "
                  "user id)"}));
}

}  // namespace
}  // namespace trainyard
