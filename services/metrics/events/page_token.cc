// Copyright 2026 Trainyard authors.
#include "services/metrics/events/page_token.h"

#include "absl/strings/escaping.h"
#include "common/status/errors.h"
#include "common/status/reasons.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"

namespace trainyard::metrics {
namespace {

constexpr char kVersion = 1;
constexpr size_t kTokenBytes = 1 + 4 * 8;

uint64_t Fnv1a(uint64_t hash, std::string_view bytes) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

uint64_t PageTokenBinding(std::string_view job_id, std::string_view canonical) {
  uint64_t hash = 14695981039346656037ULL;
  // Length-prefix the job id so ("ab", "c...") and ("a", "bc...") differ.
  hash = Fnv1a(hash, storage::EncodeUint64(job_id.size()));
  hash = Fnv1a(hash, job_id);
  return Fnv1a(hash, canonical);
}

std::string EncodePageToken(const PageToken& token) {
  std::string bytes(1, kVersion);
  storage::AppendUint64(&bytes, token.binding);
  storage::AppendUint64(&bytes, token.anchor_job_seq);
  storage::AppendUint64(&bytes, token.last_job_seq);
  storage::AppendUint64(
      &bytes, static_cast<uint64_t>(absl::ToUnixSeconds(token.issue_time)));
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<PageToken> DecodePageToken(std::string_view text) {
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(ToAbsl(text), &bytes) ||
      bytes.size() != kTokenBytes || bytes[0] != kVersion) {
    return InvalidPageTokenError("malformed token");
  }
  std::string_view rest(bytes);
  rest.remove_prefix(1);
  PageToken token;
  uint64_t issue_seconds = 0;
  storage::ConsumeUint64(&rest, &token.binding);
  storage::ConsumeUint64(&rest, &token.anchor_job_seq);
  storage::ConsumeUint64(&rest, &token.last_job_seq);
  storage::ConsumeUint64(&rest, &issue_seconds);
  token.issue_time = absl::FromUnixSeconds(static_cast<int64_t>(issue_seconds));
  return token;
}

absl::Status InvalidPageTokenError(std::string_view description) {
  return WithReason(InvalidFieldError("page_token", description),
                    reasons::kInvalidPageToken);
}

}  // namespace trainyard::metrics
