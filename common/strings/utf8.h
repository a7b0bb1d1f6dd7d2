// Copyright 2026 Trainyard authors.
//
// UTF-8 (RFC 3629) decoding, validation and encoding, in one place for the
// JSON writer and reader and the keyword search. Library ty_utf8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trainyard {

// What DecodeUtf8 yields for bytes that are not a well-formed sequence.
inline constexpr char32_t kMalformedUtf8 = 0xFFFFFFFF;

// Decodes the code point at text[pos] (REQUIRES: pos < text.size()). Returns
// its byte length (>= 1) and sets *cp, or sets kMalformedUtf8 (length 1) when
// the bytes at `pos` are not well-formed: an overlong form, a surrogate, a
// value above U+10FFFF, or a truncated sequence.
size_t DecodeUtf8(std::string_view text, size_t pos, char32_t* cp);

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

// Appends the UTF-8 encoding of `cp`. REQUIRES: cp <= U+10FFFF.
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace trainyard
