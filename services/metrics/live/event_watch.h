// Copyright 2026 Trainyard authors.
//
// WatchEvents (R-X-02): every stored event of every job in durable-write
// order, from a cursor that stays valid across restarts of either side, with
// type and source filters, heartbeats when idle. Read from storage at the
// consumer's pace (server/pull_stream.h), so a slow consumer is never dropped
// and never slows ingest.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/server/pull_stream.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/live/live_hub.h"
#include "services/metrics/storage/event_feed.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

std::string EncodeFeedCursor(uint64_t seq);
// kInvalidArgument ("cursor") when malformed.
absl::StatusOr<uint64_t> DecodeFeedCursor(std::string_view cursor);

class EventWatch final : public server::PullStream<v1::WatchEventsResponse>,
                         public LiveStream {
 public:
  // `admitted` is the auth verdict. References must outlive the stream.
  static grpc::ServerWriteReactor<v1::WatchEventsResponse>* Start(
      absl::Status admitted, v1::WatchEventsRequest request, EventFeed& feed,
      EventStore& events, LiveHub& hub, server::Executor& executor,
      server::DeadlineTimer& timer, const Clock& clock, const Clock& wall_clock,
      absl::Duration heartbeat);

  EventWatch(absl::Status admitted, v1::WatchEventsRequest request,
             EventFeed& feed, EventStore& events, LiveHub& hub,
             server::Executor& executor, server::DeadlineTimer& timer,
             const Clock& clock, const Clock& wall_clock,
             absl::Duration heartbeat);

  void Wake() override { PullStream::Wake(); }
  void Close() override { PullStream::Close(); }

 private:
  Step Next(bool heartbeat_due) override;
  void OnStreamDone() override { hub_.Remove(hub_id_); }
  bool Wanted(const v1::Event& event) const;

  absl::Status init_;
  v1::WatchEventsRequest request_;
  EventFeed& feed_;
  EventStore& events_;
  LiveHub& hub_;
  const Clock& clock_;
  LiveHub::Id hub_id_ = 0;
  uint64_t cursor_ = 0;  // touched only by Next()
};

}  // namespace trainyard::metrics
