// Copyright 2026 Trainyard authors.
#include "common/strings/json.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace trainyard {
namespace {

TEST(AppendJsonStringTest, EscapesQuotesBackslashesAndControls) {
  std::string out;
  AppendJsonString("a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7fk/", &out);
  EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf\bg\fh\u0001i\u001fj\u007fk/")");
}

TEST(AppendJsonStringTest, KeepsValidUtf8) {
  std::string out;
  AppendJsonString("Tokenizing… ✓ é 😀", &out);
  EXPECT_EQ(out, "\"Tokenizing… ✓ é 😀\"");
}

TEST(AppendJsonStringTest, ReplacesInvalidUtf8) {
  std::string out;
  // Lone continuation byte, truncated 2-byte sequence, overlong '/', an
  // encoded surrogate, a byte that never occurs.
  AppendJsonString(std::string("a\x80"
                               "b\xC3"
                               "c\xC0\xAF"
                               "d\xED\xA0\x80"
                               "e\xFF"),
                   &out);
  EXPECT_EQ(out, R"("a\ufffdb\ufffdc\ufffd\ufffdd\ufffd\ufffd\ufffde\ufffd")");
}

TEST(AppendJsonStringTest, EmptyAndNul) {
  std::string out;
  AppendJsonString(std::string_view("\0", 1), &out);
  AppendJsonString("", &out);
  EXPECT_EQ(out, R"("\u0000""")");
}

}  // namespace
}  // namespace trainyard
