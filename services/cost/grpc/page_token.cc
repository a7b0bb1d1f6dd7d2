// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/page_token.h"

#include <cstdint>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/errors.h"

namespace trainyard::cost {
namespace {

// FNV-1a: stable across processes and restarts. Not a secret: it only
// tells a token of another query apart.
std::string BindingHash(std::string_view binding) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : binding) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrCat(h);
}

}  // namespace

std::string EncodeOpaqueToken(std::string_view kind, std::string_view binding,
                              std::string_view payload) {
  return absl::WebSafeBase64Escape(absl::StrCat("1|", std::string(kind), "|",
                                                BindingHash(binding), "|",
                                                std::string(payload)));
}

absl::StatusOr<std::string> DecodeOpaqueToken(std::string_view field,
                                              std::string_view kind,
                                              std::string_view binding,
                                              std::string_view token) {
  std::string text;
  auto bad = [&](std::string_view why) {
    return WithReason(InvalidFieldError(field, why), "INVALID_PAGE_TOKEN");
  };
  if (!absl::WebSafeBase64Unescape(std::string(token), &text)) {
    return bad("malformed");
  }
  std::vector<std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('|', 3));
  if (parts.size() != 4 || parts[0] != "1" || parts[1] != kind) {
    return bad("malformed");
  }
  if (parts[2] != BindingHash(binding)) {
    return bad("belongs to another query (filter, order or job changed)");
  }
  return parts[3];
}

}  // namespace trainyard::cost
