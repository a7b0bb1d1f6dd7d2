// Copyright 2026 Trainyard authors.
#include "services/metrics/events/keyword_matcher.h"

#include "unicode/uchar.h"

namespace trainyard::metrics {
namespace {

constexpr char32_t kMalformed = 0xFFFFFFFF;

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Decodes the code point at text[pos]. Returns its byte length (>= 1) and
// sets *cp, or kMalformed in *cp (length 1) when the bytes at `pos` are not a
// well-formed sequence.
size_t Decode(std::string_view text, size_t pos, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  const size_t left = text.size() - pos;
  auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[pos + i]);
  };
  *cp = kMalformed;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left >= 2 && IsContinuation(byte(1))) {
      *cp = (char32_t{b0} & 0x1F) << 6 | (byte(1) & 0x3F);
      return 2;
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left >= 3) {
      const unsigned char b1 = byte(1);
      const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
      if (b1 >= lo && b1 <= hi && IsContinuation(byte(2))) {
        *cp = (char32_t{b0} & 0x0F) << 12 | (char32_t{b1} & 0x3F) << 6 |
              (byte(2) & 0x3F);
        return 3;
      }
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left >= 4) {
      const unsigned char b1 = byte(1);
      const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
      const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
      if (b1 >= lo && b1 <= hi && IsContinuation(byte(2)) &&
          IsContinuation(byte(3))) {
        *cp = (char32_t{b0} & 0x07) << 18 | (char32_t{b1} & 0x3F) << 12 |
              (char32_t{byte(2)} & 0x3F) << 6 | (byte(3) & 0x3F);
        return 4;
      }
    }
  }
  return 1;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Code points in text[begin, end).
size_t CountRange(std::string_view text, size_t begin, size_t end) {
  size_t count = 0;
  char32_t cp;
  for (size_t pos = begin; pos < end;) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
    } else {
      pos += Decode(text, pos, &cp);
    }
    ++count;
  }
  return count;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    pos += Decode(text, pos, &cp);
    if (cp == kMalformed) return false;
  }
  return true;
}

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
    const size_t len = Decode(text, pos, &cp);
    if (cp == kMalformed) {
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

}  // namespace trainyard::metrics
