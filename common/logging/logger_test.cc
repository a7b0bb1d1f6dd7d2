// Copyright 2026 Trainyard authors.
#include "common/logging/logger.h"

#include <vector>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;

class LoggerTest : public ::testing::Test {
 protected:
  Logger Make(LogFormat format, LogLevel level) {
    return Logger(clock_, format, level,
                  [this](std::string_view l) { lines_.emplace_back(l); });
  }
  FakeClock clock_{absl::FromUnixMillis(1764385200123)};
  std::vector<std::string> lines_;
};

TEST_F(LoggerTest, TextLineQuotesValuesWithSpaces) {
  Logger logger = Make(LogFormat::kText, LogLevel::kInfo);
  logger.Info("rpc", {{"method", "/a.B/C"}, {"msg", "two words"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "2025-11-29T03:00:00.123Z INFO rpc method=/a.B/C msg=\"two "
            "words\"\n");
}

TEST_F(LoggerTest, JsonLineEscapes) {
  Logger logger = Make(LogFormat::kJson, LogLevel::kInfo);
  logger.Warning("x", {{"k", "a\"b\nc"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "{\"ts\":\"2025-11-29T03:00:00.123Z\",\"level\":\"WARNING\","
            "\"event\":\"x\",\"k\":\"a\\\"b\\nc\"}\n");
}

// Control characters are escaped; DEL (legal in a JSON string) and valid
// UTF-8 are kept; a byte that is not UTF-8 becomes U+FFFD (as UTF-8).
TEST_F(LoggerTest, JsonLineEscapesControlsAndInvalidUtf8) {
  Logger logger = Make(LogFormat::kJson, LogLevel::kInfo);
  logger.Info("x", {{"k", "\x01\b\x7f é \xff"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "{\"ts\":\"2025-11-29T03:00:00.123Z\",\"level\":\"INFO\","
            "\"event\":\"x\",\"k\":\"\\u0001\\b\x7f é \xEF\xBF\xBD\"}\n");
}

TEST_F(LoggerTest, JsonLineKeepsFieldOrderAndTheFirstOfDuplicateKeys) {
  Logger logger = Make(LogFormat::kJson, LogLevel::kInfo);
  logger.Info("x", {{"z", "1"}, {"a", "2"}, {"event", "y"}, {"z", "3"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "{\"ts\":\"2025-11-29T03:00:00.123Z\",\"level\":\"INFO\","
            "\"event\":\"x\",\"z\":\"1\",\"a\":\"2\"}\n");
}

TEST_F(LoggerTest, TextLineQuotesEmptyAndSpecialValuesAsJson) {
  Logger logger = Make(LogFormat::kText, LogLevel::kInfo);
  logger.Info("x", {{"a", ""}, {"b", "k=v"}, {"c", "say \"hi\"\n"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "2025-11-29T03:00:00.123Z INFO x a=\"\" b=\"k=v\" "
            "c=\"say \\\"hi\\\"\\n\"\n");
}

TEST_F(LoggerTest, BelowMinimumLevelIsDropped) {
  Logger logger = Make(LogFormat::kText, LogLevel::kWarning);
  logger.Info("quiet");
  logger.Error("loud");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("ERROR loud"), std::string::npos);
}

TEST(LogParseTest, LevelsAndFormats) {
  EXPECT_THAT(ParseLogLevel("debug"), IsOkAndHolds(LogLevel::kDebug));
  EXPECT_THAT(ParseLogLevel("loud"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLogFormat("json"), IsOkAndHolds(LogFormat::kJson));
  EXPECT_THAT(ParseLogFormat("xml"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace trainyard
