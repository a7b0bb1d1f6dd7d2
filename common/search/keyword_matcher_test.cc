// Copyright 2026 Trainyard authors.
//
// Keyword search of the event log: case-insensitive substring, spans in
// Unicode code points of the message (R-EVT-02; domain.md).
#include "common/search/keyword_matcher.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<CodePointSpan> Find(std::string_view keyword,
                                std::string_view message) {
  return KeywordMatcher(keyword).FindInMessage(message);
}

TEST(KeywordMatcherTest, R_EVT_02_AsciiCaseInsensitive) {
  EXPECT_THAT(Find("checkpoint", "Checkpoint saved at step 800"),
              ElementsAre(CodePointSpan{0, 10}));
  EXPECT_THAT(Find("STEP", "Training epoch 2/3 - Step 850/2000..."),
              ElementsAre(CodePointSpan{21, 4}));
  EXPECT_THAT(Find("loss", "nothing here"), IsEmpty());
}

TEST(KeywordMatcherTest, R_EVT_02_EveryNonOverlappingMatchInOrder) {
  EXPECT_THAT(Find("aa", "aaaaa"),
              ElementsAre(CodePointSpan{0, 2}, CodePointSpan{2, 2}));
  EXPECT_THAT(Find("step", "step 1, Step 2, STEP 3"),
              ElementsAre(CodePointSpan{0, 4}, CodePointSpan{8, 4},
                          CodePointSpan{16, 4}));
}

TEST(KeywordMatcherTest, R_EVT_02_OffsetsAreCodePointsNotBytesOrUtf16) {
  // "…" (3 bytes), "✓" (3 bytes) and "🚀" (4 bytes, 2 UTF-16 units) each
  // count as one code point.
  const std::string message = "Saving… ✓ 🚀 Checkpoint saved, checkpoint ok";
  EXPECT_THAT(Find("checkpoint", message),
              ElementsAre(CodePointSpan{12, 10}, CodePointSpan{30, 10}));
  EXPECT_THAT(Find("✓ 🚀", message), ElementsAre(CodePointSpan{8, 3}));
  EXPECT_THAT(Find("…", "a…b…"),
              ElementsAre(CodePointSpan{1, 1}, CodePointSpan{3, 1}));
}

TEST(KeywordMatcherTest, R_EVT_02_UnicodeSimpleCaseFolding) {
  // Greek, Cyrillic and Latin-1 letters fold like ASCII ones.
  EXPECT_THAT(Find("σίσυφος", "ΣΊΣΥΦΟΣ"), ElementsAre(CodePointSpan{0, 7}));
  EXPECT_THAT(Find("ошибка", "ОШИБКА CUDA"), ElementsAre(CodePointSpan{0, 6}));
  EXPECT_THAT(Find("ÉCHEC", "Étape échec"), ElementsAre(CodePointSpan{6, 5}));
  // Kelvin sign (3 bytes) folds to "k" (1 byte): offsets stay in code points
  // of the original message.
  EXPECT_THAT(Find("k", "\u212A x k"),
              ElementsAre(CodePointSpan{0, 1}, CodePointSpan{4, 1}));
  EXPECT_THAT(Find("x", "\u212A x"), ElementsAre(CodePointSpan{2, 1}));
  // Simple folding only: no "ß" ~ "ss".
  EXPECT_THAT(Find("strasse", "Straße"), IsEmpty());
  EXPECT_THAT(Find("STRAẞE", "straße"), ElementsAre(CodePointSpan{0, 6}));
}

TEST(KeywordMatcherTest, R_EVT_02_CountStopsAtLimit) {
  KeywordMatcher matcher("a");
  const std::string folded = FoldCase("AAAAA");
  EXPECT_EQ(matcher.CountIn(folded), 5);
  EXPECT_EQ(matcher.CountIn(folded, 3), 3);
  EXPECT_EQ(matcher.CountIn(FoldCase("bbb")), 0);
}

TEST(KeywordMatcherTest, R_EVT_02_MalformedBytesCountAsOneCodePointEach) {
  EXPECT_EQ(CountCodePoints("a\xE2\x82"
                            "b"),
            4u);
  EXPECT_EQ(CountCodePoints("\x80\x80"), 2u);
  EXPECT_THAT(Find("b",
                   "\xE2\x82"
                   "B"),
              ElementsAre(CodePointSpan{2, 1}));
}

TEST(KeywordMatcherTest, R_EVT_02_FoldCaseKeepsCodePointCount) {
  const std::string text = "ÀÉÎ ΣΑΣ ЖУК \u212A İ 🚀";
  EXPECT_EQ(CountCodePoints(FoldCase(text)), CountCodePoints(text));
  EXPECT_EQ(FoldCase("ABC xyz"), "abc xyz");
}

}  // namespace
}  // namespace trainyard
