// Copyright 2026 Trainyard authors.
#include "services/metrics/live/live_hub.h"

#include <vector>

namespace trainyard::metrics {

LiveHub::LiveHub(prometheus::Registry& registry)
    : subscribers_(prometheus::BuildGauge()
                       .Name("trainyard_subscribers")
                       .Help("Open live streams (SubscribeJob, WatchEvents).")
                       .Register(registry)
                       .Add({})),
      lagged_(prometheus::BuildCounter()
                  .Name("trainyard_subscriber_lagged_total")
                  .Help("Streams ended because the subscriber fell too far "
                        "behind (it resumes from its token).")
                  .Register(registry)
                  .Add({})),
      messages_(prometheus::BuildCounter()
                    .Name("trainyard_stream_messages_sent_total")
                    .Help("Messages written to live streams.")
                    .Register(registry)
                    .Add({})) {}

LiveHub::Id LiveHub::Add(const std::string& job_id,
                         std::weak_ptr<LiveStream> stream) {
  bool closed;
  Id id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    closed = closed_;
    streams_.emplace(id, Entry{job_id, stream});
    by_job_.emplace(job_id, id);
  }
  subscribers_.Increment();
  if (closed) {
    if (auto s = stream.lock()) s->Close();
  }
  return id;
}

void LiveHub::Remove(Id id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto range = by_job_.equal_range(it->second.job_id);
  for (auto j = range.first; j != range.second; ++j) {
    if (j->second == id) {
      by_job_.erase(j);
      break;
    }
  }
  streams_.erase(it);
  subscribers_.Decrement();
}

void LiveHub::Published(const std::string& job_id) {
  std::vector<std::shared_ptr<LiveStream>> wake;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& key : {job_id, std::string()}) {
      auto range = by_job_.equal_range(key);
      for (auto it = range.first; it != range.second; ++it) {
        if (auto s = streams_[it->second].stream.lock()) wake.push_back(s);
      }
    }
  }
  for (auto& s : wake) s->Wake();
}

void LiveHub::CloseAll() {
  std::vector<std::shared_ptr<LiveStream>> all;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (auto& [id, e] : streams_) {
      if (auto s = e.stream.lock()) all.push_back(s);
    }
  }
  for (auto& s : all) s->Close();
}

}  // namespace trainyard::metrics
