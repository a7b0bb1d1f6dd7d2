// Copyright 2026 Trainyard authors.
#include "common/paging/opaque_token.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "common/status/errors.h"
#include "common/status/reasons.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"

namespace trainyard::paging {
namespace {

constexpr char kVersion = 1;
constexpr size_t kHeaderBytes = 1 + 8;

uint64_t Fnv1a(uint64_t hash, std::string_view bytes) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

// Length-prefixes the kind so ("ab", "c") and ("a", "bc") bind differently.
uint64_t Binding(std::string_view kind, std::string_view binding) {
  uint64_t hash = 14695981039346656037ULL;
  hash = Fnv1a(hash, storage::EncodeUint64(kind.size()));
  hash = Fnv1a(hash, kind);
  return Fnv1a(hash, binding);
}

}  // namespace

std::string EncodeOpaqueToken(std::string_view kind, std::string_view binding,
                              std::string_view payload) {
  std::string bytes(1, kVersion);
  storage::AppendUint64(&bytes, Binding(kind, binding));
  bytes.append(payload);
  return absl::WebSafeBase64Escape(ToAbsl(bytes));
}

absl::StatusOr<std::string> DecodeOpaqueToken(std::string_view field,
                                              std::string_view kind,
                                              std::string_view binding,
                                              std::string_view token) {
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(ToAbsl(token), &bytes) ||
      absl::WebSafeBase64Escape(bytes) != ToAbsl(token) ||
      bytes.size() < kHeaderBytes || bytes[0] != kVersion) {
    return InvalidTokenError(field, "malformed token");
  }
  std::string_view rest(bytes);
  rest.remove_prefix(1);
  uint64_t bound = 0;
  storage::ConsumeUint64(&rest, &bound);
  if (bound != Binding(kind, binding)) {
    return InvalidTokenError(
        field,
        "the token was issued for another query; start again without it");
  }
  return std::string(rest);
}

absl::Status InvalidTokenError(std::string_view field,
                               std::string_view description) {
  return WithReason(InvalidFieldError(field, description),
                    reasons::kInvalidPageToken);
}

}  // namespace trainyard::paging
