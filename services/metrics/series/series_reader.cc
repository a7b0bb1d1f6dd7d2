// Copyright 2026 Trainyard authors.
//
// SeriesStore's read side: snapshots, RunReader (summaries first, blocks at
// bucket edges) and the queries (GetLossCurve, ListSeries, ReadSeries).
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
#include "services/metrics/series/series_keys.h"
#include "services/metrics/series/series_state.h"
#include "services/metrics/series/series_store.h"

namespace trainyard::metrics {

using series_internal::ChunkKey;
using series_internal::JobState;
using series_internal::kChunksCf;
using series_internal::kEffectiveTag;
using series_internal::kMaxStep;
using series_internal::Retired;
using series_internal::RunPrefix;
using series_internal::SeriesMap;
using series_internal::SeriesState;
using series_internal::Tail;
using trainyard::common::v1::CurveSeries;
using trainyard::common::v1::LossCurve;
using trainyard::metrics::v1::SeriesInfo;

namespace {

// A query reads the chunks it needs with one forward iterator, stepping over
// the chunks in between as long as they are at most this many; farther (or
// back), it seeks, so the work stays bounded by what is read. Each step to
// another chunk is a data-block change, about as dear as a seek.
constexpr size_t kMaxChunkWalk = 2;

// Retries of a query whose snapshot went stale, and how long each waits for
// the Publish that follows the write it raced with.
constexpr int kStaleRetries = 5;
constexpr absl::Duration kStaleWait = absl::Milliseconds(200);

}  // namespace

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
    ASSIGN_OR_RETURN(series_internal::JobHandle job, GetJob(job_id));
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
  ASSIGN_OR_RETURN(series_internal::JobHandle job, GetJob(job_id));
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
