// Copyright 2026 Trainyard authors.
#include "common/auth/authenticator.h"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings/absl_view.h"

namespace trainyard::auth {
namespace {

std::string Digest(std::string_view token) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromTokensText(
    std::string_view text, std::string_view origin) {
  auto auth = std::unique_ptr<Authenticator>(new Authenticator());
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(ToAbsl(text), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto where = [&] {
      return absl::StrCat(ToAbsl(origin), ":", line_no, ": ");
    };
    if (parts.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected `<token> <user> <role>`"));
    }
    absl::StatusOr<Role> role = ParseRole(ToStd(parts[2]));
    if (!role.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), role.status().message()));
    }
    auto [it, inserted] = auth->by_digest_.emplace(
        Digest(ToStd(parts[0])), Principal{std::string(parts[1]), *role});
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "duplicate token (also given to ", it->second.user, ")"));
    }
  }
  return auth;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromTokensFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read tokens file \"", path, "\""));
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromTokensText(text.str(), path);
}

std::unique_ptr<Authenticator> Authenticator::Open() {
  auto auth = std::unique_ptr<Authenticator>(new Authenticator());
  auth->open_ = true;
  return auth;
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    std::optional<std::string_view> authorization) const {
  if (open_) return Principal{"local", Role::kAdmin};
  if (!authorization.has_value() || authorization->empty()) {
    return absl::UnauthenticatedError(
        "missing `authorization: Bearer <token>` metadata");
  }
  std::string_view value = *authorization;
  if (value.size() < 7 ||
      !absl::EqualsIgnoreCase(ToAbsl(value.substr(0, 7)), "bearer ")) {
    return absl::UnauthenticatedError(
        "authorization metadata is not a Bearer token");
  }
  std::string_view token =
      ToStd(absl::StripAsciiWhitespace(ToAbsl(value.substr(7))));
  auto it = by_digest_.find(Digest(token));
  if (it == by_digest_.end()) {
    return absl::UnauthenticatedError("unknown bearer token");
  }
  return it->second;
}

std::string Authenticator::Describe() const {
  if (open_) return "open (no tokens file: every caller is admin)";
  return absl::StrCat("bearer tokens (", by_digest_.size(), " principals)");
}

}  // namespace trainyard::auth
