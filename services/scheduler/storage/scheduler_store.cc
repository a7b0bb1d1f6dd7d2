// Copyright 2026 Trainyard authors.
#include "services/scheduler/storage/scheduler_store.h"

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/storage/iterator.h"
#include "common/storage/keys.h"
#include "common/time/proto_time.h"

namespace trainyard::scheduler {
namespace {

constexpr char kJobs[] = "sched_jobs";
constexpr char kPromotions[] = "sched_promotions";
constexpr char kStarts[] = "sched_starts";
constexpr char kNotify[] = "sched_notify";
constexpr char kMeta[] = "sched_meta";
constexpr char kRequests[] = "sched_requests";
constexpr char kDays[] = "sched_days";

constexpr char kSettingsKey[] = "settings";
constexpr char kCountersKey[] = "counters";

// Starts in time order: start time (µs, biased to sort) | assignment id.
std::string StartKey(const internal::StartRecord& s) {
  return storage::KeyBuilder()
      .AddUint64(
          static_cast<uint64_t>(absl::ToUnixMicros(FromProto(s.start_time()))) ^
          (uint64_t{1} << 63))
      .AddString(s.assignment_id())
      .Build();
}

template <typename Message>
absl::Status LoadAllOf(const storage::Db& db, std::string_view cf,
                       std::vector<Message>* out) {
  absl::Status parse;
  RETURN_IF_ERROR(db.Scan(
      cf, storage::KeyRange::All(), storage::Direction::kForward,
      [&](std::string_view key, std::string_view value) {
        Message m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError(absl::StrCat("unreadable record in ",
                                                   std::string(cf), ": ",
                                                   storage::PrintableKey(key)));
          return false;
        }
        out->push_back(std::move(m));
        return true;
      }));
  return parse;
}

}  // namespace

std::vector<std::string> SchedulerStore::ColumnFamilies() {
  return {kJobs, kPromotions, kStarts, kNotify, kMeta, kRequests, kDays};
}

absl::StatusOr<StoredState> SchedulerStore::LoadAll() const {
  StoredState state;
  v1::QueueSettings settings;
  absl::Status s = db_.Get(kMeta, kSettingsKey, &settings);
  if (s.ok()) {
    state.settings = settings;
  } else if (!absl::IsNotFound(s)) {
    return s;
  }
  s = db_.Get(kMeta, kCountersKey, &state.counters);
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  RETURN_IF_ERROR(LoadAllOf(db_, kJobs, &state.jobs));
  RETURN_IF_ERROR(LoadAllOf(db_, kPromotions, &state.promotions));
  RETURN_IF_ERROR(LoadAllOf(db_, kStarts, &state.starts));
  RETURN_IF_ERROR(LoadAllOf(db_, kNotify, &state.notification_settings));
  std::vector<internal::DayDepth> days;
  RETURN_IF_ERROR(LoadAllOf(db_, kDays, &days));
  for (const auto& d : days) {
    state.max_depth_by_day[FromProto(d.day())] = d.max_depth();
  }
  return state;
}

absl::StatusOr<std::optional<internal::RequestRecord>>
SchedulerStore::FindRequest(std::string_view request_id) const {
  internal::RequestRecord record;
  absl::Status s = db_.Get(kRequests, request_id, &record);
  if (absl::IsNotFound(s)) return std::nullopt;
  RETURN_IF_ERROR(s);
  return record;
}

void SchedulerStore::StageJob(storage::WriteBatch& batch,
                              const internal::JobRecord& job) {
  batch.Put(kJobs, job.entry().job_id(), job);
}

void SchedulerStore::StagePromotion(storage::WriteBatch& batch,
                                    const v1::Promotion& promotion) {
  batch.Put(kPromotions, promotion.promotion_id(), promotion);
}

void SchedulerStore::StageStart(storage::WriteBatch& batch,
                                const internal::StartRecord& start) {
  batch.Put(kStarts, StartKey(start), start);
}

void SchedulerStore::StageDeleteStart(storage::WriteBatch& batch,
                                      const internal::StartRecord& start) {
  batch.Delete(kStarts, StartKey(start));
}

void SchedulerStore::StageNotificationSettings(
    storage::WriteBatch& batch, const v1::QueueNotificationSettings& s) {
  batch.Put(kNotify,
            storage::KeyBuilder()
                .AddString(s.job_id())
                .AddString(s.user().user_id())
                .Build(),
            s);
}

void SchedulerStore::StageSettings(storage::WriteBatch& batch,
                                   const v1::QueueSettings& settings) {
  batch.Put(kMeta, kSettingsKey, settings);
}

void SchedulerStore::StageCounters(storage::WriteBatch& batch,
                                   const internal::Counters& counters) {
  batch.Put(kMeta, kCountersKey, counters);
}

void SchedulerStore::StageRequest(storage::WriteBatch& batch,
                                  std::string_view request_id,
                                  const internal::RequestRecord& record) {
  batch.Put(kRequests, request_id, record);
}

void SchedulerStore::StageDayDepth(storage::WriteBatch& batch, absl::Time day,
                                   int max_depth) {
  internal::DayDepth d;
  *d.mutable_day() = ToProto(day);
  d.set_max_depth(max_depth);
  batch.Put(
      kDays,
      storage::EncodeUint64(static_cast<uint64_t>(absl::ToUnixSeconds(day))),
      d);
}

}  // namespace trainyard::scheduler
