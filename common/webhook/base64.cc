// Copyright 2026 The Trainyard Authors.

#include "common/webhook/base64.h"

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace trainyard::webhook {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (int8_t& value : table) value = kInvalid;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto at = [&bytes](size_t k) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out.push_back(kAlphabet[group >> 18]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(kAlphabet[(group >> 6) & 63]);
    out.push_back(kAlphabet[group & 63]);
  }
  const size_t left = bytes.size() - i;
  if (left == 1) {
    const uint32_t group = at(i) << 16;
    out.push_back(kAlphabet[group >> 18]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.append("==");
  } else if (left == 2) {
    const uint32_t group = at(i) << 16 | at(i + 1) << 8;
    out.push_back(kAlphabet[group >> 18]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(kAlphabet[(group >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base64 text length ", text.size(), " is not a multiple of 4"));
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t digits = last ? 4 - padding : 4;
    uint32_t group = 0;
    for (size_t k = 0; k < 4; ++k) {
      uint32_t value = 0;
      if (k < digits) {
        const int8_t decoded = kDecode[static_cast<uint8_t>(text[i + k])];
        if (decoded == kInvalid) {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid base64 character at offset ", i + k));
        }
        value = static_cast<uint32_t>(decoded);
      }
      group = group << 6 | value;
    }
    out.push_back(static_cast<char>(group >> 16));
    if (digits >= 3) out.push_back(static_cast<char>((group >> 8) & 0xFF));
    if (digits == 4) out.push_back(static_cast<char>(group & 0xFF));
    // The bits below the last full byte must be zero.
    if ((digits == 2 && (group & 0xFFFF) != 0) ||
        (digits == 3 && (group & 0xFF) != 0)) {
      return absl::InvalidArgumentError(
          "base64 text has non-zero padding bits");
    }
  }
  return out;
}

}  // namespace trainyard::webhook
