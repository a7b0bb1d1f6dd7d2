// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/alert_watch.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/paging/opaque_token.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/time/proto_time.h"
#include "services/cost/grpc/requests.h"

namespace trainyard::cost {
namespace {

constexpr char kCursorKind[] = "alerts";
constexpr int kMaxAlertsPerMessage = 100;

absl::StatusOr<uint64_t> DecodeAlertCursor(std::string_view cursor) {
  absl::StatusOr<std::string> payload =
      paging::DecodeOpaqueToken("cursor", kCursorKind, "", cursor);
  if (!payload.ok()) return payload.status();
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(*payload, &seq)) {
    return paging::InvalidTokenError("cursor", "malformed");
  }
  return seq;
}

absl::Status CheckRequest(const v1::WatchBudgetAlertsRequest& r) {
  if (r.job_ids_size() > kMaxBatchJobs) {
    return InvalidFieldError("job_ids", "at most 500 job ids");
  }
  for (int i = 0; i < r.job_ids_size(); ++i) {
    absl::Status s = ValidateId(absl::StrCat("job_ids[", i, "]"), r.job_ids(i));
    if (!s.ok()) return s;
  }
  for (int i = 0; i < r.kinds_size(); ++i) {
    if (r.kinds(i) == 0 || !v1::AlertKind_IsValid(r.kinds(i))) {
      return InvalidFieldError(absl::StrCat("kinds[", i, "]"),
                               "unknown alert kind");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeAlertCursor(uint64_t seq) {
  return paging::EncodeOpaqueToken(kCursorKind, "", absl::StrCat(seq));
}

void AlertHub::Add(const std::shared_ptr<AlertWatch>& watch) {
  absl::MutexLock lock(&mu_);
  watches_.insert(watch);
}

void AlertHub::Remove(AlertWatch* watch) {
  absl::MutexLock lock(&mu_);
  for (auto it = watches_.begin(); it != watches_.end(); ++it) {
    if (it->get() == watch) {
      watches_.erase(it);
      return;
    }
  }
}

void AlertHub::WakeAll() {
  std::vector<std::shared_ptr<AlertWatch>> all;
  {
    absl::MutexLock lock(&mu_);
    all.assign(watches_.begin(), watches_.end());
  }
  for (const auto& w : all) w->Wake();
}

void AlertHub::CloseAll() {
  std::vector<std::shared_ptr<AlertWatch>> all;
  {
    absl::MutexLock lock(&mu_);
    all.assign(watches_.begin(), watches_.end());
  }
  for (const auto& w : all) w->Close();
}

grpc::ServerWriteReactor<v1::WatchBudgetAlertsResponse>* AlertWatch::Start(
    absl::Status admitted, v1::WatchBudgetAlertsRequest request, CostBook& book,
    AlertHub& hub, server::Executor& executor, server::DeadlineTimer& timer,
    const Clock& clock, const Clock& wall_clock, absl::Duration heartbeat) {
  auto stream = std::make_shared<AlertWatch>(
      std::move(admitted), std::move(request), book, hub, executor, timer,
      clock, wall_clock, heartbeat);
  hub.Add(stream);
  return stream->Begin();
}

AlertWatch::AlertWatch(absl::Status admitted,
                       v1::WatchBudgetAlertsRequest request, CostBook& book,
                       AlertHub& hub, server::Executor& executor,
                       server::DeadlineTimer& timer, const Clock& clock,
                       const Clock& wall_clock, absl::Duration heartbeat)
    : PullStream(executor, timer, wall_clock,
                 {absl::Milliseconds(20), heartbeat}),
      init_(std::move(admitted)),
      request_(std::move(request)),
      book_(book),
      hub_(hub),
      clock_(clock) {
  if (init_.ok()) init_ = CheckRequest(request_);
  if (!init_.ok()) return;
  if (request_.cursor().empty()) {
    cursor_ = book_.AlertWatermark();  // from now
  } else {
    absl::StatusOr<uint64_t> seq = DecodeAlertCursor(request_.cursor());
    if (seq.ok()) {
      cursor_ = *seq;
    } else {
      init_ = seq.status();
    }
  }
}

AlertWatch::Step AlertWatch::Next(bool heartbeat_due) {
  if (!init_.ok()) return {.end = true, .status = init_};
  v1::WatchBudgetAlertsResponse out;
  uint64_t cursor = cursor_;
  const uint64_t watermark = book_.AlertWatermark();
  absl::Status read = book_.ReadAlerts(
      cursor_, [&](uint64_t seq, const v1::BudgetAlert& alert) {
        if (seq > watermark) return false;  // not yet published
        cursor = seq;
        const auto& ids = request_.job_ids();
        const auto& kinds = request_.kinds();
        if ((ids.empty() ||
             std::find(ids.begin(), ids.end(), alert.job_id()) != ids.end()) &&
            (kinds.empty() || std::find(kinds.begin(), kinds.end(),
                                        alert.kind()) != kinds.end())) {
          *out.add_alerts() = alert;
        }
        return out.alerts_size() < kMaxAlertsPerMessage;
      });
  if (!read.ok()) return {.end = true, .status = read};
  const bool more = cursor < watermark;
  cursor_ = cursor;
  if (out.alerts_size() == 0 && !heartbeat_due) {
    if (more) Wake();
    return {};
  }
  out.set_cursor(EncodeAlertCursor(cursor_));
  if (out.alerts_size() == 0) {
    *out.mutable_heartbeat()->mutable_server_time() = ToProto(clock_.Now());
  }
  if (more) Wake();
  return {.message = std::move(out)};
}

}  // namespace trainyard::cost
