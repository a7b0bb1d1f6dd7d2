// Copyright 2026 Trainyard authors.
//
// The gRPC side of shard routing (shard.h): one channel per metrics shard,
// and one stub per shard of any service, picked by job id. Every metrics
// client (job-control, scheduler, cost, yardctl) routes through these.
// Thread-safe once built (channels and stubs are).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/shard/shard.h"

namespace trainyard::shard {

class ShardChannels {
 public:
  // One channel per address of `addresses`, a flag's comma-separated shard
  // list (ParseShardList); insecure credentials, as every internal call.
  static absl::StatusOr<ShardChannels> Connect(std::string_view flag,
                                               std::string_view addresses);
  // A single service: one shard (what every caller had before shards).
  ShardChannels(std::shared_ptr<grpc::Channel> channel);  // NOLINT: a
                                                          // channel is one
                                                          // shard
  explicit ShardChannels(std::vector<std::shared_ptr<grpc::Channel>> channels);

  int size() const { return static_cast<int>(channels_.size()); }
  int ShardOf(std::string_view job_id) const {
    return shard::ShardOf(job_id, size());
  }
  const std::shared_ptr<grpc::Channel>& at(int shard) const {
    return channels_[shard];
  }
  const std::shared_ptr<grpc::Channel>& For(std::string_view job_id) const {
    return channels_[ShardOf(job_id)];
  }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

// One `Service::Stub` per shard.
template <typename Service>
class ShardStubs {
 public:
  using Stub = typename Service::Stub;

  explicit ShardStubs(const ShardChannels& channels) {
    for (int i = 0; i < channels.size(); ++i) {
      stubs_.push_back(Service::NewStub(channels.at(i)));
    }
  }

  int size() const { return static_cast<int>(stubs_.size()); }
  int ShardOf(std::string_view job_id) const {
    return shard::ShardOf(job_id, size());
  }
  Stub& at(int shard) const { return *stubs_[shard]; }
  Stub& For(std::string_view job_id) const { return *stubs_[ShardOf(job_id)]; }
  // For each shard, the positions in `job_ids` of its jobs.
  std::vector<std::vector<size_t>> Split(
      const std::vector<std::string>& job_ids) const {
    return SplitByShard(job_ids, size());
  }

 private:
  std::vector<std::unique_ptr<Stub>> stubs_;
};

}  // namespace trainyard::shard
