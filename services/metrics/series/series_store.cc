// Copyright 2026 Trainyard authors.
//
// Implementation notes (the contract is in series_store.h; the overview in
// services/metrics/README.md).
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
#include "absl/time/time.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"
#include "services/metrics/series/chunk_index.h"
#include "services/metrics/series/series_codec.h"

namespace trainyard::metrics {

using trainyard::common::v1::CurveSeries;
using trainyard::common::v1::LossCurve;
using trainyard::metrics::v1::SeriesInfo;

namespace {

constexpr std::string_view kMetaCf = "series_meta";
constexpr std::string_view kChunksCf = "series_chunks";

// Second key component of series_meta keys.
constexpr uint64_t kKindRewind = 0;
constexpr uint64_t kKindIndex = 1;
constexpr uint64_t kKindTail = 2;
constexpr uint64_t kKindRetired = 3;

// Run tag of the effective curve; rolled-back runs use their attempt (>= 1).
constexpr uint64_t kEffectiveTag = 0;

constexpr int64_t kMaxStep = std::numeric_limits<int64_t>::max();

// A query reads the chunks it needs with one forward iterator, stepping over
// the chunks in between as long as they are at most this many; farther (or
// back), it seeks, so the work stays bounded by what is read. Each step to
// another chunk is a data-block change, about as dear as a seek.
constexpr size_t kMaxChunkWalk = 2;

// Retries of a query whose snapshot went stale, and how long each waits for
// the Publish that follows the write it raced with.
constexpr int kStaleRetries = 5;
constexpr absl::Duration kStaleWait = absl::Milliseconds(200);

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

Extremes ExtremesOf(absl::Span<const SeriesPoint> points) {
  Extremes e;
  for (const SeriesPoint& p : points) e.Add(p);
  return e;
}

bool ByStep(const SeriesPoint& a, const SeriesPoint& b) {
  return a.step < b.step;
}

// The result of merging incoming points into a run's sorted points.
struct MergeResult {
  // The merged run: sorted, one point per step.
  std::vector<SeriesPoint> points;
  // The final points at the steps whose point changed (sorted).
  std::vector<SeriesPoint> changed;
  // Points that lost their step to a point of a newer attempt (stored ones
  // or incoming ones), in arrival order: rolled-back points of their attempt.
  std::vector<SeriesPoint> displaced;
  // True when the incoming points were simply appended after `existing`.
  bool appended = false;
};

// Merges `incoming` (sorted by step; at equal steps in arrival order) into
// `existing` (sorted, unique steps). At a step, the same attempt replaces, a
// newer attempt displaces the older point, an older attempt is displaced.
// Within one attempt (rolled-back runs) this is plain replacement.
MergeResult Merge(absl::Span<const SeriesPoint> existing,
                  absl::Span<const SeriesPoint> incoming) {
  MergeResult r;
  r.points.reserve(existing.size() + incoming.size());
  // The common case: new steps after the stored ones, each once.
  bool append =
      existing.empty() || incoming.front().step > existing.back().step;
  for (size_t k = 1; append && k < incoming.size(); ++k) {
    append = incoming[k - 1].step < incoming[k].step;
  }
  if (append) {
    r.points.assign(existing.begin(), existing.end());
    r.points.insert(r.points.end(), incoming.begin(), incoming.end());
    r.changed.assign(incoming.begin(), incoming.end());
    r.appended = true;
    return r;
  }
  size_t i = 0;
  size_t j = 0;
  while (i < existing.size() || j < incoming.size()) {
    if (j == incoming.size() ||
        (i < existing.size() && existing[i].step < incoming[j].step)) {
      r.points.push_back(existing[i++]);
      continue;
    }
    const int64_t step = incoming[j].step;
    bool had = false;
    SeriesPoint original;
    SeriesPoint cur;
    bool has_cur = false;
    if (i < existing.size() && existing[i].step == step) {
      original = cur = existing[i++];
      had = has_cur = true;
    }
    for (; j < incoming.size() && incoming[j].step == step; ++j) {
      const SeriesPoint& in = incoming[j];
      if (!has_cur || in.attempt == cur.attempt) {
        cur = in;
        has_cur = true;
      } else if (in.attempt > cur.attempt) {
        r.displaced.push_back(cur);
        cur = in;
      } else {
        r.displaced.push_back(in);
      }
    }
    r.points.push_back(cur);
    if (!had || !(original == cur)) r.changed.push_back(cur);
  }
  return r;
}

// Splits [0, n) into `pieces` near-equal consecutive ranges; returns the
// size of piece k.
size_t PieceSize(size_t n, size_t pieces, size_t k) {
  return n / pieces + (k < n % pieces ? 1 : 0);
}

}  // namespace

namespace series_internal {

struct Rewind {
  int32_t attempt = 0;
  int64_t from_step = 0;
  friend bool operator==(const Rewind&, const Rewind&) = default;
};

// True when `rewinds` roll back a point of `attempt` at `step`.
bool RolledBack(const std::vector<Rewind>& rewinds, int32_t attempt,
                int64_t step) {
  for (const Rewind& r : rewinds) {
    if (r.attempt > attempt && step > r.from_step) return true;
  }
  return false;
}

// Effective points after the last chunk, not yet folded into a chunk.
struct Tail {
  std::vector<SeriesPoint> points;  // Sorted, unique steps.
  Extremes extremes;
  // The job's tail segments this series reads, ascending: the one with its
  // latest reset entry and every later one with an entry of it.
  std::vector<uint64_t> seqs;
};

// One version of a series. Immutable once shared.
struct SeriesState {
  explicit SeriesState(size_t group_size)
      : chunks(group_size), tail(std::make_shared<const Tail>()) {}

  ChunkIndex chunks;  // The effective curve before the tail.
  std::shared_ptr<const Tail> tail;
  std::map<int32_t, ChunkIndex> rolled_back;  // By attempt.
  uint64_t next_version = 1;
  // The staging order of this version (0: loaded): Publish never replaces a
  // version with an older one.
  uint64_t stage_seq = 0;

  int64_t count() const {
    return chunks.total_count() + static_cast<int64_t>(tail->points.size());
  }
  std::optional<SeriesPoint> last() const {
    if (!tail->points.empty()) return tail->points.back();
    if (!chunks.empty()) return chunks.back().last;
    return std::nullopt;
  }
  std::optional<int64_t> first_step() const {
    if (!chunks.empty()) return chunks.at(0).first_step;
    if (!tail->points.empty()) return tail->points.front().step;
    return std::nullopt;
  }
  int64_t rolled_back_count() const {
    int64_t n = 0;
    for (const auto& [attempt, run] : rolled_back) n += run.total_count();
    return n;
  }
};

using SeriesMap =
    std::map<std::string, std::shared_ptr<const SeriesState>, std::less<>>;

// A chunk blob no longer referenced by the current state, kept (and recorded
// under a kKindRetired key) until no query can still read it.
struct Retired {
  uint64_t seq = 0;
  std::string chunk_key;
  // The first generation without the chunk: queries whose snapshot is of an
  // earlier generation may read it.
  uint64_t generation = 0;
};

// Everything staged for a job and not yet published or dropped, whichever
// SeriesUpdate it went into: a later Stage of the job (into the same batch)
// builds on it.
struct Pending {
  bool purge = false;  // Published state is to be dropped.
  SeriesMap series;    // Latest staged versions.
  std::optional<std::vector<Rewind>> rewinds;
  // Chunk blobs written (or retired: nullopt) but not in the Db yet.
  std::map<std::string, std::optional<std::string>, std::less<>> chunk_overlay;
  std::set<uint64_t> collected;  // Retired chunks already being deleted.
  std::optional<uint64_t> next_retired_seq;
  std::optional<uint64_t> next_tail_seq;
  int drafts = 0;  // Unsettled JobDrafts that contributed.
};

// The published state of one job.
struct JobState {
  std::atomic<bool> loaded{false};
  absl::Mutex load_mu;  // Serializes loading.

  absl::Mutex mu;
  SeriesMap series ABSL_GUARDED_BY(mu);
  std::vector<Rewind> rewinds ABSL_GUARDED_BY(mu);
  // Incremented by every Publish.
  uint64_t generation ABSL_GUARDED_BY(mu) = 0;
  // Queries in flight, by the generation of their snapshot.
  std::map<uint64_t, int> readers ABSL_GUARDED_BY(mu);
  std::vector<Retired> retired ABSL_GUARDED_BY(mu);
  uint64_t next_retired_seq ABSL_GUARDED_BY(mu) = 1;
  uint64_t next_tail_seq ABSL_GUARDED_BY(mu) = 1;

  // Writer side (the caller serializes writers of a job; the mutex is for
  // Publish and the destructor of a dropped SeriesUpdate).
  std::optional<Pending> pending ABSL_GUARDED_BY(mu);
  uint64_t next_stage_seq ABSL_GUARDED_BY(mu) = 1;
  uint64_t purge_seq ABSL_GUARDED_BY(mu) = 0;    // Of the last purge published.
  uint64_t rewinds_seq ABSL_GUARDED_BY(mu) = 0;  // Of `rewinds`.
};

// What one SeriesUpdate changes for one job: the delta it publishes.
struct JobDraft {
  std::shared_ptr<JobState> job;
  bool purge = false;  // All published state is dropped first.
  uint64_t purge_seq = 0;
  SeriesMap series;  // New versions of the touched series.
  std::optional<std::vector<Rewind>> rewinds;  // The whole list, if changed.
  uint64_t rewinds_seq = 0;
  // Chunks retired by this update (generation set by Publish), published
  // retired chunks it deletes (by seq), and the next retired seq.
  std::vector<Retired> retired;
  std::set<uint64_t> collected;
  std::optional<uint64_t> next_retired_seq;
  std::optional<uint64_t> next_tail_seq;
  bool settled = false;  // Published or dropped.
};

struct UpdateData {
  UpdateData() = default;
  UpdateData(const UpdateData&) = delete;
  UpdateData& operator=(const UpdateData&) = delete;
  // Dropping an update unpublished (its write failed or never happened)
  // discards the job's pending state: the other updates staged into the
  // same batch are dropped too.
  ~UpdateData() {
    for (auto& [job_id, draft] : jobs) {
      if (draft.settled) continue;
      absl::MutexLock lock(&draft.job->mu);
      draft.job->pending.reset();
    }
  }

  std::map<std::string, JobDraft, std::less<>> jobs;
};

}  // namespace series_internal

using series_internal::JobDraft;
using series_internal::Rewind;
using series_internal::SeriesMap;
using series_internal::SeriesState;
using series_internal::Tail;
using series_internal::UpdateData;

// ---------------------------------------------------------------------------
// SeriesUpdate

SeriesUpdate::SeriesUpdate() = default;
SeriesUpdate::~SeriesUpdate() = default;
SeriesUpdate::SeriesUpdate(SeriesUpdate&&) noexcept = default;
SeriesUpdate& SeriesUpdate::operator=(SeriesUpdate&&) noexcept = default;

bool SeriesUpdate::empty() const {
  return data_ == nullptr || data_->jobs.empty();
}

// ---------------------------------------------------------------------------
// Staging

// One Stage*/DeleteJob call on one job: reads the state as of the update so
// far, records writes locally, and only on success appends them to the
// caller's batch and update (so a failed call leaves both untouched).
class SeriesStore::StageContext {
 public:
  StageContext(const SeriesStore& store, std::string_view job_id, JobState& job)
      : store_(store), options_(store.options_), job_id_(job_id), job_(job) {
    absl::MutexLock lock(&job_.mu);
    stage_seq_ = job_.next_stage_seq++;
  }

  absl::Status AddPoints(std::string_view name,
                         std::vector<SeriesPoint> points);
  absl::Status Rewind(int32_t attempt, int64_t from_step);
  void Purge();
  // Deletes the retired chunks that no query in flight can read any more.
  void CollectRetired();

  // Appends the writes to `batch` and the changes to `*draft` (new: first
  // Stage of this job into its SeriesUpdate) and to the job's pending state.
  void Commit(storage::WriteBatch& batch, JobDraft* draft, bool new_draft);

 private:
  struct Op {
    enum Type { kPut, kDelete, kDeleteRange } type;
    std::string_view cf;
    std::string key;
    std::string value;  // kDeleteRange: the limit.
  };

  // The series as of this call (nullptr: none).
  std::shared_ptr<const SeriesState> Current(std::string_view name);
  SeriesState Mutable(std::string_view name);
  const std::vector<series_internal::Rewind>& Rewinds();
  std::vector<std::string> AllSeriesNames();

  void Put(std::string_view cf, std::string key, std::string value) {
    ops_.push_back({Op::kPut, cf, std::move(key), std::move(value)});
  }
  void Delete(std::string_view cf, std::string key) {
    ops_.push_back({Op::kDelete, cf, std::move(key), {}});
  }

  absl::Status ReadChunk(std::string_view name, uint64_t tag,
                         const ChunkMeta& meta,
                         std::vector<SeriesPoint>* points);
  // Writes `points` as `pieces` chunks of run `tag`; returns their metas.
  std::vector<ChunkMeta> WriteChunks(SeriesState& s, std::string_view name,
                                     uint64_t tag,
                                     absl::Span<const SeriesPoint> points,
                                     size_t pieces);
  void DeleteChunk(std::string_view name, uint64_t tag, const ChunkMeta& meta);
  // Replaces chunk `i` of `run` by `points` (none: removed), split when it
  // grew past max_chunk_points.
  void RewriteChunk(SeriesState& s, std::string_view name, uint64_t tag,
                    ChunkIndex& run, size_t i,
                    absl::Span<const SeriesPoint> points);
  // Merges sorted `points` into the chunks of `run` that cover their steps
  // (the first chunk for steps before it). Displaced points go to
  // `*displaced`. REQUIRES: run non-empty.
  absl::Status MergeIntoChunks(SeriesState& s, std::string_view name,
                               uint64_t tag, ChunkIndex& run,
                               absl::Span<const SeriesPoint> points,
                               std::vector<SeriesPoint>* displaced);
  absl::Status AddRolledBack(SeriesState& s, std::string_view name,
                             int32_t attempt, std::vector<SeriesPoint> points);
  // Makes `points` the tail of `s`: with `rewrite`, as a reset entry
  // holding them all (the series' earlier entries no longer count); else
  // `new_segment` (the points that changed) as an entry. Entries go into
  // this call's one tail segment. `extremes`: of `points`, when known.
  void WriteTail(SeriesState& s, std::string_view name,
                 std::vector<SeriesPoint> points,
                 absl::Span<const SeriesPoint> new_segment, bool rewrite,
                 std::optional<Extremes> extremes = std::nullopt);
  // A job-level counter as of this call: this call's copy, else the staged
  // (unpublished) one, else the published one.
  uint64_t& Counter(std::optional<uint64_t>& mine,
                    std::optional<uint64_t> series_internal::Pending::*pending,
                    uint64_t JobState::*published);
  // The seq of this call's tail segment.
  uint64_t TailSeq();
  // Writes the tail segment, and deletes the segments released by resets
  // that no series reads any more.
  void WriteTailSegment();

  const SeriesStore& store_;
  const SeriesStoreOptions& options_;
  const std::string_view job_id_;
  JobState& job_;
  uint64_t stage_seq_ = 0;

  bool purge_ = false;
  SeriesMap changed_;
  std::optional<std::vector<series_internal::Rewind>> rewinds_;  // Cache.
  bool rewinds_changed_ = false;
  std::map<std::string, std::optional<std::string>, std::less<>> overlay_;
  std::vector<Op> ops_;
  std::vector<series_internal::Retired> retired_;
  std::set<uint64_t> collected_;
  std::optional<uint64_t> next_retired_seq_;

  // This call's tail segment: an entry per series, and the segments each
  // reset released.
  struct TailWrite {
    bool reset = false;
    std::vector<SeriesPoint> points;
    std::vector<uint64_t> released;
  };
  std::map<std::string, TailWrite, std::less<>> tail_writes_;
  std::optional<uint64_t> tail_seq_;
  std::optional<uint64_t> next_tail_seq_;
};

std::shared_ptr<const SeriesState> SeriesStore::StageContext::Current(
    std::string_view name) {
  if (auto it = changed_.find(name); it != changed_.end()) return it->second;
  if (purge_) return nullptr;
  absl::MutexLock lock(&job_.mu);
  if (job_.pending.has_value()) {
    if (auto it = job_.pending->series.find(name);
        it != job_.pending->series.end()) {
      return it->second;
    }
    if (job_.pending->purge) return nullptr;
  }
  auto it = job_.series.find(name);
  return it == job_.series.end() ? nullptr : it->second;
}

SeriesState SeriesStore::StageContext::Mutable(std::string_view name) {
  std::shared_ptr<const SeriesState> current = Current(name);
  if (current == nullptr) {
    return SeriesState(static_cast<size_t>(options_.group_chunks));
  }
  return *current;
}

const std::vector<series_internal::Rewind>&
SeriesStore::StageContext::Rewinds() {
  if (!rewinds_.has_value()) {
    absl::MutexLock lock(&job_.mu);
    if (job_.pending.has_value() && job_.pending->rewinds.has_value()) {
      rewinds_ = *job_.pending->rewinds;
    } else if (job_.pending.has_value() && job_.pending->purge) {
      rewinds_.emplace();
    } else {
      rewinds_ = job_.rewinds;
    }
  }
  return *rewinds_;
}

std::vector<std::string> SeriesStore::StageContext::AllSeriesNames() {
  std::set<std::string, std::less<>> names;
  if (!purge_) {
    absl::MutexLock lock(&job_.mu);
    if (!job_.pending.has_value() || !job_.pending->purge) {
      for (const auto& [name, state] : job_.series) names.insert(name);
    }
    if (job_.pending.has_value()) {
      for (const auto& [name, state] : job_.pending->series) {
        names.insert(name);
      }
    }
  }
  for (const auto& [name, state] : changed_) names.insert(name);
  return {names.begin(), names.end()};
}

absl::Status SeriesStore::StageContext::ReadChunk(
    std::string_view name, uint64_t tag, const ChunkMeta& meta,
    std::vector<SeriesPoint>* points) {
  std::string key = ChunkKey(job_id_, name, tag, meta);
  const std::optional<std::string>* staged = nullptr;
  std::optional<std::optional<std::string>> pending_blob;
  if (auto it = overlay_.find(key); it != overlay_.end()) {
    staged = &it->second;
  } else {
    absl::MutexLock lock(&job_.mu);
    if (job_.pending.has_value()) {
      auto& overlay = job_.pending->chunk_overlay;
      if (auto it = overlay.find(key); it != overlay.end()) {
        pending_blob = it->second;  // Copied: pending may change later.
        staged = &*pending_blob;
      }
    }
  }
  points->clear();
  absl::Status status;
  if (staged != nullptr) {
    if (!staged->has_value()) {
      return absl::InternalError(
          absl::StrCat("series chunk ", storage::PrintableKey(key),
                       " was deleted earlier in this update"));
    }
    status = DecodePoints(**staged, points);
  } else {
    absl::StatusOr<std::string> blob = store_.db_.GetRaw(kChunksCf, key);
    if (absl::IsNotFound(blob.status())) {
      return absl::DataLossError(absl::StrCat(
          "series chunk ", storage::PrintableKey(key), " is missing"));
    }
    RETURN_IF_ERROR(blob.status());
    status = DecodePoints(*blob, points);
  }
  RETURN_IF_ERROR(status);
  if (static_cast<int64_t>(points->size()) != meta.extremes.count) {
    return absl::DataLossError(absl::StrCat("series chunk ",
                                            storage::PrintableKey(key),
                                            " does not match its summary"));
  }
  return absl::OkStatus();
}

std::vector<ChunkMeta> SeriesStore::StageContext::WriteChunks(
    SeriesState& s, std::string_view name, uint64_t tag,
    absl::Span<const SeriesPoint> points, size_t pieces) {
  std::vector<ChunkMeta> metas;
  if (points.empty()) return metas;
  pieces = std::clamp<size_t>(pieces, 1, points.size());
  metas.reserve(pieces);
  size_t begin = 0;
  for (size_t k = 0; k < pieces; ++k) {
    size_t n = PieceSize(points.size(), pieces, k);
    absl::Span<const SeriesPoint> piece = points.subspan(begin, n);
    begin += n;
    ChunkMeta meta;
    meta.first_step = piece.front().step;
    meta.last_step = piece.back().step;
    meta.version = s.next_version++;
    meta.extremes = ExtremesOf(piece);
    meta.last = piece.back();
    std::string key = ChunkKey(job_id_, name, tag, meta);
    std::string blob = EncodeChunk(piece, options_.block_points);
    overlay_[key] = blob;
    Put(kChunksCf, std::move(key), std::move(blob));
    Put(kMetaCf, IndexKey(job_id_, name, tag, meta.first_step),
        EncodeChunkMeta(meta));
    metas.push_back(meta);
  }
  return metas;
}

void SeriesStore::StageContext::DeleteChunk(std::string_view name, uint64_t tag,
                                            const ChunkMeta& meta) {
  // The blob is retired, not deleted: queries holding an older snapshot may
  // still read it. CollectRetired() deletes it later.
  std::string key = ChunkKey(job_id_, name, tag, meta);
  overlay_[key] = std::nullopt;
  uint64_t seq =
      Counter(next_retired_seq_, &series_internal::Pending::next_retired_seq,
              &JobState::next_retired_seq)++;
  Put(kMetaCf, RetiredKey(job_id_, seq), key);
  retired_.push_back({seq, std::move(key), 0});
  Delete(kMetaCf, IndexKey(job_id_, name, tag, meta.first_step));
}

void SeriesStore::StageContext::CollectRetired() {
  absl::MutexLock lock(&job_.mu);
  if (job_.pending.has_value() && job_.pending->purge) return;
  // Readers of generation g may read chunks retired at generations > g.
  uint64_t oldest_reader = job_.readers.empty()
                               ? std::numeric_limits<uint64_t>::max()
                               : job_.readers.begin()->first;
  for (const series_internal::Retired& r : job_.retired) {
    if (r.generation > oldest_reader) continue;
    if (job_.pending.has_value() && job_.pending->collected.contains(r.seq)) {
      continue;
    }
    Delete(kChunksCf, r.chunk_key);
    Delete(kMetaCf, RetiredKey(job_id_, r.seq));
    collected_.insert(r.seq);
  }
}

void SeriesStore::StageContext::RewriteChunk(
    SeriesState& s, std::string_view name, uint64_t tag, ChunkIndex& run,
    size_t i, absl::Span<const SeriesPoint> points) {
  // Delete first: when a new piece starts at the same step, its index Put
  // comes later in the batch and wins.
  DeleteChunk(name, tag, run.at(i));
  size_t max_points = static_cast<size_t>(options_.max_chunk_points);
  size_t target = static_cast<size_t>(options_.chunk_points);
  size_t pieces =
      points.size() > max_points ? (points.size() + target - 1) / target : 1;
  run = run.Replace(i, i + 1, WriteChunks(s, name, tag, points, pieces));
}

absl::Status SeriesStore::StageContext::MergeIntoChunks(
    SeriesState& s, std::string_view name, uint64_t tag, ChunkIndex& run,
    absl::Span<const SeriesPoint> points, std::vector<SeriesPoint>* displaced) {
  // Group points by target chunk (non-decreasing, as points are sorted).
  struct Group {
    size_t chunk;
    size_t begin;
    size_t end;
  };
  std::vector<Group> groups;
  for (size_t k = 0; k < points.size(); ++k) {
    size_t after = run.FirstStartingAfter(points[k].step);
    size_t chunk = after == 0 ? 0 : after - 1;
    if (groups.empty() || groups.back().chunk != chunk) {
      groups.push_back({chunk, k, k + 1});
    } else {
      groups.back().end = k + 1;
    }
  }
  // Back to front, so rewriting (and splitting) a chunk leaves the indexes
  // of the chunks still to do unchanged.
  std::vector<SeriesPoint> stored;
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
    RETURN_IF_ERROR(ReadChunk(name, tag, run.at(it->chunk), &stored));
    MergeResult merged =
        Merge(stored, points.subspan(it->begin, it->end - it->begin));
    displaced->insert(displaced->end(), merged.displaced.begin(),
                      merged.displaced.end());
    if (!merged.changed.empty()) {
      RewriteChunk(s, name, tag, run, it->chunk, merged.points);
    }
  }
  return absl::OkStatus();
}

absl::Status SeriesStore::StageContext::AddRolledBack(
    SeriesState& s, std::string_view name, int32_t attempt,
    std::vector<SeriesPoint> points) {
  std::stable_sort(points.begin(), points.end(), ByStep);
  const uint64_t tag = static_cast<uint64_t>(attempt);
  auto [it, inserted] = s.rolled_back.try_emplace(
      attempt, static_cast<size_t>(options_.group_chunks));
  ChunkIndex& run = it->second;
  if (run.empty()) {
    MergeResult merged = Merge({}, points);
    size_t target = static_cast<size_t>(options_.chunk_points);
    size_t pieces = (merged.points.size() + target - 1) / target;
    run = run.Replace(0, 0, WriteChunks(s, name, tag, merged.points, pieces));
    return absl::OkStatus();
  }
  std::vector<SeriesPoint> displaced;  // Stays empty: one attempt.
  return MergeIntoChunks(s, name, tag, run, points, &displaced);
}

uint64_t& SeriesStore::StageContext::Counter(
    std::optional<uint64_t>& mine,
    std::optional<uint64_t> series_internal::Pending::*pending,
    uint64_t JobState::*published) {
  if (!mine.has_value()) {
    absl::MutexLock lock(&job_.mu);
    if (job_.pending.has_value() && ((*job_.pending).*pending).has_value()) {
      mine = (*job_.pending).*pending;
    } else {
      mine = job_.*published;
    }
  }
  return *mine;
}

uint64_t SeriesStore::StageContext::TailSeq() {
  if (!tail_seq_.has_value()) {
    tail_seq_ =
        Counter(next_tail_seq_, &series_internal::Pending::next_tail_seq,
                &JobState::next_tail_seq)++;
  }
  return *tail_seq_;
}

void SeriesStore::StageContext::WriteTail(
    SeriesState& s, std::string_view name, std::vector<SeriesPoint> points,
    absl::Span<const SeriesPoint> new_segment, bool rewrite,
    std::optional<Extremes> extremes) {
  auto tail = std::make_shared<Tail>();
  if (rewrite) new_segment = points;
  if (!rewrite) tail->seqs = s.tail->seqs;
  if (rewrite || !new_segment.empty()) {
    // One write per series per call: AddPoints and Rewind each touch a
    // series once.
    TailWrite& w = tail_writes_[std::string(name)];
    w.reset = rewrite;
    w.points.assign(new_segment.begin(), new_segment.end());
    // Even empty, a reset entry is written: it voids the series' entries in
    // older segments that other series keep alive.
    if (rewrite) w.released = s.tail->seqs;
    tail->seqs.push_back(TailSeq());
  }
  tail->extremes = extremes.has_value() ? *extremes : ExtremesOf(points);
  tail->points = std::move(points);
  s.tail = std::move(tail);
}

void SeriesStore::StageContext::WriteTailSegment() {
  if (tail_writes_.empty()) return;
  std::vector<uint64_t> released;
  std::vector<TailEntry> entries;
  for (auto& [name, w] : tail_writes_) {
    released.insert(released.end(), w.released.begin(), w.released.end());
    entries.push_back({name, w.reset, std::move(w.points)});
  }
  Put(kMetaCf, TailKey(job_id_, TailSeq()), EncodeTailSegment(entries));
  if (released.empty()) return;
  std::sort(released.begin(), released.end());
  released.erase(std::unique(released.begin(), released.end()), released.end());
  std::set<uint64_t> live;
  for (const std::string& name : AllSeriesNames()) {
    std::shared_ptr<const SeriesState> state = Current(name);
    if (state == nullptr) continue;
    for (uint64_t seq : state->tail->seqs) {
      if (std::binary_search(released.begin(), released.end(), seq)) {
        live.insert(seq);
      }
    }
  }
  std::erase_if(released, [&live](uint64_t seq) { return live.contains(seq); });
  // Series reporting together reset together: their dead segments are runs
  // of consecutive seqs, each one range deletion.
  for (size_t i = 0; i < released.size();) {
    size_t j = i + 1;
    while (j < released.size() && released[j] == released[j - 1] + 1) ++j;
    if (j - i == 1) {
      Delete(kMetaCf, TailKey(job_id_, released[i]));
    } else {
      ops_.push_back({Op::kDeleteRange, kMetaCf, TailKey(job_id_, released[i]),
                      TailKey(job_id_, released[j - 1] + 1)});
    }
    i = j;
  }
}

absl::Status SeriesStore::StageContext::AddPoints(
    std::string_view name, std::vector<SeriesPoint> points) {
  std::stable_sort(points.begin(), points.end(), ByStep);
  std::shared_ptr<const SeriesState> current = Current(name);
  SeriesState s = current != nullptr
                      ? *current
                      : SeriesState(static_cast<size_t>(options_.group_chunks));
  bool modified = current == nullptr;

  // Points of attempts rolled back at their step go to the rolled-back set.
  std::map<int32_t, std::vector<SeriesPoint>> rolled_back;
  const std::vector<series_internal::Rewind>& rewinds = Rewinds();
  if (!rewinds.empty()) {
    std::vector<SeriesPoint> effective;
    effective.reserve(points.size());
    for (const SeriesPoint& p : points) {
      if (series_internal::RolledBack(rewinds, p.attempt, p.step)) {
        rolled_back[p.attempt].push_back(p);
      } else {
        effective.push_back(p);
      }
    }
    points = std::move(effective);
  }

  // Steps up to the last chunk's last step rewrite chunks; later ones join
  // the tail.
  auto tail_begin = points.begin();
  if (!s.chunks.empty()) {
    int64_t boundary = s.chunks.back().last_step;
    tail_begin = std::partition_point(
        points.begin(), points.end(),
        [boundary](const SeriesPoint& p) { return p.step <= boundary; });
  }
  std::vector<SeriesPoint> displaced;
  const size_t chunk_zone = tail_begin - points.begin();
  const absl::Span<const SeriesPoint> all(points);
  if (chunk_zone > 0) {
    RETURN_IF_ERROR(MergeIntoChunks(s, name, kEffectiveTag, s.chunks,
                                    all.subspan(0, chunk_zone), &displaced));
    modified = true;  // Conservative: cheap to republish.
  }
  if (chunk_zone < points.size()) {
    MergeResult merged = Merge(s.tail->points, all.subspan(chunk_zone));
    displaced.insert(displaced.end(), merged.displaced.begin(),
                     merged.displaced.end());
    if (!merged.changed.empty()) {
      modified = true;
      size_t target = static_cast<size_t>(options_.chunk_points);
      if (merged.points.size() >= target) {
        // Fold whole chunks out of the tail; the rest is the new tail.
        size_t fold = merged.points.size() / target * target;
        std::vector<ChunkMeta> metas = WriteChunks(
            s, name, kEffectiveTag,
            absl::MakeConstSpan(merged.points.data(), fold), fold / target);
        s.chunks = s.chunks.Replace(s.chunks.size(), s.chunks.size(),
                                    std::move(metas));
        std::vector<SeriesPoint> rest(merged.points.begin() + fold,
                                      merged.points.end());
        WriteTail(s, name, std::move(rest), {}, /*rewrite=*/true);
      } else {
        std::optional<Extremes> extremes;
        if (merged.appended) {
          extremes = s.tail->extremes;
          for (const SeriesPoint& p : merged.changed) extremes->Add(p);
        }
        WriteTail(s, name, std::move(merged.points), merged.changed,
                  /*rewrite=*/false, extremes);
      }
    }
  }
  for (const SeriesPoint& p : displaced) rolled_back[p.attempt].push_back(p);
  for (auto& [attempt, pts] : rolled_back) {
    RETURN_IF_ERROR(AddRolledBack(s, name, attempt, std::move(pts)));
    modified = true;
  }
  if (modified) {
    s.stage_seq = stage_seq_;
    changed_[std::string(name)] =
        std::make_shared<const SeriesState>(std::move(s));
  }
  return absl::OkStatus();
}

absl::Status SeriesStore::StageContext::Rewind(int32_t attempt,
                                               int64_t from_step) {
  const series_internal::Rewind rewind{attempt, from_step};
  std::vector<series_internal::Rewind> rewinds = Rewinds();
  if (std::find(rewinds.begin(), rewinds.end(), rewind) != rewinds.end()) {
    return absl::OkStatus();
  }
  rewinds.push_back(rewind);
  rewinds_ = std::move(rewinds);
  rewinds_changed_ = true;
  Put(kMetaCf, RewindKey(job_id_, attempt, from_step), "");
  if (from_step == kMaxStep) return absl::OkStatus();

  auto moves = [&](const SeriesPoint& p) {
    return p.step > from_step && p.attempt < attempt;
  };
  for (const std::string& name : AllSeriesNames()) {
    SeriesState s = Mutable(name);
    bool modified = false;
    std::map<int32_t, std::vector<SeriesPoint>> moved;

    // Chunks that reach past the checkpoint.
    const size_t first = s.chunks.FirstEndingAtOrAfter(from_step + 1);
    std::vector<ChunkMeta> kept_metas;
    std::vector<SeriesPoint> stored;
    for (size_t i = first; i < s.chunks.size(); ++i) {
      const ChunkMeta& meta = s.chunks.at(i);
      RETURN_IF_ERROR(ReadChunk(name, kEffectiveTag, meta, &stored));
      std::vector<SeriesPoint> keep;
      for (const SeriesPoint& p : stored) {
        if (moves(p)) {
          moved[p.attempt].push_back(p);
        } else {
          keep.push_back(p);
        }
      }
      if (keep.size() == stored.size()) {
        kept_metas.push_back(meta);
        continue;
      }
      modified = true;
      DeleteChunk(name, kEffectiveTag, meta);
      std::vector<ChunkMeta> metas =
          WriteChunks(s, name, kEffectiveTag, keep, 1);
      kept_metas.insert(kept_metas.end(), metas.begin(), metas.end());
    }
    if (modified) {
      s.chunks =
          s.chunks.Replace(first, s.chunks.size(), std::move(kept_metas));
    }

    // The tail.
    std::vector<SeriesPoint> keep;
    for (const SeriesPoint& p : s.tail->points) {
      if (moves(p)) {
        moved[p.attempt].push_back(p);
      } else {
        keep.push_back(p);
      }
    }
    if (keep.size() != s.tail->points.size()) {
      modified = true;
      WriteTail(s, name, std::move(keep), {}, /*rewrite=*/true);
    }

    for (auto& [a, pts] : moved) {
      RETURN_IF_ERROR(AddRolledBack(s, name, a, std::move(pts)));
    }
    if (modified) {
      s.stage_seq = stage_seq_;
      changed_[name] = std::make_shared<const SeriesState>(std::move(s));
    }
  }
  return absl::OkStatus();
}

void SeriesStore::StageContext::Purge() {
  std::string prefix = JobPrefix(job_id_);
  std::string limit = *storage::PrefixSuccessor(prefix);
  for (std::string_view cf : {kMetaCf, kChunksCf}) {
    ops_.push_back({Op::kDeleteRange, cf, prefix, limit});
  }
  purge_ = true;
  changed_.clear();
  overlay_.clear();
  retired_.clear();
  collected_.clear();
  tail_writes_.clear();
  rewinds_.emplace();
  rewinds_changed_ = true;
}

void SeriesStore::StageContext::Commit(storage::WriteBatch& batch,
                                       JobDraft* draft, bool new_draft) {
  WriteTailSegment();
  for (const Op& op : ops_) {
    switch (op.type) {
      case Op::kPut:
        batch.PutRaw(op.cf, op.key, op.value);
        break;
      case Op::kDelete:
        batch.Delete(op.cf, op.key);
        break;
      case Op::kDeleteRange:
        batch.DeleteRange(op.cf, op.key, op.value);
        break;
    }
  }
  // The delta this update publishes.
  if (purge_) {
    draft->purge = true;
    draft->purge_seq = stage_seq_;
    draft->series.clear();
    draft->retired.clear();
    draft->collected.clear();
  }
  for (auto& r : retired_) draft->retired.push_back(std::move(r));
  draft->collected.insert(collected_.begin(), collected_.end());
  if (next_retired_seq_.has_value()) {
    draft->next_retired_seq = next_retired_seq_;
  }
  if (next_tail_seq_.has_value()) draft->next_tail_seq = next_tail_seq_;
  for (const auto& [name, state] : changed_) draft->series[name] = state;
  if (rewinds_changed_) {
    draft->rewinds = *rewinds_;
    draft->rewinds_seq = stage_seq_;
  }

  // What later Stages of the job build on until it is published.
  absl::MutexLock lock(&job_.mu);
  if (!job_.pending.has_value()) job_.pending.emplace();
  series_internal::Pending& pending = *job_.pending;
  if (new_draft) ++pending.drafts;
  if (purge_) {
    pending.purge = true;
    pending.series.clear();
    pending.chunk_overlay.clear();
    pending.collected.clear();
  }
  for (auto& [name, state] : changed_) pending.series[name] = std::move(state);
  if (rewinds_changed_) pending.rewinds = std::move(rewinds_);
  for (auto& [key, blob] : overlay_) {
    pending.chunk_overlay[key] = std::move(blob);
  }
  pending.collected.insert(collected_.begin(), collected_.end());
  if (next_retired_seq_.has_value()) {
    pending.next_retired_seq = next_retired_seq_;
  }
  if (next_tail_seq_.has_value()) pending.next_tail_seq = next_tail_seq_;
}

// ---------------------------------------------------------------------------
// SeriesStore: writes

std::vector<std::string> SeriesStore::ColumnFamilies() {
  return {std::string(kMetaCf), std::string(kChunksCf)};
}

SeriesStore::SeriesStore(storage::Db& db, SeriesStoreOptions options)
    : db_(db), options_([&options] {
        options.chunk_points = std::max(options.chunk_points, 2);
        options.max_chunk_points =
            std::max(options.max_chunk_points, options.chunk_points);
        options.group_chunks = std::max(options.group_chunks, 1);
        options.block_points = std::max(options.block_points, 1);
        return options;
      }()) {}

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

absl::Status SeriesStore::StageJob(
    std::string_view job_id, storage::WriteBatch& batch, SeriesUpdate* staged,
    const std::function<absl::Status(StageContext&)>& stage) {
  ASSIGN_OR_RETURN(std::shared_ptr<JobState> job, GetJob(job_id));
  if (staged->data_ == nullptr) staged->data_ = std::make_unique<UpdateData>();
  auto draft_it = staged->data_->jobs.find(job_id);
  if (draft_it != staged->data_->jobs.end() && draft_it->second.job != job) {
    // Only if the job was evicted (with nothing pending) and reloaded
    // between two Stages into the same update.
    return absl::AbortedError(absl::StrCat(
        "series state of job ", ToAbsl(job_id), " was reloaded; retry"));
  }
  StageContext context(*this, job_id, *job);
  RETURN_IF_ERROR(stage(context));
  const bool new_draft = draft_it == staged->data_->jobs.end();
  if (new_draft) {
    draft_it =
        staged->data_->jobs.emplace(std::string(job_id), JobDraft{}).first;
    draft_it->second.job = job;
  }
  context.Commit(batch, &draft_it->second, new_draft);
  return absl::OkStatus();
}

absl::Status SeriesStore::Stage(std::string_view job_id,
                                absl::Span<const PointInput> points,
                                storage::WriteBatch& batch,
                                SeriesUpdate* staged) {
  RETURN_IF_ERROR(RequireJobId(job_id));
  for (const PointInput& p : points) {
    RETURN_IF_ERROR(ValidateSeriesName("series", p.series));
    if (p.step < 0) return InvalidFieldError("step", "must be >= 0");
    if (p.attempt < 1) return InvalidFieldError("attempt", "must be >= 1");
  }
  if (points.empty()) return absl::OkStatus();
  return StageJob(job_id, batch, staged, [&](StageContext& context) {
    // Points by series, each in input order (so later duplicates win).
    std::map<std::string_view, std::vector<SeriesPoint>> by_series;
    for (const PointInput& p : points) {
      by_series[p.series].push_back({p.step, p.value, p.attempt});
    }
    for (auto& [name, series_points] : by_series) {
      RETURN_IF_ERROR(context.AddPoints(name, std::move(series_points)));
    }
    context.CollectRetired();
    return absl::OkStatus();
  });
}

absl::Status SeriesStore::StageRewind(std::string_view job_id,
                                      int32_t new_attempt,
                                      int64_t resumed_from_step,
                                      storage::WriteBatch& batch,
                                      SeriesUpdate* staged) {
  RETURN_IF_ERROR(RequireJobId(job_id));
  if (new_attempt < 1) return InvalidFieldError("attempt", "must be >= 1");
  if (resumed_from_step < 0) {
    return InvalidFieldError("resumed_from_step", "must be >= 0");
  }
  return StageJob(job_id, batch, staged, [&](StageContext& context) {
    RETURN_IF_ERROR(context.Rewind(new_attempt, resumed_from_step));
    context.CollectRetired();
    return absl::OkStatus();
  });
}

absl::Status SeriesStore::DeleteJob(std::string_view job_id,
                                    storage::WriteBatch& batch,
                                    SeriesUpdate* staged) {
  RETURN_IF_ERROR(RequireJobId(job_id));
  // StageJob loads the job first even though the purge does not depend on
  // the stored state: a load racing with the purge's Publish could reinstate
  // the old state.
  return StageJob(job_id, batch, staged, [](StageContext& context) {
    context.Purge();
    return absl::OkStatus();
  });
}

void SeriesStore::Publish(SeriesUpdate staged) {
  if (staged.data_ == nullptr) return;
  for (auto& [job_id, draft] : staged.data_->jobs) {
    JobState& job = *draft.job;
    {
      absl::MutexLock lock(&job.mu);
      // Updates are published in the order they were staged; the sequence
      // checks keep an out-of-order Publish from installing older versions.
      if (draft.purge && draft.purge_seq > job.purge_seq) {
        job.series.clear();
        job.rewinds.clear();
        job.retired.clear();
        job.purge_seq = draft.purge_seq;
      }
      for (auto& [name, state] : draft.series) {
        if (state->stage_seq < job.purge_seq) continue;
        std::shared_ptr<const SeriesState>& slot = job.series[name];
        if (slot == nullptr || slot->stage_seq <= state->stage_seq) {
          slot = std::move(state);
        }
      }
      if (draft.rewinds.has_value() && draft.rewinds_seq >= job.rewinds_seq &&
          draft.rewinds_seq >= job.purge_seq) {
        job.rewinds = std::move(*draft.rewinds);
        job.rewinds_seq = draft.rewinds_seq;
      }
      ++job.generation;
      if (!draft.collected.empty()) {
        // Named: clang before 16 cannot capture a structured binding in a
        // lambda (C++20's P1091), and the thread-safety build is clang 14.
        const auto& collected = draft.collected;
        std::erase_if(job.retired,
                      [&collected](const series_internal::Retired& r) {
                        return collected.contains(r.seq);
                      });
      }
      for (series_internal::Retired& r : draft.retired) {
        r.generation = job.generation;
        job.retired.push_back(std::move(r));
      }
      if (draft.next_retired_seq.has_value()) {
        job.next_retired_seq =
            std::max(job.next_retired_seq, *draft.next_retired_seq);
      }
      if (draft.next_tail_seq.has_value()) {
        job.next_tail_seq = std::max(job.next_tail_seq, *draft.next_tail_seq);
      }
      if (job.pending.has_value() && --job.pending->drafts <= 0) {
        job.pending.reset();
      }
      draft.settled = true;
    }
    // If the job was evicted (and maybe reloaded before the write) while this
    // update was staged, the published state went to the evicted copy: drop
    // whatever copy the map holds now so that the next use reloads.
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end() && it->second != draft.job) jobs_.erase(it);
  }
}

bool SeriesStore::Evict(std::string_view job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return false;
  {
    // A job with staged, unpublished state keeps it: the next Stage into the
    // same batch builds on it.
    absl::MutexLock job_lock(&it->second->mu);
    if (it->second->pending.has_value()) return false;
  }
  jobs_.erase(it);
  return true;
}

size_t SeriesStore::loaded_jobs() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

// ---------------------------------------------------------------------------
// Loading

absl::StatusOr<std::shared_ptr<SeriesStore::JobState>> SeriesStore::GetJob(
    std::string_view job_id) const {
  std::shared_ptr<JobState> job;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
      it = jobs_.emplace(std::string(job_id), std::make_shared<JobState>())
               .first;
    }
    job = it->second;
  }
  if (!job->loaded.load(std::memory_order_acquire)) {
    absl::MutexLock lock(&job->load_mu);
    if (!job->loaded.load(std::memory_order_acquire)) {
      RETURN_IF_ERROR(Load(job_id, *job));
      job->loaded.store(true, std::memory_order_release);
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

// ---------------------------------------------------------------------------
// Queries

// A consistent view of some series of a job, taken under the job's mutex.
struct SeriesStore::Snapshot {
  std::string job_id;
  // In the order asked for; nullptr for unknown series.
  std::vector<std::pair<std::string, std::shared_ptr<const SeriesState>>>
      series;
  // Greatest effective step of any series of the job.
  std::optional<int64_t> latest_step;
};

// Reads one run (the effective curve: chunks + tail; or a rolled-back run:
// chunks only) as a sequence of "units": chunks 0..C-1, then the tail as unit
// C when it is not empty. Units are ordered and disjoint in steps. Ranges are
// answered from the finest summary that lies wholly inside them: groups of
// chunks and chunks (ChunkIndex, in memory), then blocks (chunk headers);
// only blocks that straddle a range edge are decoded.
class SeriesStore::RunReader {
 public:
  RunReader(const SeriesStore& store, const Snapshot& snapshot,
            std::string_view series, uint64_t tag, const ChunkIndex& chunks,
            const Tail* tail, bool* stale)
      : store_(store),
        snapshot_(snapshot),
        series_(series),
        tag_(tag),
        chunks_(chunks),
        tail_(tail != nullptr && !tail->points.empty() ? tail : nullptr),
        stale_(stale) {}

  size_t units() const { return chunks_.size() + (tail_ ? 1 : 0); }

  // First point at or after `lo` and at or before `hi`, if any.
  absl::StatusOr<std::optional<int64_t>> FirstIn(int64_t lo, int64_t hi);
  // Last point at or before `hi` and at or after `lo`, if any.
  absl::StatusOr<std::optional<int64_t>> LastIn(int64_t lo, int64_t hi);
  // Count and extremes of the points in [lo, hi].
  absl::StatusOr<Extremes> RangeExtremes(int64_t lo, int64_t hi);
  // The points in [lo, hi], appended to *out.
  absl::Status Points(int64_t lo, int64_t hi, std::vector<SeriesPoint>* out);
  // Units with a step extent overlapping [lo, hi].
  size_t UnitsOverlapping(int64_t lo, int64_t hi) const {
    size_t b = FirstUnitEndingAtOrAfter(lo);
    size_t e = FirstUnitStartingAfter(hi);
    return e > b ? e - b : 0;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // A chunk read from RocksDB: its bytes, parsed header, and the last block
  // decoded.
  struct Cached {
    size_t unit = kNone;
    std::unique_ptr<std::string> blob;  // Stable address for `view`.
    ChunkView view;
    size_t block = kNone;
    std::vector<SeriesPoint> points;  // Of `block`.
  };

  int64_t UnitFirst(size_t u) const {
    return u < chunks_.size() ? chunks_.at(u).first_step
                              : tail_->points.front().step;
  }
  int64_t UnitLast(size_t u) const {
    return u < chunks_.size() ? chunks_.at(u).last_step
                              : tail_->points.back().step;
  }
  size_t FirstUnitEndingAtOrAfter(int64_t step) const {
    size_t c = chunks_.FirstEndingAtOrAfter(step);
    if (c < chunks_.size()) return c;
    if (tail_ && tail_->points.back().step >= step) return c;
    return units();
  }
  size_t FirstUnitStartingAfter(int64_t step) const {
    size_t c = chunks_.FirstStartingAfter(step);
    if (c < chunks_.size()) return c;
    if (tail_ && tail_->points.front().step <= step) return units();
    return c;
  }
  // Extremes of units [begin, end), all from summaries.
  Extremes Aggregate(size_t begin, size_t end) const {
    Extremes e;
    if (begin >= end) return e;
    const size_t c = chunks_.size();
    if (begin < c) e = chunks_.Aggregate(begin, std::min(end, c));
    if (tail_ && end > c) e.Merge(tail_->extremes);  // begin <= c < end.
    return e;
  }

  absl::StatusOr<Cached*> LoadChunk(size_t u);
  absl::StatusOr<const std::vector<SeriesPoint>*> LoadBlock(Cached* c,
                                                            size_t b);
  // Steps of block b of chunk c all lie in [BlockFirst, BlockLast].
  int64_t BlockFirst(const Cached& c, size_t b) const {
    return c.view.first_step(b);
  }
  int64_t BlockLast(const Cached& c, size_t b) const {
    return b + 1 < c.view.blocks() ? c.view.first_step(b + 1) - 1
                                   : chunks_.at(c.unit).last_step;
  }
  // The points of unit u (or of the blocks of it that overlap [lo, hi]),
  // each as a sorted span, in step order.
  absl::Status ForEachPart(
      size_t u, int64_t lo, int64_t hi,
      const std::function<void(absl::Span<const SeriesPoint>)>& fn);
  // Adds to *e the points of unit u within [lo, hi].
  absl::Status AddRange(size_t u, int64_t lo, int64_t hi, Extremes* e);

  const SeriesStore& store_;
  const Snapshot& snapshot_;
  const std::string_view series_;
  const uint64_t tag_;
  const ChunkIndex& chunks_;
  const Tail* const tail_;
  bool* const stale_;

  // Chunks are read through one forward iterator (see kMaxChunkWalk),
  // positioned on chunk iter_unit_.
  std::unique_ptr<storage::Iterator> iter_;
  size_t iter_unit_ = 0;

  // The last two chunks read: a chunk that straddles a bucket edge is used
  // for both buckets.
  Cached cache_[2];
  int next_slot_ = 0;
};

absl::StatusOr<SeriesStore::RunReader::Cached*>
SeriesStore::RunReader::LoadChunk(size_t u) {
  for (Cached& c : cache_) {
    if (c.unit == u) return &c;
  }
  Cached& slot = cache_[next_slot_];
  next_slot_ = 1 - next_slot_;
  slot.unit = kNone;
  slot.block = kNone;
  const ChunkMeta& meta = chunks_.at(u);
  const std::string key = ChunkKey(snapshot_.job_id, series_, tag_, meta);
  if (iter_ != nullptr && u > iter_unit_ && u - iter_unit_ <= kMaxChunkWalk) {
    while (iter_->Valid() && iter_->key() < std::string_view(key)) {
      iter_->Next();
    }
  } else {
    if (iter_ == nullptr || !iter_->status().ok()) {
      iter_.reset();
      ASSIGN_OR_RETURN(
          iter_, store_.db_.NewIterator(kChunksCf,
                                        storage::KeyRange::Prefix(RunPrefix(
                                            snapshot_.job_id, series_, tag_)),
                                        storage::Direction::kForward));
    }
    iter_->Seek(key);
  }
  RETURN_IF_ERROR(iter_->status());
  if (!iter_->Valid() || iter_->key() != std::string_view(key)) {
    // Deleted since the snapshot was taken (see "Retired chunks").
    iter_.reset();
    *stale_ = true;
    return absl::AbortedError("series changed during the query");
  }
  iter_unit_ = u;
  if (slot.blob == nullptr) slot.blob = std::make_unique<std::string>();
  slot.blob->assign(iter_->value());
  RETURN_IF_ERROR(slot.view.Parse(*slot.blob));
  if (slot.view.count() != meta.extremes.count) {
    return absl::DataLossError(absl::StrCat("series chunk ",
                                            storage::PrintableKey(key),
                                            " does not match its summary"));
  }
  slot.unit = u;
  return &slot;
}

absl::StatusOr<const std::vector<SeriesPoint>*>
SeriesStore::RunReader::LoadBlock(Cached* c, size_t b) {
  if (c->block != b) {
    c->block = kNone;
    c->points.clear();
    RETURN_IF_ERROR(c->view.Decode(b, &c->points));
    c->block = b;
  }
  return &c->points;
}

absl::Status SeriesStore::RunReader::ForEachPart(
    size_t u, int64_t lo, int64_t hi,
    const std::function<void(absl::Span<const SeriesPoint>)>& fn) {
  if (u >= chunks_.size()) {
    fn(tail_->points);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Cached * c, LoadChunk(u));
  for (size_t b = 0; b < c->view.blocks(); ++b) {
    if (BlockLast(*c, b) < lo) continue;
    if (BlockFirst(*c, b) > hi) break;
    ASSIGN_OR_RETURN(const std::vector<SeriesPoint>* points, LoadBlock(c, b));
    fn(*points);
  }
  return absl::OkStatus();
}

namespace {

// The part of sorted `points` within [lo, hi].
absl::Span<const SeriesPoint> Within(absl::Span<const SeriesPoint> points,
                                     int64_t lo, int64_t hi) {
  auto first = std::lower_bound(
      points.begin(), points.end(), lo,
      [](const SeriesPoint& p, int64_t s) { return p.step < s; });
  auto last = std::upper_bound(
      first, points.end(), hi,
      [](int64_t s, const SeriesPoint& p) { return s < p.step; });
  return absl::MakeConstSpan(&*points.begin() + (first - points.begin()),
                             last - first);
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> SeriesStore::RunReader::FirstIn(
    int64_t lo, int64_t hi) {
  size_t u = FirstUnitEndingAtOrAfter(lo);
  if (u >= units()) return std::nullopt;
  std::optional<int64_t> step = UnitFirst(u);
  if (*step < lo) {
    // Some point of u is >= lo (its last step is).
    step.reset();
    RETURN_IF_ERROR(
        ForEachPart(u, lo, kMaxStep, [&](absl::Span<const SeriesPoint> part) {
          absl::Span<const SeriesPoint> in = Within(part, lo, kMaxStep);
          if (!step.has_value() && !in.empty()) step = in.front().step;
        }));
  }
  if (!step.has_value() || *step > hi) return std::nullopt;
  return step;
}

absl::StatusOr<std::optional<int64_t>> SeriesStore::RunReader::LastIn(
    int64_t lo, int64_t hi) {
  size_t after = FirstUnitStartingAfter(hi);
  if (after == 0) return std::nullopt;
  size_t u = after - 1;
  std::optional<int64_t> step = UnitLast(u);
  if (*step > hi) {
    // Some point of u is <= hi (its first step is).
    step.reset();
    RETURN_IF_ERROR(ForEachPart(u, std::numeric_limits<int64_t>::min(), hi,
                                [&](absl::Span<const SeriesPoint> part) {
                                  absl::Span<const SeriesPoint> in =
                                      Within(part, 0, hi);
                                  if (!in.empty()) step = in.back().step;
                                }));
  }
  if (!step.has_value() || *step < lo) return std::nullopt;
  return step;
}

absl::Status SeriesStore::RunReader::AddRange(size_t u, int64_t lo, int64_t hi,
                                              Extremes* e) {
  if (u >= chunks_.size()) {
    for (const SeriesPoint& p : Within(tail_->points, lo, hi)) e->Add(p);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Cached * c, LoadChunk(u));
  for (size_t b = 0; b < c->view.blocks(); ++b) {
    const int64_t first = BlockFirst(*c, b);
    const int64_t last = BlockLast(*c, b);
    if (last < lo) continue;
    if (first > hi) break;
    if (first >= lo && last <= hi) {
      e->Merge(c->view.extremes(b));  // The whole block is inside.
      continue;
    }
    ASSIGN_OR_RETURN(const std::vector<SeriesPoint>* points, LoadBlock(c, b));
    for (const SeriesPoint& p : Within(*points, lo, hi)) e->Add(p);
  }
  return absl::OkStatus();
}

absl::StatusOr<Extremes> SeriesStore::RunReader::RangeExtremes(int64_t lo,
                                                               int64_t hi) {
  Extremes result;
  if (lo > hi) return result;
  size_t begin = FirstUnitEndingAtOrAfter(lo);
  size_t end = FirstUnitStartingAfter(hi);
  if (begin >= end) return result;
  // Units only partly inside [lo, hi] are opened; the others summarized.
  if (UnitFirst(begin) < lo || UnitLast(begin) > hi) {
    RETURN_IF_ERROR(AddRange(begin, lo, hi, &result));
    ++begin;
  }
  if (end > begin && UnitLast(end - 1) > hi) {
    RETURN_IF_ERROR(AddRange(end - 1, lo, hi, &result));
    --end;
  }
  result.Merge(Aggregate(begin, end));
  return result;
}

absl::Status SeriesStore::RunReader::Points(int64_t lo, int64_t hi,
                                            std::vector<SeriesPoint>* out) {
  if (lo > hi) return absl::OkStatus();
  size_t begin = FirstUnitEndingAtOrAfter(lo);
  size_t end = FirstUnitStartingAfter(hi);
  for (size_t u = begin; u < end; ++u) {
    RETURN_IF_ERROR(
        ForEachPart(u, lo, hi, [&](absl::Span<const SeriesPoint> part) {
          absl::Span<const SeriesPoint> in = Within(part, lo, hi);
          out->insert(out->end(), in.begin(), in.end());
        }));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T> SeriesStore::WithSnapshot(
    std::string_view job_id, const std::vector<std::string>& names,
    const std::function<absl::StatusOr<T>(const Snapshot&, bool* stale)>&
        answer) const {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<JobState> job, GetJob(job_id));
    Snapshot snapshot;
    snapshot.job_id = std::string(job_id);
    uint64_t generation;
    {
      absl::MutexLock lock(&job->mu);
      generation = job->generation;
      // Registered, so that chunks this snapshot refers to are not deleted
      // while it is read (see Retired).
      ++job->readers[generation];
      for (const auto& [name, state] : job->series) {
        if (std::optional<SeriesPoint> last = state->last()) {
          snapshot.latest_step =
              std::max(snapshot.latest_step.value_or(0), last->step);
        }
        if (names.empty()) snapshot.series.emplace_back(name, state);
      }
      for (const std::string& name : names) {
        auto it = job->series.find(name);
        snapshot.series.emplace_back(
            name, it == job->series.end() ? nullptr : it->second);
      }
    }
    bool stale = false;
    absl::StatusOr<T> result = answer(snapshot, &stale);
    {
      absl::MutexLock lock(&job->mu);
      if (--job->readers[generation] == 0) job->readers.erase(generation);
    }
    if (!stale) return result;
    if (attempt == kStaleRetries) {
      return absl::UnavailableError(
          absl::StrCat("the series of job ", ToAbsl(job_id),
                       " kept changing during the query; retry"));
    }
    // The chunk was replaced by a write whose Publish is imminent.
    struct Moved {
      JobState* job;
      uint64_t generation;
      bool operator()() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return job->generation != generation;  // Called with job->mu held.
      }
    } moved{job.get(), generation};
    job->mu.LockWhenWithTimeout(absl::Condition(&moved), kStaleWait);
    job->mu.Unlock();
  }
}

namespace {

void ToProto(const SeriesPoint& p, trainyard::common::v1::CurvePoint* out) {
  out->set_step(p.step);
  out->set_value(p.value);
  out->set_attempt(p.attempt);
}

}  // namespace

absl::StatusOr<LossCurve> SeriesStore::GetLossCurve(
    const CurveQuery& query) const {
  return WithSnapshot<LossCurve>(query.job_id, query.series,
                                 [&](const Snapshot& snapshot, bool* stale) {
                                   return Answer(query, snapshot, stale);
                                 });
}

absl::StatusOr<LossCurve> SeriesStore::Answer(const CurveQuery& query,
                                              const Snapshot& snapshot,
                                              bool* stale) const {
  const int32_t max_points = query.max_points;
  LossCurve curve;
  curve.set_job_id(query.job_id);
  curve.set_latest_step(snapshot.latest_step.value_or(0));
  curve.set_max_points(max_points);

  // The requested range [lo, hi].
  int64_t lo = query.start_step.value_or(0);
  int64_t hi = query.end_step.value_or(kMaxStep);
  bool open_end = !query.end_step.has_value();
  if (query.last_steps > 0) {
    int64_t latest = snapshot.latest_step.value_or(0);
    hi = latest;
    lo = query.last_steps > latest ? 0 : latest - query.last_steps + 1;
    open_end = false;
  }

  // The runs to answer: effective series first, then rolled-back ones.
  struct Run {
    std::string_view name;
    int32_t rolled_back_attempt;
    RunReader reader;
  };
  static const ChunkIndex kEmpty;
  std::vector<Run> runs;
  runs.reserve(snapshot.series.size());
  for (const auto& [name, state] : snapshot.series) {
    if (state == nullptr) {
      runs.push_back({name, 0,
                      RunReader(*this, snapshot, name, kEffectiveTag, kEmpty,
                                nullptr, stale)});
    } else {
      runs.push_back({name, 0,
                      RunReader(*this, snapshot, name, kEffectiveTag,
                                state->chunks, state->tail.get(), stale)});
    }
  }
  if (query.include_rolled_back) {
    for (const auto& [name, state] : snapshot.series) {
      if (state == nullptr) continue;
      for (const auto& [attempt, run] : state->rolled_back) {
        RunReader reader(*this, snapshot, name, static_cast<uint64_t>(attempt),
                         run, nullptr, stale);
        if (reader.UnitsOverlapping(lo, hi) == 0) continue;
        ASSIGN_OR_RETURN(std::optional<int64_t> first, reader.FirstIn(lo, hi));
        if (!first.has_value()) continue;
        runs.push_back({name, attempt, std::move(reader)});
      }
    }
  }

  // The served range: [lo, hi] clamped to the points of all runs.
  std::optional<int64_t> start, end;
  for (Run& run : runs) {
    ASSIGN_OR_RETURN(std::optional<int64_t> first, run.reader.FirstIn(lo, hi));
    if (!first.has_value()) continue;
    ASSIGN_OR_RETURN(std::optional<int64_t> last, run.reader.LastIn(lo, hi));
    start = std::min(start.value_or(*first), *first);
    end = std::max(end.value_or(*last), *last);
  }
  if (!start.has_value()) {
    start = lo;
    end = open_end ? lo : hi;
  }
  curve.set_start_step(*start);
  curve.set_end_step(*end);

  const int64_t buckets = DownsampleBuckets(max_points);
  std::vector<SeriesPoint> points;
  for (Run& run : runs) {
    CurveSeries* out = curve.add_series();
    out->set_name(std::string(run.name));
    if (run.rolled_back_attempt != 0) {
      out->set_rolled_back(true);
      out->set_rolled_back_attempt(run.rolled_back_attempt);
    }
    ASSIGN_OR_RETURN(Extremes total, run.reader.RangeExtremes(*start, *end));
    out->set_total_points_in_range(total.count);
    points.clear();
    if (total.count <= max_points) {
      RETURN_IF_ERROR(run.reader.Points(*start, *end, &points));
    } else {
      out->set_downsampled(true);
      if (static_cast<double>(total.count) <=
          options_.raw_scan_points_per_bucket * static_cast<double>(buckets)) {
        // Few points per bucket: summaries would not save decoding.
        std::vector<SeriesPoint> raw;
        raw.reserve(total.count);
        RETURN_IF_ERROR(run.reader.Points(*start, *end, &raw));
        points = Downsample(raw, *start, *end, max_points).points;
      } else {
        // As Downsample(): the first point, the buckets' extremes, the last.
        ASSIGN_OR_RETURN(std::optional<int64_t> first,
                         run.reader.FirstIn(*start, *end));
        ASSIGN_OR_RETURN(std::optional<int64_t> last,
                         run.reader.LastIn(*start, *end));
        RETURN_IF_ERROR(run.reader.Points(*first, *first, &points));
        if (buckets > 0) {
          BucketLayout layout(*start, *end, buckets);
          for (int64_t b = 0; b < buckets; ++b) {
            ASSIGN_OR_RETURN(Extremes e, run.reader.RangeExtremes(
                                             layout.First(b), layout.Last(b)));
            AppendBucketPoints(e, &points);
          }
        }
        std::vector<SeriesPoint> end_point;
        RETURN_IF_ERROR(run.reader.Points(*last, *last, &end_point));
        for (const SeriesPoint& p : end_point) AppendPoint(p, &points);
      }
    }
    out->mutable_points()->Reserve(static_cast<int>(points.size()));
    for (const SeriesPoint& p : points) ToProto(p, out->add_points());
  }
  return curve;
}

absl::StatusOr<std::vector<SeriesInfo>> SeriesStore::ListSeries(
    std::string_view job_id) const {
  RETURN_IF_ERROR(RequireJobId(job_id));
  ASSIGN_OR_RETURN(std::shared_ptr<JobState> job, GetJob(job_id));
  SeriesMap series;
  {
    absl::MutexLock lock(&job->mu);
    series = job->series;
  }
  std::vector<SeriesInfo> infos;
  infos.reserve(series.size());
  for (const auto& [name, state] : series) {
    SeriesInfo& info = infos.emplace_back();
    info.set_name(name);
    info.set_point_count(state->count());
    if (std::optional<int64_t> first = state->first_step()) {
      info.set_first_step(*first);
    }
    if (std::optional<SeriesPoint> last = state->last()) {
      info.set_last_step(last->step);
      info.set_last_value(last->value);
    }
    info.set_rolled_back_point_count(state->rolled_back_count());
  }
  return infos;
}

absl::StatusOr<std::vector<SeriesPoint>> SeriesStore::ReadSeries(
    std::string_view job_id, std::string_view series,
    int32_t rolled_back_attempt) const {
  RETURN_IF_ERROR(RequireJobId(job_id));
  RETURN_IF_ERROR(ValidateSeriesName("series", series));
  return WithSnapshot<std::vector<SeriesPoint>>(
      job_id, {std::string(series)},
      [&](const Snapshot& snapshot,
          bool* stale) -> absl::StatusOr<std::vector<SeriesPoint>> {
        std::vector<SeriesPoint> points;
        const std::shared_ptr<const SeriesState>& state =
            snapshot.series.front().second;
        if (state == nullptr) return points;
        if (rolled_back_attempt == 0) {
          RunReader reader(*this, snapshot, series, kEffectiveTag,
                           state->chunks, state->tail.get(), stale);
          RETURN_IF_ERROR(reader.Points(0, kMaxStep, &points));
        } else {
          auto it = state->rolled_back.find(rolled_back_attempt);
          if (it == state->rolled_back.end()) return points;
          RunReader reader(*this, snapshot, series,
                           static_cast<uint64_t>(rolled_back_attempt),
                           it->second, nullptr, stale);
          RETURN_IF_ERROR(reader.Points(0, kMaxStep, &points));
        }
        return points;
      });
}

}  // namespace trainyard::metrics
