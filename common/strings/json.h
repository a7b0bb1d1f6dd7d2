// Copyright 2026 Trainyard authors.
//
// JSON text: nlohmann-json values written one way, and string literals for
// the hand-written JSON of hot paths (gpusim's webhook events).
// Library ty_json.
#pragma once

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace trainyard {

// `value` (nlohmann::json or nlohmann::ordered_json) as compact JSON text.
// Bytes that are not valid UTF-8 (a client's text) become U+FFFD instead of
// throwing, so the result is always valid JSON.
template <typename Json>
std::string JsonText(const Json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false,
                    Json::error_handler_t::replace);
}

// Appends `text` to `*out` as a quoted JSON string: '"' and '\' are escaped,
// \n \r \t \b \f use their short escapes, other control characters and DEL
// become \u00XX, and each byte that is not part of well-formed UTF-8
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) becomes
// \ufffd, so the result is always valid JSON. Valid UTF-8 is copied as is.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace trainyard
