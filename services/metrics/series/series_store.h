// -----------------------------------------------------------------------------
// File: services/metrics/series/series_store.h
// -----------------------------------------------------------------------------
//
// SeriesStore keeps the metric series of training jobs (train_loss, val_loss,
// learning_rate, ..., extra.<key>) in RocksDB and answers loss-curve queries
// downsampled from min/max summaries (R-DASH-04), aware of checkpoint rewinds
// (R-X-06).
//
// Model. A point is (series, step, value, attempt). Its identity is (series,
// step, attempt): a point with the identity of a stored one replaces it
// (replays are idempotent). A rewind (new_attempt A, resumed_from_step f)
// rolls back every point of an attempt < A with step > f. At every step the
// effective curve holds the not-rolled-back point of the highest attempt;
// every other point is a rolled-back point of its attempt. Both are a function
// of the set of points and rewinds, whatever order they arrive in (a point of
// a newer attempt at an existing step supersedes the older one even before
// the rewind is reported; a late point of a rolled-back attempt goes straight
// to the rolled-back set).
//
// Storage format, write path and summaries: services/metrics/README.md (the
// overview) and the top of series_store.cc (the details).
//
// Atomicity with the caller's records. Stage* add the series writes to the
// caller's WriteBatch (so the event record and its points commit together)
// and describe the in-memory change in a SeriesUpdate. Only Publish() changes
// what queries and later Stages see; call it after Db::Write succeeded. If the
// write fails, drop the SeriesUpdate: nothing in memory changed.
//
// Stage all the points of one job of a request in one call where possible:
// each call writes one tail segment.
//
//   storage::WriteBatch batch;
//   SeriesUpdate update;
//   batch.Put("events", event_key, event);
//   RETURN_IF_ERROR(series.Stage(job_id, points, batch, &update));
//   RETURN_IF_ERROR(db.Write(batch));
//   series.Publish(std::move(update));
//
// In-memory state is loaded per job on first use (Stage or query) from
// series_meta, and held to options.cache_bytes for all jobs together
// (JobCache, least recently used out); everything survives close and
// reopen.
//
// Several Stage* calls of one job may go into one batch before one Write,
// into one SeriesUpdate or into several: each Stage builds on everything
// staged for the job and not yet published or dropped. Publish several
// updates in the order they were staged; dropping any unpublished update of a
// job discards all of the job's staged state (its batch failed as a whole).
//
// Thread safety: all methods may be called concurrently, with one rule for
// writers: REQUIRES: for a given job, Stage*/DeleteJob + Db::Write + Publish
// (or dropping the updates) are serialized by the caller: one batch of a job
// at a time. Different jobs ingest concurrently, and queries run
// concurrently with ingest: they read an immutable snapshot taken under a
// per-job mutex held for a few pointer copies.

#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/cache/job_cache.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "services/metrics/series/curve_query.h"
#include "services/metrics/series/downsample.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// One reported value for Stage().
struct PointInput {
  // Series name, 1..kMaxSeriesNameBytes bytes ("train_loss", "extra.reward").
  // Not owned: must stay valid during the Stage() call.
  std::string_view series;
  // >= 0.
  int64_t step = 0;
  // As reported; NaN and +/-Inf are stored as they are.
  double value = 0;
  // >= 1.
  int32_t attempt = 1;
};

struct SeriesStoreOptions {
  // Points per chunk folded out of the tail, and the target size when a
  // rewritten chunk is split. >= 2. Any value can read data written with
  // another (chunks carry their own sizes).
  int chunk_points = 256;
  // A rewritten chunk (late points) is split once it holds more than this.
  // >= chunk_points.
  int max_chunk_points = 512;
  // Points per block inside a chunk (each block carries its extremes, so a
  // bucket edge inside a chunk decodes one block). >= 1.
  int block_points = 32;
  // Chunks per summary group in memory. >= 1.
  int group_chunks = 64;
  // Query planning: when a downsampled range holds at most this many points
  // per bucket, its points are read and downsampled directly (Downsample());
  // above it, buckets are answered from summaries, decoding only the blocks
  // at bucket edges (about a block and a half per bucket). Both give the same
  // points. 0 forces summaries; a huge value forces raw reads.
  double raw_scan_points_per_bucket = 64;
  // Bound on the in-memory state of all jobs together (a JobCache: least
  // recently used jobs out, reloaded from series_meta on next use; a job
  // being staged or queried stays).
  size_t cache_bytes = size_t{256} << 20;
};

namespace series_internal {
struct UpdateData;
struct JobState;
struct SeriesState;
}  // namespace series_internal

// What Stage*/DeleteJob staged for Publish(): new immutable versions of the
// touched series of one or more jobs. Move-only. Destroying it unpublished
// (the batch was not written) leaves the store as if the Stage calls of its
// jobs' current batch never happened.
class SeriesUpdate {
 public:
  SeriesUpdate();
  ~SeriesUpdate();
  SeriesUpdate(SeriesUpdate&&) noexcept;
  SeriesUpdate& operator=(SeriesUpdate&&) noexcept;

  // True when nothing was staged.
  bool empty() const;

 private:
  friend class SeriesStore;
  std::unique_ptr<series_internal::UpdateData> data_;
};

class SeriesStore {
 public:
  // The column families SeriesStore uses; list them in storage::Options.
  static std::vector<std::string> ColumnFamilies();

  // `db` must have ColumnFamilies() open and outlive the store.
  explicit SeriesStore(storage::Db& db, SeriesStoreOptions options = {});
  ~SeriesStore();
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // Adds the writes that store `points` for `job_id` to `batch` and records
  // the resulting in-memory state in `*staged`. Points may be of any series
  // and in any order; a point with the (series, step, attempt) of a stored or
  // earlier point replaces it (a replay of an identical point writes nothing).
  // Builds on whatever `*staged` already holds for this job.
  //
  // REQUIRES: `job_id` is valid (ValidateId; the callers check requests).
  // Errors (nothing added to `batch` or `*staged`): kInvalidArgument naming
  // the bad field ("series", "step", "attempt") via
  // InvalidFieldError; I/O errors of reading the job's state or a chunk to
  // rewrite (kDataLoss for corrupt data).
  absl::Status Stage(std::string_view job_id,
                     absl::Span<const PointInput> points,
                     storage::WriteBatch& batch, SeriesUpdate* staged);

  // R-X-06: attempt `new_attempt` resumed from the checkpoint at
  // `resumed_from_step`: every point of an earlier attempt with a greater
  // step leaves the effective curve and is kept as a rolled-back point of its
  // attempt (chunks and summaries are rewritten accordingly; cost
  // proportional to the points after `resumed_from_step`). Later points of
  // earlier attempts beyond that step are stored as rolled back. Repeating a
  // rewind is a no-op.
  //
  // Errors as Stage (fields "attempt" >= 1, "resumed_from_step" >= 0).
  absl::Status StageRewind(std::string_view job_id, int32_t new_attempt,
                           int64_t resumed_from_step,
                           storage::WriteBatch& batch, SeriesUpdate* staged);

  // Adds the deletion of every series datum of `job_id` to `batch` (range
  // deletions; cheap whatever the size). After Publish the job has no series.
  // Purging a job without series is fine.
  absl::Status DeleteJob(std::string_view job_id, storage::WriteBatch& batch,
                         SeriesUpdate* staged);

  // Makes `staged` visible to queries and later Stages.
  // REQUIRES: the batch the Stage calls wrote to was written successfully.
  void Publish(SeriesUpdate staged);

  // R-DASH-04, R-X-06: the loss curve as documented on
  // trainyard.common.v1.LossCurve:
  //   The series of `query`, in its order; an unknown name gives an empty
  //     series.
  //   The served range [start_step, end_step] is the requested range clamped
  //     to the points of the returned series (effective ones, plus
  //     rolled-back ones with include_rolled_back); with no point in range it
  //     is the requested range (an open start is 0, an open end the start).
  //   latest_step: greatest step of any effective series of the job (0 when
  //     none).
  //   include_rolled_back: after the requested series, one series per
  //     (requested series, attempt) that has rolled-back points in range,
  //     ordered by series then attempt, marked rolled_back with its attempt.
  //   Downsampling: Downsample() rules (downsample.h), per series over the
  //     served range, to query.max_points.
  // A job without series (or unknown) gets empty series: whether the job
  // exists is the caller's business (NOT_FOUND is decided from the event
  // log).
  //
  // REQUIRES: `query` satisfies CurveQuery's contract (the handlers'
  // ParseCurveQuery/ParseCurveOptions build it).
  // Errors: kUnavailable if the job's data kept changing under the query;
  // kDataLoss for corrupt data.
  absl::StatusOr<trainyard::common::v1::LossCurve> GetLossCurve(
      const CurveQuery& query) const;

  // The series of a job (R-DASH-04 legend and picker), sorted by name: name,
  // point_count (effective), first_step, last_step, last_value (of the
  // effective curve; 0 when it is empty), rolled_back_point_count. last_time
  // is left unset (the store does not track time). Series that only have
  // rolled-back points are listed with point_count 0. Paging and filtering
  // are the handler's (a job has tens of series).
  // Errors: I/O errors of loading.
  absl::StatusOr<std::vector<trainyard::metrics::v1::SeriesInfo>> ListSeries(
      std::string_view job_id) const;

  // Every point of one run, in step order, without downsampling: the
  // effective curve (rolled_back_attempt 0) or the rolled-back points of an
  // attempt. Empty for an unknown series. For exports and tests.
  absl::StatusOr<std::vector<SeriesPoint>> ReadSeries(
      std::string_view job_id, std::string_view series,
      int32_t rolled_back_attempt = 0) const;

  // Drops the in-memory state of `job_id` now (the cache drops jobs by
  // itself when over budget); it is reloaded from RocksDB on next use. Safe
  // at any time; returns false (and keeps it) when the job is not loaded or
  // in use: staged, unpublished state or a query in flight.
  bool Evict(std::string_view job_id);

  // Number of jobs with in-memory state (tests, gauges).
  size_t loaded_jobs() const;

 private:
  using JobState = series_internal::JobState;
  class StageContext;
  class RunReader;
  struct Snapshot;

  // Runs `stage` on a StageContext of `job_id` (loaded if needed) and, if
  // it succeeds, appends its writes to `batch` and its state to `*staged`.
  absl::Status StageJob(
      std::string_view job_id, storage::WriteBatch& batch, SeriesUpdate* staged,
      const std::function<absl::Status(StageContext&)>& stage);

  // The state of `job_id`, pinned, loaded from RocksDB if needed.
  absl::StatusOr<cache::JobCache<JobState>::Handle> GetJob(
      std::string_view job_id) const;
  absl::Status Load(std::string_view job_id, JobState& job) const;

  // Takes a snapshot of `job_id` (the series `names`, or all when empty) and
  // calls `answer` on it. A query that finds a chunk of its snapshot gone
  // (the data changed under it: `answer` sets *stale and fails) waits for
  // the pending Publish and retries on a new snapshot, a few times, then
  // fails with kUnavailable.
  template <typename T>
  absl::StatusOr<T> WithSnapshot(
      std::string_view job_id, const std::vector<std::string>& names,
      const std::function<absl::StatusOr<T>(const Snapshot&, bool* stale)>&
          answer) const;

  absl::StatusOr<trainyard::common::v1::LossCurve> Answer(
      const CurveQuery& query, const Snapshot& snapshot, bool* stale) const;

  storage::Db& db_;
  const SeriesStoreOptions options_;

  mutable cache::JobCache<JobState> jobs_;
};

}  // namespace trainyard::metrics
