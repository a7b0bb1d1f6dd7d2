// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/tokens.h"

#include "common/paging/opaque_token.h"
#include "common/storage/keys.h"

namespace trainyard::scheduler {
namespace {

// The payload is a big-endian uint64 (common/storage/keys.h).
absl::StatusOr<uint64_t> Decode(std::string_view field, std::string_view kind,
                                std::string_view binding,
                                std::string_view token) {
  absl::StatusOr<std::string> payload =
      paging::DecodeOpaqueToken(field, kind, binding, token);
  if (!payload.ok()) return payload.status();
  std::string_view rest = *payload;
  uint64_t value = 0;
  if (!storage::ConsumeUint64(&rest, &value) || !rest.empty()) {
    return paging::InvalidTokenError(field, "malformed");
  }
  return value;
}

}  // namespace

std::string EncodePageToken(std::string_view kind, std::string_view binding,
                            int64_t offset) {
  return paging::EncodeOpaqueToken(
      kind, binding, storage::EncodeUint64(static_cast<uint64_t>(offset)));
}

absl::StatusOr<int64_t> DecodePageToken(std::string_view kind,
                                        std::string_view binding,
                                        std::string_view token) {
  absl::StatusOr<uint64_t> v = Decode("page_token", kind, binding, token);
  if (!v.ok()) return v.status();
  if (*v > static_cast<uint64_t>(INT32_MAX)) {
    return paging::InvalidTokenError("page_token", "offset out of range");
  }
  return static_cast<int64_t>(*v);
}

std::string EncodeAssignmentCursor(uint64_t seq) {
  return paging::EncodeOpaqueToken("assignments", "",
                                   storage::EncodeUint64(seq));
}

absl::StatusOr<uint64_t> DecodeAssignmentCursor(std::string_view field,
                                                std::string_view cursor) {
  if (cursor.empty()) return 0;
  return Decode(field, "assignments", "", cursor);
}

}  // namespace trainyard::scheduler
