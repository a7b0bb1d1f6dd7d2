// Copyright 2026 Trainyard authors.
#include "services/metrics/live/event_watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/paging/opaque_token.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/time/proto_time.h"

namespace trainyard::metrics {
namespace {

constexpr char kCursorKind[] = "watch_events";

int BatchSize(const v1::WatchEventsRequest& r) {
  if (r.max_batch_size() <= 0) return 100;
  return std::min(r.max_batch_size(), 1000);
}

}  // namespace

std::string EncodeFeedCursor(uint64_t seq) {
  return paging::EncodeOpaqueToken(kCursorKind, "", storage::EncodeUint64(seq));
}

absl::StatusOr<uint64_t> DecodeFeedCursor(std::string_view cursor) {
  ASSIGN_OR_RETURN(std::string payload, paging::DecodeOpaqueToken(
                                            "cursor", kCursorKind, "", cursor));
  std::string_view rest(payload);
  uint64_t seq = 0;
  if (!storage::ConsumeUint64(&rest, &seq) || !rest.empty()) {
    return paging::InvalidTokenError("cursor", "malformed token");
  }
  return seq;
}

grpc::ServerWriteReactor<v1::WatchEventsResponse>* EventWatch::Start(
    absl::Status admitted, v1::WatchEventsRequest request, EventFeed& feed,
    EventStore& events, LiveHub& hub, server::Executor& executor,
    server::DeadlineTimer& timer, const Clock& clock, const Clock& wall_clock,
    absl::Duration heartbeat) {
  auto stream = std::make_shared<EventWatch>(
      std::move(admitted), std::move(request), feed, events, hub, executor,
      timer, clock, wall_clock, heartbeat);
  stream->hub_id_ = hub.Add("", stream);  // every job
  return stream->Begin();
}

EventWatch::EventWatch(absl::Status admitted, v1::WatchEventsRequest request,
                       EventFeed& feed, EventStore& events, LiveHub& hub,
                       server::Executor& executor, server::DeadlineTimer& timer,
                       const Clock& clock, const Clock& wall_clock,
                       absl::Duration heartbeat)
    : PullStream(executor, timer, wall_clock,
                 {absl::Milliseconds(50), heartbeat}),
      init_(std::move(admitted)),
      request_(std::move(request)),
      feed_(feed),
      events_(events),
      hub_(hub),
      clock_(clock) {
  if (!init_.ok()) return;
  if (request_.cursor().empty()) {
    cursor_ = request_.start_from_oldest() ? 0 : feed_.Watermark();
  } else {
    absl::StatusOr<uint64_t> seq = DecodeFeedCursor(request_.cursor());
    if (seq.ok()) {
      cursor_ = *seq;
    } else {
      init_ = seq.status();
    }
  }
}

bool EventWatch::Wanted(const v1::Event& e) const {
  auto has = [](const auto& list, auto v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  return has(request_.types(), e.type()) && has(request_.sources(), e.source());
}

EventWatch::Step EventWatch::Next(bool heartbeat_due) {
  if (!init_.ok()) return {std::nullopt, true, init_};
  v1::WatchEventsResponse out;
  uint64_t watermark = feed_.Watermark();
  absl::Status failure;
  uint64_t scanned = cursor_;
  absl::Status read = feed_.Read(
      cursor_, watermark, BatchSize(request_),
      [&](uint64_t seq, std::string_view job_id, uint64_t job_seq) {
        absl::StatusOr<v1::Event> event = events_.GetEvent(job_id, job_seq);
        if (absl::IsNotFound(event.status())) {  // purged job: skipped
          scanned = seq;
          return true;
        }
        if (!event.ok()) {
          failure = event.status();
          return false;
        }
        if (Wanted(*event)) *out.add_events() = *std::move(event);
        scanned = seq;
        return true;
      });
  if (!read.ok()) return {std::nullopt, true, read};
  if (!failure.ok()) return {std::nullopt, true, failure};
  bool advanced = scanned != cursor_;
  cursor_ = scanned;
  const bool more = cursor_ < watermark;  // more than one batch waiting
  if (more) Wake();
  if (out.events_size() == 0 && !heartbeat_due && !advanced) return {};
  if (out.events_size() == 0) {
    // Only filtered-out events: say nothing yet, but read on at once.
    if (!heartbeat_due) return {std::nullopt, false, absl::OkStatus(), more};
    *out.mutable_heartbeat()->mutable_server_time() = ToProto(clock_.Now());
  }
  out.set_cursor(EncodeFeedCursor(cursor_));
  hub_.CountMessage();
  return {std::move(out), false, absl::OkStatus(), more};
}

}  // namespace trainyard::metrics
