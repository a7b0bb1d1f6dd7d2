// Copyright 2026 Trainyard authors.
#include "common/shard/shard_channels.h"

#include "common/status/status_macros.h"

namespace trainyard::shard {

absl::StatusOr<ShardChannels> ShardChannels::Connect(
    std::string_view flag, std::string_view addresses) {
  ASSIGN_OR_RETURN(std::vector<std::string> list,
                   ParseShardList(flag, addresses));
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& address : list) {
    channels.push_back(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }
  return ShardChannels(std::move(channels));
}

ShardChannels::ShardChannels(std::shared_ptr<grpc::Channel> channel) {
  channels_.push_back(std::move(channel));
}

ShardChannels::ShardChannels(
    std::vector<std::shared_ptr<grpc::Channel>> channels)
    : channels_(std::move(channels)) {}

}  // namespace trainyard::shard
