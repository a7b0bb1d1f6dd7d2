// Copyright 2026 Trainyard authors.
#include "common/strings/utf8.h"

namespace trainyard {
namespace {

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

size_t DecodeUtf8(std::string_view text, size_t pos, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  const size_t left = text.size() - pos;
  auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[pos + i]);
  };
  *cp = kMalformedUtf8;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left >= 2 && IsContinuation(byte(1))) {
      *cp = (char32_t{b0} & 0x1F) << 6 | (byte(1) & 0x3F);
      return 2;
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left >= 3) {
      const unsigned char b1 = byte(1);
      const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;  // Overlong.
      const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // Surrogate.
      if (b1 >= lo && b1 <= hi && IsContinuation(byte(2))) {
        *cp = (char32_t{b0} & 0x0F) << 12 | (char32_t{b1} & 0x3F) << 6 |
              (byte(2) & 0x3F);
        return 3;
      }
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left >= 4) {
      const unsigned char b1 = byte(1);
      const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;  // Overlong.
      const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;  // Above U+10FFFF.
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

bool IsValidUtf8(std::string_view text) {
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    pos += DecodeUtf8(text, pos, &cp);
    if (cp == kMalformedUtf8) return false;
  }
  return true;
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

}  // namespace trainyard
