// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/tokens.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/errors.h"
#include "common/webhook/base64.h"

namespace trainyard::scheduler {
namespace {

// "v1|kind|hash(binding)|value", base64.
std::string Encode(std::string_view kind, std::string_view binding,
                   uint64_t value) {
  return webhook::Base64Encode(
      absl::StrCat("v1|", std::string(kind), "|",
                   std::hash<std::string_view>()(binding), "|", value));
}

absl::StatusOr<uint64_t> Decode(std::string_view field, std::string_view kind,
                                std::string_view binding,
                                std::string_view token) {
  auto bad = [&](std::string_view why) {
    return WithReason(InvalidFieldError(field, why), "INVALID_PAGE_TOKEN");
  };
  absl::StatusOr<std::string> text = webhook::Base64Decode(token);
  if (!text.ok()) return bad("malformed");
  std::vector<std::string> parts = absl::StrSplit(*text, '|');
  uint64_t value = 0;
  if (parts.size() != 4 || parts[0] != "v1" || parts[1] != kind ||
      !absl::SimpleAtoi(parts[3], &value)) {
    return bad("malformed");
  }
  if (parts[2] != absl::StrCat(std::hash<std::string_view>()(binding))) {
    return bad("belongs to another query (filter or order_by changed)");
  }
  return value;
}

}  // namespace

std::string EncodePageToken(std::string_view kind, std::string_view binding,
                            int64_t offset) {
  return Encode(kind, binding, static_cast<uint64_t>(offset));
}

absl::StatusOr<int64_t> DecodePageToken(std::string_view kind,
                                        std::string_view binding,
                                        std::string_view token) {
  absl::StatusOr<uint64_t> v = Decode("page_token", kind, binding, token);
  if (!v.ok()) return v.status();
  return static_cast<int64_t>(*v);
}

std::string EncodeAssignmentCursor(uint64_t seq) {
  return Encode("assignments", "", seq);
}

absl::StatusOr<uint64_t> DecodeAssignmentCursor(std::string_view field,
                                                std::string_view cursor) {
  if (cursor.empty()) return 0;
  return Decode(field, "assignments", "", cursor);
}

}  // namespace trainyard::scheduler
