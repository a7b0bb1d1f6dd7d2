// -----------------------------------------------------------------------------
// File: common/storage/absl_strings.h
// -----------------------------------------------------------------------------
//
// Internal to common/storage. Debian 12's Abseil is built with
// ABSL_OPTION_USE_STD_STRING_VIEW 0, so absl::string_view is its own type and
// absl::StrCat and friends do not accept a std::string_view. Our API uses
// std::string_view; this converts at the calls into Abseil.

#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace trainyard::storage::internal {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace trainyard::storage::internal
