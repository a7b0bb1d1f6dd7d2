// Copyright 2026 Trainyard authors.
#include "common/shard/shard.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/strings/absl_view.h"

namespace trainyard::shard {
namespace {

constexpr int kMaxShards = 1024;

}  // namespace

uint64_t JobHash(std::string_view job_id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(job_id.data()), job_id.size(),
         digest);
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | digest[i];
  return h;
}

int ShardOf(std::string_view job_id, int shard_count) {
  if (shard_count <= 1) return 0;
  return static_cast<int>(JobHash(job_id) % static_cast<uint64_t>(shard_count));
}

absl::StatusOr<std::vector<std::string>> ParseShardList(
    std::string_view flag, std::string_view value) {
  std::vector<std::string> out;
  for (absl::string_view entry : absl::StrSplit(ToAbsl(value), ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return InvalidFieldError(
          flag, absl::StrCat("entry ", out.size() + 1,
                             " is empty: a comma-separated list, one entry "
                             "per metrics shard"));
    }
    out.emplace_back(entry);
  }
  if (out.size() > kMaxShards) {
    return InvalidFieldError(flag,
                             absl::StrCat("at most ", kMaxShards, " shards"));
  }
  return out;
}

std::vector<std::vector<size_t>> SplitByShard(
    const std::vector<std::string>& job_ids, int shard_count) {
  std::vector<std::vector<size_t>> out(std::max(shard_count, 1));
  for (size_t i = 0; i < job_ids.size(); ++i) {
    out[ShardOf(job_ids[i], shard_count)].push_back(i);
  }
  return out;
}

absl::Status ShardIdentity::Check(std::string_view job_id) const {
  if (count <= 1 || !ValidateId("job_id", job_id).ok()) {
    return absl::OkStatus();
  }
  const int owner = ShardOf(job_id, count);
  if (owner == index) return absl::OkStatus();
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "job ", ToAbsl(job_id), " belongs to metrics shard ", owner, " of ",
          count, "; this is shard ", index,
          ": the caller's shard list (--metrics_address, --webhook_base_url) "
          "is not in shard order or has another length")),
      kWrongShardReason,
      {{"job_id", std::string(job_id)},
       {"shard", absl::StrCat(owner)},
       {"shard_count", absl::StrCat(count)},
       {"this_shard", absl::StrCat(index)}});
}

std::string ShardIdentity::ToString() const {
  return absl::StrCat(index, "/", count);
}

absl::StatusOr<ShardIdentity> ParseShardIdentity(std::string_view value) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(ToAbsl(value), absl::MaxSplits('/', 1));
  ShardIdentity id;
  if (!absl::SimpleAtoi(parts.first, &id.index) ||
      !absl::SimpleAtoi(parts.second, &id.count)) {
    return absl::InvalidArgumentError(
        "want i/N: this shard's index and the number of shards, e.g. 0/2");
  }
  if (id.count < 1 || id.count > kMaxShards) {
    return absl::InvalidArgumentError(
        absl::StrCat("N must be 1 to ", kMaxShards));
  }
  if (id.index < 0 || id.index >= id.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("i must be 0 to N-1 (", id.count - 1, ")"));
  }
  return id;
}

}  // namespace trainyard::shard
