// Copyright 2026 Trainyard authors.
#include "services/metrics/storage/event_feed.h"

#include "common/status/status_macros.h"
#include "common/storage/iterator.h"
#include "common/storage/keys.h"

namespace trainyard::metrics {
namespace {

constexpr std::string_view kFeedCf = "event_feed";

std::string SeqKey(uint64_t seq) { return storage::EncodeUint64(seq); }

}  // namespace

absl::StatusOr<std::unique_ptr<EventFeed>> EventFeed::Open(storage::Db& db) {
  uint64_t last = 0;
  RETURN_IF_ERROR(db.Scan(kFeedCf, storage::KeyRange::All(),
                          storage::Direction::kReverse,
                          [&](std::string_view key, std::string_view) {
                            std::string_view k = key;
                            storage::ConsumeUint64(&k, &last);
                            return false;
                          }));
  return std::unique_ptr<EventFeed>(new EventFeed(db, last));
}

uint64_t EventFeed::Stage(
    const std::vector<std::pair<std::string, uint64_t>>& entries,
    storage::WriteBatch& batch) {
  uint64_t first;
  {
    absl::MutexLock lock(&mu_);
    first = next_;
    next_ += entries.size();
    in_flight_.insert(first);
  }
  uint64_t seq = first;
  for (const auto& [job_id, job_seq] : entries) {
    batch.PutRaw(
        kFeedCf, SeqKey(seq++),
        storage::KeyBuilder().AddString(job_id).AddUint64(job_seq).Build());
  }
  return first;
}

void EventFeed::Done(uint64_t first) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(first);
}

uint64_t EventFeed::Watermark() const {
  absl::MutexLock lock(&mu_);
  return in_flight_.empty() ? next_ - 1 : *in_flight_.begin() - 1;
}

absl::Status EventFeed::Read(
    uint64_t after, uint64_t until, int limit,
    absl::FunctionRef<bool(uint64_t, std::string_view, uint64_t)> visit) const {
  if (after >= until) return absl::OkStatus();
  int n = 0;
  absl::Status status;
  RETURN_IF_ERROR(db_.Scan(
      kFeedCf, storage::KeyRange::Between(SeqKey(after + 1), SeqKey(until + 1)),
      storage::Direction::kForward,
      [&](std::string_view key, std::string_view value) {
        uint64_t seq = 0, job_seq = 0;
        std::string job_id;
        std::string_view k = key;
        storage::KeyReader reader(value);
        if (!storage::ConsumeUint64(&k, &seq) || !reader.ReadString(&job_id) ||
            !reader.ReadUint64(&job_seq)) {
          status = absl::DataLossError("corrupt event feed entry");
          return false;
        }
        return visit(seq, job_id, job_seq) && ++n < limit;
      }));
  return status;
}

}  // namespace trainyard::metrics
