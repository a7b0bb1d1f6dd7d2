// Copyright 2026 Trainyard authors.
//
// The keys and constants of the series store's two column families
// (implementation notes: top of series_store.cc). Internal to series/.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "services/metrics/series/chunk_index.h"

namespace trainyard::metrics::series_internal {

inline constexpr std::string_view kMetaCf = "series_meta";
inline constexpr std::string_view kChunksCf = "series_chunks";

// Second key component of series_meta keys.
inline constexpr uint64_t kKindRewind = 0;
inline constexpr uint64_t kKindIndex = 1;
inline constexpr uint64_t kKindTail = 2;
inline constexpr uint64_t kKindRetired = 3;

// Run tag of the effective curve; rolled-back runs use their attempt (>= 1).
inline constexpr uint64_t kEffectiveTag = 0;

inline constexpr int64_t kMaxStep = std::numeric_limits<int64_t>::max();

std::string JobPrefix(std::string_view job);

std::string RewindKey(std::string_view job, int32_t attempt, int64_t step);

std::string IndexKey(std::string_view job, std::string_view series,
                     uint64_t tag, int64_t first_step);

std::string TailKey(std::string_view job, uint64_t seq);

// All chunk keys of one run start with this.
std::string RunPrefix(std::string_view job, std::string_view series,
                      uint64_t tag);

std::string RetiredKey(std::string_view job, uint64_t seq);

std::string ChunkKey(std::string_view job, std::string_view series,
                     uint64_t tag, const ChunkMeta& meta);

}  // namespace trainyard::metrics::series_internal
