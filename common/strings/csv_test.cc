// Copyright 2026 Trainyard authors.
#include "common/strings/csv.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace trainyard {
namespace {

std::string Field(std::string_view in) {
  std::string out;
  AppendCsvField(in, &out);
  return out;
}

TEST(AppendCsvFieldTest, R_EVT_05_QuotesAsRfc4180) {
  EXPECT_EQ(Field("plain"), "plain");
  EXPECT_EQ(Field(""), "");
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(Field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(Field("a\rb"), "\"a\rb\"");
  EXPECT_EQ(Field("\""), "\"\"\"\"");
  EXPECT_EQ(Field(" spaced "), " spaced ");
  EXPECT_EQ(Field("Saving… ✓ 🚀"), "Saving… ✓ 🚀");
}

// OWASP CSV injection: cells a spreadsheet would evaluate read as text.
TEST(AppendCsvFieldTest, R_EVT_05_FormulaCellsAreNeutralized) {
  EXPECT_EQ(Field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  EXPECT_EQ(Field("@SUM(A1:A9)"), "'@SUM(A1:A9)");
  EXPECT_EQ(Field("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
  EXPECT_EQ(Field("-2+3"), "'-2+3");
  EXPECT_EQ(Field("\t=1"), "'\t=1");
  EXPECT_EQ(Field("\r=1"), "\"'\r=1\"");
  EXPECT_EQ(Field("="), "'=");
  EXPECT_EQ(Field("-"), "'-");
  // Only the first character counts.
  EXPECT_EQ(Field("a=b"), "a=b");
  EXPECT_EQ(Field(" =1"), " =1");
}

TEST(AppendCsvFieldTest, PlainNumbersStayNumbers) {
  for (std::string_view n :
       {"-3", "+1", "-0.25", "+.5", "-1.5e-4", "-2E+10", "42", "-7."}) {
    EXPECT_FALSE(CsvNeedsNeutralizing(n)) << n;
    EXPECT_EQ(Field(n), n);
  }
  for (std::string_view n :
       {"-", "+.", "-1e", "-1e+", "-1.2.3", "-1 ", "-0x1", "-inf", "-NaN"}) {
    EXPECT_TRUE(CsvNeedsNeutralizing(n)) << n;
  }
}

TEST(AppendCsvRowTest, JoinsWithCommasAndEndsWithCrlf) {
  std::string out;
  AppendCsvRow({"1", "=x", "a,b", ""}, &out);
  EXPECT_EQ(out, "1,'=x,\"a,b\",\r\n");
}

}  // namespace
}  // namespace trainyard
