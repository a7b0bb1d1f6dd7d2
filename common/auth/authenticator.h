// Copyright 2026 Trainyard authors.
//
// Turns the `authorization: Bearer <token>` metadata of a call into a
// Principal.
//
// Tokens file: one token per line, `<token> <user> <role>`, '#' comments:
//   # make run writes var/dev/tokens
//   ty_3f9a...  alice    engineer
//   ty_77c2...  jobs     service
// Tokens are kept only as SHA-256 digests in memory.
//
// Open mode (no tokens file): every caller is {user "local", role admin}. It
// is the zero-setup local default and is refused on non-loopback addresses
// (see server/server_config.h).
//
// Thread-safe after construction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/auth/principal.h"

namespace trainyard::auth {

class Authenticator {
 public:
  // Reads a tokens file. A missing file, a malformed line, an unknown role or
  // a duplicate token is kInvalidArgument naming the file and line (never
  // the token).
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromTokensFile(
      const std::string& path);
  // From the text of a tokens file; `origin` names it in errors.
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromTokensText(
      std::string_view text, std::string_view origin);
  static std::unique_ptr<Authenticator> Open();

  // `authorization` is the metadata value, absent when the call had none.
  // kUnauthenticated: no metadata, not a Bearer token, or an unknown token.
  absl::StatusOr<Principal> Authenticate(
      std::optional<std::string_view> authorization) const;

  bool open() const { return open_; }
  // For the start-up log line: "open (no tokens file)" or "bearer tokens (N)".
  std::string Describe() const;

 private:
  Authenticator() = default;
  bool open_ = false;
  absl::flat_hash_map<std::string, Principal> by_digest_;
};

}  // namespace trainyard::auth
