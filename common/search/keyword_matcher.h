// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: common/search/keyword_matcher.h
// -----------------------------------------------------------------------------
//
// Keyword search of list APIs (the event log, R-EVT-02; the jobs list,
// R-LIST-02): a plain, case-insensitive substring test on a text, reporting
// every non-overlapping match as a span in Unicode code points of the message
// (domain.md: "Keyword-match offsets are in Unicode code points of the
// message"; not bytes, not UTF-16 units: an emoji counts as one).
//
// Case-insensitivity is Unicode *simple* case folding (CaseFolding.txt
// statuses C and S, via ICU's u_foldCase): every code point maps to exactly one
// code point, so a match in the folded text has the same code-point offsets as
// in the original message. Full folding ("ß" ~ "ss") and normalization (NFC vs
// NFD) are not applied: "Straße" does not match "STRASSE", and a precomposed
// "é" does not match "e" + U+0301.
//
// Malformed UTF-8 (which protobuf never lets into a stored message) is handled
// without failing: each byte that does not start a well-formed sequence counts
// as one code point and is kept unchanged by folding.
//
// Pure functions and immutable objects: thread-safe.

#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard {

// A match inside a message, in code points (mirrors metrics.v1.MatchSpan).
struct CodePointSpan {
  int32_t start = 0;
  int32_t length = 0;
  bool operator==(const CodePointSpan&) const = default;
};

// Number of code points in `text`, counting each malformed byte as one.
size_t CountCodePoints(std::string_view text);

// Appends `text` with simple case folding applied to every code point.
void AppendFolded(std::string_view text, std::string* out);

// `text` with simple case folding applied to every code point.
std::string FoldCase(std::string_view text);

// Finds a keyword in case-folded text. Build once per query; the text given
// to the Find/Count methods must already be folded (AppendFolded), which is how
// the event index keeps messages, so a query folds each message only once.
class KeywordMatcher {
 public:
  // REQUIRES: `keyword` is non-empty, well-formed UTF-8.
  explicit KeywordMatcher(std::string_view keyword);

  // Number of non-overlapping matches in `folded_text`, scanning left to
  // right. Stops counting at `limit` (returns `limit` then).
  int CountIn(std::string_view folded_text,
              int limit = std::numeric_limits<int>::max()) const;

  // Every non-overlapping match in `folded_text`, left to right, as spans in
  // code points.
  std::vector<CodePointSpan> FindIn(std::string_view folded_text) const;

  // FindIn(FoldCase(message)).
  std::vector<CodePointSpan> FindInMessage(std::string_view message) const;

  // The folded keyword.
  const std::string& folded_keyword() const { return folded_; }

 private:
  std::string folded_;
  int32_t length_code_points_;
};

}  // namespace trainyard
