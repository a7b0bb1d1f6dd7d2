// Copyright 2026 Trainyard authors.
#include "common/search/keyword_matcher.h"

#include "common/strings/utf8.h"
#include "unicode/uchar.h"

namespace trainyard {
namespace {

// Code points in text[begin, end).
size_t CountRange(std::string_view text, size_t begin, size_t end) {
  size_t count = 0;
  char32_t cp;
  for (size_t pos = begin; pos < end;) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
    } else {
      pos += DecodeUtf8(text, pos, &cp);
    }
    ++count;
  }
  return count;
}

}  // namespace

size_t CountCodePoints(std::string_view text) {
  return CountRange(text, 0, text.size());
}

void AppendFolded(std::string_view text, std::string* out) {
  out->reserve(out->size() + text.size());
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      out->push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++pos;
      continue;
    }
    const size_t len = DecodeUtf8(text, pos, &cp);
    if (cp == kMalformedUtf8) {
      out->push_back(text[pos]);
    } else {
      AppendUtf8(static_cast<char32_t>(
                     u_foldCase(static_cast<UChar32>(cp), U_FOLD_CASE_DEFAULT)),
                 out);
    }
    pos += len;
  }
}

std::string FoldCase(std::string_view text) {
  std::string out;
  AppendFolded(text, &out);
  return out;
}

KeywordMatcher::KeywordMatcher(std::string_view keyword)
    : folded_(FoldCase(keyword)),
      length_code_points_(static_cast<int32_t>(CountCodePoints(folded_))) {}

int KeywordMatcher::CountIn(std::string_view folded_text, int limit) const {
  if (folded_.empty()) return 0;
  int count = 0;
  for (size_t pos = folded_text.find(folded_); pos != std::string_view::npos;
       pos = folded_text.find(folded_, pos + folded_.size())) {
    if (++count >= limit) break;
  }
  return count;
}

std::vector<CodePointSpan> KeywordMatcher::FindIn(
    std::string_view folded_text) const {
  std::vector<CodePointSpan> spans;
  if (folded_.empty()) return spans;
  size_t counted_bytes = 0;   // text[0, counted_bytes) holds ...
  size_t counted_points = 0;  // ... this many code points.
  for (size_t pos = folded_text.find(folded_); pos != std::string_view::npos;
       pos = folded_text.find(folded_, pos + folded_.size())) {
    counted_points += CountRange(folded_text, counted_bytes, pos);
    spans.push_back(
        {static_cast<int32_t>(counted_points), length_code_points_});
    counted_points += length_code_points_;
    counted_bytes = pos + folded_.size();
  }
  return spans;
}

std::vector<CodePointSpan> KeywordMatcher::FindInMessage(
    std::string_view message) const {
  return FindIn(FoldCase(message));
}

}  // namespace trainyard
