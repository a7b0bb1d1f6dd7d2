// Copyright 2026 Trainyard authors.
//
// The AIP-160 subset of list filters (common.proto "Filters"), as used by
// ListEvents / ExportEvents (R-EVT-02, R-EVT-05).
#include "common/search/filter_parser.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

// The description of the single "filter" violation of `status`.
std::string FilterViolation(const absl::Status& status) {
  std::vector<FieldViolation> v = FieldViolations(status);
  if (v.size() != 1 || v[0].field != "filter") return "<no filter violation>";
  EXPECT_EQ(ErrorReason(status), "INVALID_FILTER");
  return v[0].description;
}

TEST(FilterParserTest, R_EVT_02_EmptyAndBlankFiltersSelectEverything) {
  ASSERT_OK_AND_ASSIGN(ParsedFilter f, ParseFilter(""));
  EXPECT_TRUE(f.all_of.empty());
  ASSERT_OK_AND_ASSIGN(ParsedFilter g, ParseFilter("   "));
  EXPECT_TRUE(g.all_of.empty());
}

TEST(FilterParserTest, R_EVT_02_RestrictionsJoinedByAnd) {
  ASSERT_OK_AND_ASSIGN(
      ParsedFilter f,
      ParseFilter("source = CONTAINER AND attempt>=2 AND receive_time < "
                  "\"2026-11-29T03:05:00Z\""));
  ASSERT_EQ(f.all_of.size(), 3u);
  const FilterRestriction& a = f.all_of[0].any_of[0];
  EXPECT_EQ(a.field, "source");
  EXPECT_EQ(a.op, FilterOp::kEq);
  EXPECT_EQ(a.value.text, "CONTAINER");
  EXPECT_FALSE(a.value.quoted);
  const FilterRestriction& b = f.all_of[1].any_of[0];
  EXPECT_EQ(b.field, "attempt");
  EXPECT_EQ(b.op, FilterOp::kGe);
  EXPECT_EQ(b.value.text, "2");
  const FilterRestriction& c = f.all_of[2].any_of[0];
  EXPECT_EQ(c.op, FilterOp::kLt);
  EXPECT_TRUE(c.value.quoted);
  EXPECT_EQ(c.value.text, "2026-11-29T03:05:00Z");
}

TEST(FilterParserTest, R_EVT_02_AllOperators) {
  ASSERT_OK_AND_ASSIGN(
      ParsedFilter f,
      ParseFilter("a = 1 AND a != 1 AND a < 1 AND a <= 1 AND a > 1 AND a >= 1 "
                  "AND a : \"x\""));
  std::vector<FilterOp> ops;
  for (const FilterTerm& t : f.all_of) ops.push_back(t.any_of[0].op);
  EXPECT_THAT(ops, ElementsAre(FilterOp::kEq, FilterOp::kNe, FilterOp::kLt,
                               FilterOp::kLe, FilterOp::kGt, FilterOp::kGe,
                               FilterOp::kHas));
}

TEST(FilterParserTest, R_EVT_02_OrInParenthesesOnOneField) {
  ASSERT_OK_AND_ASSIGN(
      ParsedFilter f,
      ParseFilter("(attempt = 1 OR attempt = 3) AND source != CONTROL_PLANE"));
  ASSERT_EQ(f.all_of.size(), 2u);
  EXPECT_EQ(f.all_of[0].any_of.size(), 2u);
  EXPECT_EQ(f.all_of[0].any_of[1].value.text, "3");
}

TEST(FilterParserTest, R_EVT_02_QuotedStringEscapes) {
  ASSERT_OK_AND_ASSIGN(ParsedFilter f, ParseFilter(R"(x = "a \"b\" \\ c")"));
  EXPECT_EQ(f.all_of[0].any_of[0].value.text, R"(a "b" \ c)");
}

TEST(FilterParserTest, R_EVT_02_ErrorsNameTheProblem) {
  struct Case {
    std::string filter;
    std::string expected;
  };
  const Case cases[] = {
      {"attempt", "expected an operator after \"attempt\" at position 7"},
      {"attempt =", "expected a value after \"attempt =\" at position 9"},
      {"attempt = 1 AND", "expected a field name at position 15"},
      {"attempt = 1 and source = CONTAINER", "must be upper case"},
      {"attempt = 1 OR attempt = 2", "must be inside parentheses"},
      {"(attempt = 1 OR source = CONTAINER)", "different fields"},
      {"(attempt = 1", "expected \"OR\" or \")\" at position 12"},
      {"NOT attempt = 1", "negation"},
      {"-attempt = 1", "negation"},
      {"has(attempt)", "function call"},
      {"x = \"open", "unterminated string"},
      {"x = \"a\\n\"", "invalid escape"},
      {"x = 1 # y", "unexpected character '#' at position 6"},
      {"CONTAINER", "expected an operator"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ParsedFilter> f = ParseFilter(c.filter);
    EXPECT_THAT(f, StatusIs(absl::StatusCode::kInvalidArgument)) << c.filter;
    EXPECT_THAT(FilterViolation(f.status()), HasSubstr(c.expected)) << c.filter;
  }
}

TEST(FilterParserTest, R_EVT_02_Limits) {
  std::string many = "a = 1";
  for (int i = 0; i < 20; ++i) many += " AND a = 1";  // 21 restrictions
  EXPECT_THAT(FilterViolation(ParseFilter(many).status()),
              HasSubstr("more than 20 restrictions"));
  EXPECT_THAT(
      FilterViolation(
          ParseFilter("x = \"" + std::string(2000, 'a') + "\"").status()),
      HasSubstr("longer than 2000 characters"));
}

}  // namespace
}  // namespace trainyard
