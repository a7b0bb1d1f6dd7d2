// Copyright 2026 Trainyard authors.
//
// The current state of each job (internal::JobState: the job's event log
// folded by the domain rules), held in memory: loaded per job on first use
// from its snapshot (JobStateStore) plus the events after it (EventStore),
// then kept current by the write path. Dashboards (views/, live/) read jobs
// here; the Ingestor is the only writer.
//
// Memory: the loaded states are a JobCache held to a byte budget, least
// recently used out (an evicted job reloads on its next use); a job is
// pinned while a reader or the writer holds its slot. Start-up loads no
// state: it reads the stall watch, the ids of the jobs that may stall
// (domain MayStall). In memory each watched job has the time the stall
// check must next look at it (domain NextStallCheck), so the check loads
// only the jobs due, not every active job every time.
//
// Thread-safe. Readers copy a job's state (or two figures of it) under the
// job's lock; the writer holds the lock of every job it writes from load to
// publish (see Ingestor).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cache/job_cache.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/storage/job_state_store.h"
#include "trainyard/metrics/internal/job_state.pb.h"

namespace trainyard::metrics {

class JobStates {
 public:
  // One job's place. The writer's handle: readers use State/GetHead.
  struct Slot {
    absl::Mutex mu;
    // `state` holds the job's current state (or a new one, exists false,
    // for a job without events). False while the writer has checked the
    // state out, and after a failed write: the next use reloads it.
    bool loaded ABSL_GUARDED_BY(mu) = false;
    // The job has events.
    bool exists ABSL_GUARDED_BY(mu) = false;
    internal::JobState state ABSL_GUARDED_BY(mu);
  };
  // A pinned slot: not evicted while held.
  using SlotHandle = cache::JobCache<Slot>::Handle;

  // Heap bytes charged per serialized byte of a state: a state of ~500
  // bytes on the wire (8 current metrics, 4 stages) takes ~3.3 KB of heap,
  // malloc's headers included (mallinfo2, 3,000 jobs).
  static constexpr size_t kBytesPerSerializedByte = 6;

  // References must outlive this. `options` are the ones the write path
  // folds events with; `cache_bytes` bounds the loaded states.
  JobStates(EventStore& events, JobStateStore& snapshots,
            TrackerOptions options, size_t cache_bytes = size_t{64} << 20)
      : events_(events),
        snapshots_(snapshots),
        options_(options),
        slots_(cache_bytes) {}

  // The job's state, loaded on first use. kNotFound (JOB_NOT_FOUND) when
  // the job has no events.
  absl::StatusOr<internal::JobState> State(std::string_view job_id);
  // The two figures live streams poll, without copying the state. Errors as
  // State().
  struct Head {
    uint64_t last_job_seq = 0;
    common::v1::JobState job_state = common::v1::JOB_STATE_UNSPECIFIED;
  };
  absl::StatusOr<Head> GetHead(std::string_view job_id);

  // Start-up: reads the stall watch (no state is loaded; every watched job
  // is due for a check). A data dir written before the watch existed gets
  // it built once, from every job's state.
  absl::Status LoadWatch();
  // The ids of the watched jobs.
  std::vector<std::string> Watched() const;
  // The ids of the watched jobs due for a check at `now`.
  std::vector<std::string> DueForCheck(absl::Time now) const;
  // Puts the job on the watch, due for a check at `next_check`, or (nullopt)
  // takes it off.
  void Watch(const std::string& job_id, std::optional<absl::Time> next_check);

  cache::JobCache<Slot>::Stats cache_stats() const { return slots_.stats(); }
  // Drops the job's state from memory unless in use (JobCache::Evict).
  bool Evict(std::string_view job_id) { return slots_.Evict(job_id); }

  // ---- The writer's side -------------------------------------------------

  // The job's slot (created unloaded on first use), pinned.
  SlotHandle Find(std::string_view job_id) { return slots_.Get(job_id); }
  // Loads `slot`'s state unless loaded: its snapshot plus the events after
  // it, or a new state when the job has none.
  absl::Status LoadLocked(const SlotHandle& slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot->mu);
  // Whether the job is on the stall watch as of `state` (of `exists` job).
  static bool Watches(bool exists, const internal::JobState& state) {
    return exists && MayStall(state);
  }
  // After a durable write: the slot's state is now `serialized_bytes` on
  // the wire.
  void Recharge(const SlotHandle& slot, size_t serialized_bytes) {
    slots_.Charge(slot, serialized_bytes * kBytesPerSerializedByte);
  }

 private:
  // `read(state)` of a loaded job that has events, under its lock.
  template <typename Read>
  auto ReadState(std::string_view job_id, Read read)
      -> absl::StatusOr<decltype(read(std::declval<internal::JobState>()))>;

  EventStore& events_;
  JobStateStore& snapshots_;
  const TrackerOptions options_;

  cache::JobCache<Slot> slots_;

  mutable absl::Mutex watch_mu_;
  // Watched job -> when it is next due for a stall check.
  absl::flat_hash_map<std::string, absl::Time> watched_
      ABSL_GUARDED_BY(watch_mu_);
};

}  // namespace trainyard::metrics
