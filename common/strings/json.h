// Copyright 2026 Trainyard authors.
//
// JSON string literals for hand-written JSON.
// Library ty_json.
#pragma once

#include <string>
#include <string_view>

namespace trainyard {

// Appends `text` to `*out` as a quoted JSON string: '"' and '\' are escaped,
// \n \r \t \b \f use their short escapes, other control characters and DEL
// become \u00XX, and each byte that is not part of well-formed UTF-8
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) becomes
// \ufffd, so the result is always valid JSON. Valid UTF-8 is copied as is.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace trainyard
