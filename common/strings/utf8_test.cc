// Copyright 2026 Trainyard authors.
#include "common/strings/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace trainyard {
namespace {

TEST(Utf8Test, ValidatesRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("✓ 🚀 é"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("ok \xE2\x82"));       // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
}

TEST(Utf8Test, DecodesAndEncodesEveryLength) {
  for (char32_t cp : {U'A', U'é', U'✓', U'🚀', char32_t{0x10FFFF}}) {
    std::string bytes;
    AppendUtf8(cp, &bytes);
    char32_t decoded = 0;
    EXPECT_EQ(DecodeUtf8(bytes, 0, &decoded), bytes.size());
    EXPECT_EQ(decoded, cp);
  }
  char32_t cp = 0;
  EXPECT_EQ(DecodeUtf8("\xC0\xAF", 0, &cp), 1u);
  EXPECT_EQ(cp, kMalformedUtf8);
}

}  // namespace
}  // namespace trainyard
