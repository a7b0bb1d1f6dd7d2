// Copyright 2026 Trainyard authors.
#include "services/metrics/series/series_keys.h"

#include "common/storage/keys.h"

namespace trainyard::metrics::series_internal {

std::string JobPrefix(std::string_view job) {
  return storage::KeyBuilder().AddString(job).Build();
}

std::string RewindKey(std::string_view job, int32_t attempt, int64_t step) {
  return storage::KeyBuilder()
      .AddString(job)
      .AddUint64(kKindRewind)
      .AddUint64(static_cast<uint64_t>(attempt))
      .AddUint64(static_cast<uint64_t>(step))
      .Build();
}

std::string IndexKey(std::string_view job, std::string_view series,
                     uint64_t tag, int64_t first_step) {
  return storage::KeyBuilder()
      .AddString(job)
      .AddUint64(kKindIndex)
      .AddString(series)
      .AddUint64(tag)
      .AddUint64(static_cast<uint64_t>(first_step))
      .Build();
}

std::string TailKey(std::string_view job, uint64_t seq) {
  return storage::KeyBuilder()
      .AddString(job)
      .AddUint64(kKindTail)
      .AddUint64(seq)
      .Build();
}

// All chunk keys of one run start with this.
std::string RunPrefix(std::string_view job, std::string_view series,
                      uint64_t tag) {
  return storage::KeyBuilder()
      .AddString(job)
      .AddString(series)
      .AddUint64(tag)
      .Build();
}

std::string RetiredKey(std::string_view job, uint64_t seq) {
  return storage::KeyBuilder()
      .AddString(job)
      .AddUint64(kKindRetired)
      .AddUint64(seq)
      .Build();
}

std::string ChunkKey(std::string_view job, std::string_view series,
                     uint64_t tag, const ChunkMeta& meta) {
  return storage::KeyBuilder()
      .AddString(job)
      .AddString(series)
      .AddUint64(tag)
      .AddUint64(static_cast<uint64_t>(meta.first_step))
      .AddUint64(meta.version)
      .Build();
}

}  // namespace trainyard::metrics::series_internal
