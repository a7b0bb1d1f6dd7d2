// Copyright 2026 Trainyard authors.
//
// Implementation notes (the contract is in series_store.h; the overview in
// services/metrics/README.md). The store is split by job: series_keys.h (key
// layout, constants), series_state.h (the in-memory state: published
// versions, staged drafts), series_writer.cc (Stage*, DeleteJob, Publish),
// series_reader.cc (snapshots and queries); this file sets the store up and
// loads a job's state.
//
// Storage layout (two column families, see ColumnFamilies()). Keys are built
// with storage::KeyBuilder (strings escaped and terminated, uint64 big-endian,
// so byte order is tuple order); `tag` is 0 for the effective curve and the
// attempt number for the rolled-back points of that attempt.
//
//   series_chunks  job | series | tag | first_step | version -> point block
//       Up to options.chunk_points points (256) with strictly increasing
//       steps; a run's chunks cover disjoint step extents. A chunk's blob is
//       never modified: a rewrite (out-of-order point, rewind) writes a new
//       version under a new key and *retires* the old one (below), so a
//       query reading an older in-memory snapshot still finds exactly the
//       chunks its summaries describe.
//   series_meta    (kind: 0 rewind, 1 chunk summary, 2 tail segment,
//                   3 retired chunk)
//       job | 0 | new_attempt | resumed_from_step  -> ""
//       job | 1 | series | tag | first_step         -> chunk summary
//       job | 2 | seq                               -> tail segment
//       job | 3 | seq                               -> chunk key
//       Everything needed to rebuild a job's in-memory state, in one prefix
//       scan (one consistent snapshot) that never touches point data.
//
// Retired chunks. Queries register the generation of their snapshot; a
// retired chunk is deleted (with its record) by a later Stage* of the same
// job once no query of an older generation is in flight. Rewrites are rare
// (late points, rewinds), so little waits there; a job that stops writing
// keeps its few retired chunks until DeleteJob. Should a query still find a
// chunk gone (the job was evicted and reloaded under it, or purged), it
// retries on a fresh snapshot.
//
// Formats of the values: series_codec.h (compact binary, ~10 bytes a point).
//
// Write path. New points of the effective curve beyond its last chunk go to
// the series' tail. Each Stage writes ONE tail segment for the job, whatever
// the number of series it touches: an entry per series with its new points
// (series_codec.h: TailEntry), so a webhook of 8 values costs one small Put,
// not 8. When a tail reaches chunk_points points, whole chunks are folded
// out of it (chunk + summary written) and the remainder is written as a
// *reset* entry: the series' entries in older segments no longer count. A
// series reads the segment of its latest reset and every later one with an
// entry of it; a segment no series reads is deleted (series that report
// together reset together, so these are runs of seqs: one range deletion).
// A series that reports rarely (val_loss) keeps its few segments alive, and
// with them the void entries of the others, until its own next reset. A
// chunk blob is written once per chunk_points points, not per point. Points
// at or before the last chunk's last step (late or replayed points) and
// rewinds rewrite the affected chunks (read-modify-write).
//
// Summaries, three levels. Per block of 32 points: its extremes, in the
// chunk's header. Per chunk: count, min, max (value, step, attempt) and last
// point, in its index entry; the whole index of a job is held in memory
// (about 100 bytes per chunk, 0.4 byte per point). Per group of 64 chunks:
// merged extremes, in memory (chunk_index.h; derived at load, not stored,
// since the index is read whole anyway). A query over [start, end] into B
// buckets takes each bucket's extremes from the coarsest summaries that lie
// wholly inside it and decodes only the blocks that straddle a bucket edge:
// O(B x (log chunks + group size + block size)) work, independent of the
// history length. Ranges with few points per bucket are downsampled from
// the raw points instead (cheaper there; same result).

#include "services/metrics/series/series_store.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"
#include "services/metrics/series/chunk_index.h"
#include "services/metrics/series/series_codec.h"
#include "services/metrics/series/series_keys.h"
#include "services/metrics/series/series_state.h"

namespace trainyard::metrics {

using series_internal::ExtremesOf;
using series_internal::JobPrefix;
using series_internal::JobState;
using series_internal::kChunksCf;
using series_internal::kEffectiveTag;
using series_internal::kKindIndex;
using series_internal::kKindRetired;
using series_internal::kKindRewind;
using series_internal::kKindTail;
using series_internal::kMaxStep;
using series_internal::kMetaCf;
using series_internal::Retired;
using series_internal::Rewind;
using series_internal::SeriesMap;
using series_internal::SeriesState;
using series_internal::Tail;

// ---------------------------------------------------------------------------
// SeriesStore: set-up

std::vector<std::string> SeriesStore::ColumnFamilies() {
  return {std::string(kMetaCf), std::string(kChunksCf)};
}

SeriesStore::SeriesStore(storage::Db& db, SeriesStoreOptions options)
    : db_(db),
      options_([&options] {
        options.chunk_points = std::max(options.chunk_points, 2);
        options.max_chunk_points =
            std::max(options.max_chunk_points, options.chunk_points);
        options.group_chunks = std::max(options.group_chunks, 1);
        options.block_points = std::max(options.block_points, 1);
        return options;
      }()),
      jobs_(options_.cache_bytes) {}

SeriesStore::~SeriesStore() = default;

absl::Status ValidateSeriesName(std::string_view field, std::string_view name) {
  if (name.empty()) return InvalidFieldError(field, "must not be empty");
  if (name.size() > kMaxSeriesNameBytes) {
    return InvalidFieldError(
        field, absl::StrCat("series names are at most ", kMaxSeriesNameBytes,
                            " bytes"));
  }
  return absl::OkStatus();
}

// A job with staged, unpublished state is pinned by its drafts (JobDraft),
// so it keeps it: the next Stage into the same batch builds on it.
bool SeriesStore::Evict(std::string_view job_id) { return jobs_.Evict(job_id); }

size_t SeriesStore::loaded_jobs() const { return jobs_.stats().entries; }

// ---------------------------------------------------------------------------
// Loading

absl::StatusOr<series_internal::JobHandle> SeriesStore::GetJob(
    std::string_view job_id) const {
  series_internal::JobHandle job = jobs_.Get(job_id);
  if (!job->loaded.load(std::memory_order_acquire)) {
    absl::MutexLock lock(&job->load_mu);
    if (!job->loaded.load(std::memory_order_acquire)) {
      RETURN_IF_ERROR(Load(job_id, *job));
      job->loaded.store(true, std::memory_order_release);
      size_t bytes;
      {
        absl::MutexLock state_lock(&job->mu);
        bytes = job->MemoryBytes();
      }
      jobs_.Charge(job, bytes);
    }
  }
  return job;
}

absl::Status SeriesStore::Load(std::string_view job_id, JobState& job) const {
  struct Builder {
    std::map<uint64_t, std::vector<ChunkMeta>> runs;
    std::map<int64_t, SeriesPoint> tail;
    std::vector<uint64_t> seqs;
    uint64_t max_version = 0;
  };
  std::map<std::string, Builder, std::less<>> builders;
  std::vector<Rewind> rewinds;
  std::vector<series_internal::Retired> retired;
  absl::Status error;
  auto fail = [&error](const absl::Status& status) {
    error = status;
    return false;
  };
  std::vector<TailEntry> entries;
  uint64_t next_tail_seq = 1;
  RETURN_IF_ERROR(db_.Scan(
      kMetaCf, storage::KeyRange::Prefix(JobPrefix(job_id)),
      storage::Direction::kForward,
      [&](std::string_view key, std::string_view value) {
        storage::KeyReader reader(key);
        std::string job, series;
        uint64_t kind, a, b;
        if (!reader.ReadString(&job) || !reader.ReadUint64(&kind)) {
          return fail(absl::DataLossError(absl::StrCat(
              "bad series_meta key ", storage::PrintableKey(key))));
        }
        switch (kind) {
          case kKindRewind:
            if (!reader.ReadUint64(&a) || !reader.ReadUint64(&b) ||
                !reader.done() || a < 1 ||
                a > uint64_t{std::numeric_limits<int32_t>::max()} ||
                b > static_cast<uint64_t>(kMaxStep)) {
              break;
            }
            rewinds.push_back(
                {static_cast<int32_t>(a), static_cast<int64_t>(b)});
            return true;
          case kKindIndex: {
            if (!reader.ReadString(&series) || !reader.ReadUint64(&a) ||
                !reader.ReadUint64(&b) || !reader.done() ||
                b > static_cast<uint64_t>(kMaxStep)) {
              break;
            }
            ChunkMeta meta;
            if (absl::Status s =
                    DecodeChunkMeta(static_cast<int64_t>(b), value, &meta);
                !s.ok()) {
              return fail(s);
            }
            Builder& builder = builders[series];
            builder.max_version = std::max(builder.max_version, meta.version);
            builder.runs[a].push_back(meta);
            return true;
          }
          case kKindTail: {
            if (!reader.ReadUint64(&a) || !reader.done()) break;
            if (absl::Status s = DecodeTailSegment(value, &entries); !s.ok()) {
              return fail(s);
            }
            next_tail_seq = a + 1;  // Keys come in seq order.
            for (const TailEntry& e : entries) {
              Builder& builder = builders[e.series];
              if (e.reset) {
                builder.tail.clear();
                builder.seqs.clear();
              }
              builder.seqs.push_back(a);
              for (const SeriesPoint& p : e.points) builder.tail[p.step] = p;
            }
            return true;
          }
          case kKindRetired: {
            if (!reader.ReadUint64(&a) || !reader.done()) break;
            // Keep the series' versions above the retired chunk's, so that
            // no new chunk reuses its key before it is deleted.
            storage::KeyReader chunk(value);
            std::string chunk_job;
            uint64_t tag, first, version;
            if (!chunk.ReadString(&chunk_job) || !chunk.ReadString(&series) ||
                !chunk.ReadUint64(&tag) || !chunk.ReadUint64(&first) ||
                !chunk.ReadUint64(&version) || !chunk.done()) {
              break;
            }
            Builder& builder = builders[series];
            builder.max_version = std::max(builder.max_version, version);
            retired.push_back({a, std::string(value), 0});
            return true;
          }
          default:
            break;
        }
        return fail(absl::DataLossError(
            absl::StrCat("bad series_meta key ", storage::PrintableKey(key))));
      }));
  RETURN_IF_ERROR(error);

  SeriesMap series;
  const size_t group = static_cast<size_t>(options_.group_chunks);
  for (auto& [name, builder] : builders) {
    if (builder.runs.empty() && builder.tail.empty()) continue;
    SeriesState s(group);
    for (auto& [tag, metas] : builder.runs) {
      if (tag == kEffectiveTag) {
        s.chunks = ChunkIndex::FromMetas(std::move(metas), group);
      } else if (tag <= uint64_t{std::numeric_limits<int32_t>::max()}) {
        s.rolled_back.emplace(static_cast<int32_t>(tag),
                              ChunkIndex::FromMetas(std::move(metas), group));
      }
    }
    auto tail = std::make_shared<Tail>();
    for (const auto& [step, p] : builder.tail) tail->points.push_back(p);
    tail->extremes = ExtremesOf(tail->points);
    tail->seqs = builder.seqs;
    s.next_version = builder.max_version + 1;
    s.tail = std::move(tail);
    series.emplace(name, std::make_shared<const SeriesState>(std::move(s)));
  }
  absl::MutexLock lock(&job.mu);
  job.series = std::move(series);
  job.rewinds = std::move(rewinds);
  job.next_retired_seq = retired.empty() ? 1 : retired.back().seq + 1;
  job.next_tail_seq = next_tail_seq;
  job.retired = std::move(retired);  // Generation 0: nobody reads them.
  return absl::OkStatus();
}

}  // namespace trainyard::metrics
