// Copyright 2026 Trainyard authors.
//
// The one way a service reads a secret it is given by file (the bearer token
// it sends its peers, the provider API key): the first whitespace-separated
// word of the first line that is neither blank nor a '#' comment, so a token
// file may carry a comment line like var/dev/tokens does.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace trainyard::config {

// INVALID_ARGUMENT with a field violation naming `flag` when the file cannot
// be read or holds no token.
absl::StatusOr<std::string> ReadFirstToken(std::string_view flag,
                                           const std::string& path);

}  // namespace trainyard::config
