// Copyright 2026 The Trainyard Authors.
//
// File: common/webhook/base64.h
// -----------------------------------------------------------------------------
// Base64 with the standard alphabet (RFC 4648 section 4) and '=' padding, as
// Standard Webhooks uses for secrets and signatures.

#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace trainyard::webhook {

// Returns the padded base64 text of `bytes`.
std::string Base64Encode(std::string_view bytes);

// Decodes padded base64 text. Strict: the length must be a multiple of 4,
// only the standard alphabet, '=' only as the last one or two characters, no
// whitespace, and the unused bits of the last group must be zero (so each
// byte string has exactly one accepted text). Anything else is
// kInvalidArgument; the message does not repeat the input, which may be a
// secret.
absl::StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace trainyard::webhook
