// Copyright 2026 Trainyard authors.
//
// The live streams of metrics-ingest: which subscriptions to wake when a
// job's log grows, and how many there are (trainyard_subscribers). Closes
// every stream at shutdown so the server never waits on one.
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace trainyard::metrics {

// What the hub needs of a stream.
class LiveStream {
 public:
  virtual ~LiveStream() = default;
  virtual void Wake() = 0;
  virtual void Close() = 0;
};

class LiveHub {
 public:
  using Id = uint64_t;

  // `registry` must outlive the hub.
  explicit LiveHub(prometheus::Registry& registry);

  // Streams of one job ("" = every job: cross-job streams).
  Id Add(const std::string& job_id, std::weak_ptr<LiveStream> stream);
  void Remove(Id id);

  // The job's log grew: wake its streams and the cross-job ones.
  void Published(const std::string& job_id);
  // Ends every stream cleanly; later Adds are closed at once.
  void CloseAll();

  void CountMessage() { messages_.Increment(); }
  void CountLagged() { lagged_.Increment(); }

 private:
  struct Entry {
    std::string job_id;
    std::weak_ptr<LiveStream> stream;
  };
  absl::Mutex mu_;
  std::map<Id, Entry> streams_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, Id> by_job_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  prometheus::Gauge& subscribers_;
  prometheus::Counter& lagged_;
  prometheus::Counter& messages_;
};

}  // namespace trainyard::metrics
