// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: common/paging/opaque_token.h
// -----------------------------------------------------------------------------
//
// The one codec for the opaque strings the API hands out and takes back: page
// tokens (AIP-158), stream resume tokens and cursors. A token is the web-safe
// base64 (no padding) of
//
//   version (1 byte, = 1) | binding (8 bytes, big-endian) | payload
//
// where `binding` is a 64-bit FNV-1a hash of the token's kind and of the query
// it was issued for (e.g. a job id and the canonical filter and order), so a
// token given back with another kind, job, filter or order is refused instead
// of silently paging something else. The payload is the caller's (a position,
// a sequence number); callers encode it with common/storage/keys.h.
//
// Tokens are not signed: a client that forges one can only select rows of the
// query it is already allowed to run. FNV-1a is a stable hash (unlike
// absl::Hash), so tokens survive restarts.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainyard::paging {

// A token of `kind` for the query `binding` carrying `payload`.
std::string EncodeOpaqueToken(std::string_view kind, std::string_view binding,
                              std::string_view payload);

// The payload of `token`. INVALID_ARGUMENT with a field violation on `field`
// and reason INVALID_PAGE_TOKEN when the token is not base64 of our format (a
// strict decode: re-encoding must give the same text), has another version, or
// was issued for another kind or binding.
absl::StatusOr<std::string> DecodeOpaqueToken(std::string_view field,
                                              std::string_view kind,
                                              std::string_view binding,
                                              std::string_view token);

// INVALID_ARGUMENT with a field violation on `field` and reason
// INVALID_PAGE_TOKEN; for payloads that decode but make no sense.
absl::Status InvalidTokenError(std::string_view field,
                               std::string_view description);

}  // namespace trainyard::paging
