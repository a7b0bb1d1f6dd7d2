// Copyright 2026 Trainyard authors.
//
// metrics-ingest shards. A deployment runs N metrics-ingest processes; each
// job's events, series and state live on exactly one of them, its shard:
//
//   shard = (first 8 bytes of SHA-256(job_id), big-endian) mod N
//
// Every reader and writer routes by this one function (shard_channels.h for
// gRPC; job-control also picks the pod's webhook URL by it), and each shard
// refuses the jobs that are not its own (ShardIdentity::Check), so a
// misconfigured router fails loudly instead of splitting a job's data.
// N is fixed for a deployment: changing it moves most jobs to another shard
// and needs a migration of the stored data.
//
// Shard lists come from the existing flags: a comma-separated list, entry i
// for shard i (`--metrics_address=a:7103,b:7103`); one entry is one shard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainyard::shard {

// The ErrorInfo reason of a call or webhook for a job of another shard.
inline constexpr char kWrongShardReason[] = "WRONG_SHARD";

// The first 8 bytes of SHA-256(job_id), big-endian.
uint64_t JobHash(std::string_view job_id);

// The shard of `job_id` among `shard_count` shards, in [0, shard_count).
// REQUIRES: shard_count >= 1.
int ShardOf(std::string_view job_id, int shard_count);

// Splits a flag's comma-separated list (spaces around entries ignored) into
// its entries, shard i first at i. kInvalidArgument naming `flag` (with a
// field violation) when the list or one of its entries is empty.
absl::StatusOr<std::vector<std::string>> ParseShardList(std::string_view flag,
                                                        std::string_view value);

// For each shard, the positions in `job_ids` of its jobs, in order.
std::vector<std::vector<size_t>> SplitByShard(
    const std::vector<std::string>& job_ids, int shard_count);

// Which shard this process is (metrics-ingest's --shard=i/N).
struct ShardIdentity {
  int index = 0;
  int count = 1;

  // OK when `job_id` is this shard's (always with one shard, and for what
  // is no valid job id at all, which the request's own validation rejects
  // by name); else
  // FAILED_PRECONDITION with reason WRONG_SHARD and metadata job_id, shard
  // (the job's shard index), shard_count and this_shard.
  absl::Status Check(std::string_view job_id) const;
  // "i/N".
  std::string ToString() const;
};

// Parses "i/N" (0 <= i < N, 1 <= N <= 1024); kInvalidArgument saying what
// is wrong (without a flag name: the flag parser adds it).
absl::StatusOr<ShardIdentity> ParseShardIdentity(std::string_view value);

}  // namespace trainyard::shard
