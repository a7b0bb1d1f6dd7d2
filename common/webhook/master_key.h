// Copyright 2026 The Trainyard Authors.
//
// File: common/webhook/master_key.h
// -----------------------------------------------------------------------------
// The webhook master key: random bytes from which every job's webhook secret
// is derived (see DeriveJobSecret in signature.h). It is kept in a file that
// holds the key's base64 text; surrounding whitespace is ignored.
//
// No function here ever puts key material in a status message.

#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainyard::webhook {

// The shortest master key accepted, in bytes.
inline constexpr size_t kMinMasterKeyBytes = 32;

// Reads the master key file at `path` and returns the raw key bytes.
// Errors, each naming `path`: kNotFound (no such file), kPermissionDenied
// (unreadable), kInvalidArgument (not base64 text, fewer than
// kMinMasterKeyBytes bytes, or implausibly large), kInternal (other I/O).
absl::StatusOr<std::string> LoadMasterKey(const std::string& path);

// Creates the master key file at `path` with kMinMasterKeyBytes bytes from
// OpenSSL's RAND_bytes, base64-encoded, mode 0600, unless a file (or anything
// else) already exists there, in which case it returns OK and changes
// nothing. The file appears atomically, complete and synced, so a crash or a
// concurrent caller never leaves a partial key. The parent directory must
// exist. Errors name `path`.
absl::Status CreateMasterKeyFile(const std::string& path);

}  // namespace trainyard::webhook
