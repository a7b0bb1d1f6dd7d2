// -----------------------------------------------------------------------------
// File: services/metrics/series/series_codec.h
// -----------------------------------------------------------------------------
//
// Byte formats of the series data in RocksDB (keys: series_store.h). Compact
// binary rather than protobuf: a chunk is decoded at every bucket edge of a
// curve query, and the per-point cost of protobuf (a tag and a length per
// field of a repeated message) would double both the size and the decode
// time. All integers are LEB128 varints; "zigzag" marks signed deltas;
// doubles are their 8 IEEE-754 bytes little-endian, so NaN payloads, +/-Inf
// and -0.0 round-trip bit for bit.
//
// Point block (value of a chunk in `series_chunks` and of a tail segment in
// `series_meta`):
//   u8      format = 1
//   varint  count (>= 1)
//   count x { varint step delta (the first point: the step itself; then the
//                                difference to the previous step, >= 1)
//             zigzag varint attempt delta (to the previous point's attempt;
//                                          the first point: to 0)
//             8 bytes value }
//   A typical point is 1 + 1 + 8 = 10 bytes.
//
// Chunk summary (value of an index entry in `series_meta`; the chunk's
// first_step is in the key):
//   u8      format = 1
//   varint  version, count, last_step - first_step
//   min:    varint step - first_step, zigzag varint attempt, 8 bytes value
//   max:    same
//   last:   zigzag varint attempt, 8 bytes value (its step is last_step)
//
// Decoders validate lengths and monotonicity and return kDataLoss (never
// crash) on bad bytes. Thread-safe: pure functions.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/metrics/series/chunk_index.h"
#include "services/metrics/series/downsample.h"

namespace trainyard::metrics {

// Appends `points` as a point block. REQUIRES: non-empty, strictly
// increasing steps, steps >= 0.
void EncodePoints(absl::Span<const SeriesPoint> points, std::string* out);
std::string EncodePoints(absl::Span<const SeriesPoint> points);

// Appends the points of a block to `*out`. kDataLoss on malformed bytes.
absl::Status DecodePoints(std::string_view bytes,
                          std::vector<SeriesPoint>* out);

// A chunk summary. `meta.first_step` is not encoded (it is in the key).
std::string EncodeChunkMeta(const ChunkMeta& meta);
absl::Status DecodeChunkMeta(int64_t first_step, std::string_view bytes,
                             ChunkMeta* meta);

}  // namespace trainyard::metrics
