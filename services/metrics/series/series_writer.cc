// Copyright 2026 Trainyard authors.
//
// SeriesStore's write side: Stage, StageRewind, DeleteJob (through a
// StageContext per call) and Publish.
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
#include "services/metrics/series/series_store.h"

namespace trainyard::metrics {

using series_internal::ByStep;
using series_internal::ChunkKey;
using series_internal::ExtremesOf;
using series_internal::IndexKey;
using series_internal::JobDraft;
using series_internal::JobPrefix;
using series_internal::JobState;
using series_internal::kChunksCf;
using series_internal::kEffectiveTag;
using series_internal::kMaxStep;
using series_internal::kMetaCf;
using series_internal::Pending;
using series_internal::Retired;
using series_internal::RetiredKey;
using series_internal::Rewind;
using series_internal::RewindKey;
using series_internal::RolledBack;
using series_internal::SeriesMap;
using series_internal::SeriesState;
using series_internal::Tail;
using series_internal::TailKey;
using series_internal::UpdateData;

namespace {

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

absl::Status SeriesStore::StageJob(
    std::string_view job_id, storage::WriteBatch& batch, SeriesUpdate* staged,
    const std::function<absl::Status(StageContext&)>& stage) {
  // A job with a draft in `staged` is pinned by it: this is the same state.
  ASSIGN_OR_RETURN(series_internal::JobHandle job, GetJob(job_id));
  if (staged->data_ == nullptr) staged->data_ = std::make_unique<UpdateData>();
  auto draft_it = staged->data_->jobs.find(job_id);
  StageContext context(*this, job_id, *job);
  RETURN_IF_ERROR(stage(context));
  const bool new_draft = draft_it == staged->data_->jobs.end();
  if (new_draft) {
    draft_it =
        staged->data_->jobs.emplace(std::string(job_id), JobDraft{}).first;
    draft_it->second.job = std::move(job);
  }
  context.Commit(batch, &draft_it->second, new_draft);
  return absl::OkStatus();
}

absl::Status SeriesStore::Stage(std::string_view job_id,
                                absl::Span<const PointInput> points,
                                storage::WriteBatch& batch,
                                SeriesUpdate* staged) {
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
    size_t bytes;
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
      bytes = job.MemoryBytes();
    }
    jobs_.Charge(draft.job, bytes);
  }
}

}  // namespace trainyard::metrics
