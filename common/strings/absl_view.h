// Copyright 2026 Trainyard authors.
//
// Debian 12's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0:
// absl::string_view is its own type, and absl::StrCat, SimpleAtoi, ParseTime
// and friends do not take a std::string_view. Our APIs use std::string_view;
// these convert where we call into Abseil (no copy).
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace trainyard {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline std::string_view ToStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace trainyard
