// Copyright 2026 Trainyard authors.
#include "services/cost/storage/cost_store.h"

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/errors.h"

namespace trainyard::cost {
namespace {

constexpr char kRateCards[] = "rate_cards";
constexpr char kJobs[] = "jobs";
constexpr char kMeters[] = "meters";
constexpr char kLedger[] = "ledger";
constexpr char kRequests[] = "requests";
constexpr char kAlerts[] = "alerts";
constexpr char kHistory[] = "history";
constexpr char kAggregates[] = "aggregates";

std::string JobPrefix(const std::string& job_id) {
  return storage::KeyBuilder().AddString(job_id).Build();
}

std::string LedgerKey(const v1::LedgerEntry& e) {
  return storage::KeyBuilder()
      .AddString(e.job_id())
      .AddUint64(
          static_cast<uint64_t>(absl::ToUnixMillis(FromProto(e.start_time()))))
      .AddString(e.entry_id())
      .Build();
}

std::string AggregateKey(const internal::AggregateRow& r) {
  return storage::KeyBuilder()
      .AddUint64(static_cast<uint64_t>(r.day_start_unix()))
      .AddString(r.job_id())
      .AddString(absl::StrCat(r.phase(), ".", r.gpu_type(), ".", r.gpu_count(),
                              ".", r.pricing()))
      .Build();
}

template <typename Message>
absl::Status Parse(std::string_view cf, std::string_view key,
                   std::string_view value, Message& out) {
  if (!out.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("cost: unparsable value in ",
                                            std::string(cf), " at ",
                                            storage::PrintableKey(key)));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> CostStore::ColumnFamilies() {
  return {kRateCards, kJobs,   kMeters,  kLedger,
          kRequests,  kAlerts, kHistory, kAggregates};
}

absl::StatusOr<std::vector<v1::RateCard>> CostStore::LoadRateCards() const {
  std::vector<v1::RateCard> cards;
  absl::Status parse;
  RETURN_IF_ERROR(db_.Scan(kRateCards, storage::KeyRange::All(),
                           storage::Direction::kForward,
                           [&](std::string_view key, std::string_view value) {
                             internal::RateCardVersion v;
                             parse = Parse(kRateCards, key, value, v);
                             if (!parse.ok()) return false;
                             cards.push_back(std::move(*v.mutable_card()));
                             return true;
                           }));
  RETURN_IF_ERROR(parse);
  return cards;
}

void CostStore::StageRateCard(const v1::RateCard& card,
                              storage::WriteBatch& batch) {
  internal::RateCardVersion v;
  *v.mutable_card() = card;
  batch.Put(kRateCards, storage::EncodeUint64(card.version()), v);
}

absl::Status CostStore::ForEachJob(
    absl::FunctionRef<void(internal::JobRecord)> visit) const {
  absl::Status parse;
  RETURN_IF_ERROR(db_.Scan(kJobs, storage::KeyRange::All(),
                           storage::Direction::kForward,
                           [&](std::string_view key, std::string_view value) {
                             internal::JobRecord job;
                             parse = Parse(kJobs, key, value, job);
                             if (!parse.ok()) return false;
                             visit(std::move(job));
                             return true;
                           }));
  return parse;
}

void CostStore::StageJob(const internal::JobRecord& job,
                         storage::WriteBatch& batch) {
  batch.Put(kJobs, job.job_id(), job);
}

absl::StatusOr<v1::Meter> CostStore::GetMeter(
    const std::string& meter_id) const {
  v1::Meter meter;
  absl::Status s = db_.Get(kMeters, meter_id, &meter);
  if (absl::IsNotFound(s)) {
    return MeterNotFound(meter_id);
  }
  RETURN_IF_ERROR(s);
  return meter;
}

void CostStore::StageMeter(const v1::Meter& meter, storage::WriteBatch& batch) {
  batch.Put(kMeters, meter.meter_id(), meter);
}

void CostStore::StageEntry(const v1::LedgerEntry& entry,
                           storage::WriteBatch& batch) {
  batch.Put(kLedger, LedgerKey(entry), entry);
}

absl::Status CostStore::ScanLedger(
    const std::string& job_id,
    absl::FunctionRef<bool(const v1::LedgerEntry&)> visit) const {
  absl::Status parse;
  RETURN_IF_ERROR(db_.Scan(kLedger,
                           job_id.empty()
                               ? storage::KeyRange::All()
                               : storage::KeyRange::Prefix(JobPrefix(job_id)),
                           storage::Direction::kForward,
                           [&](std::string_view key, std::string_view value) {
                             v1::LedgerEntry entry;
                             parse = Parse(kLedger, key, value, entry);
                             return parse.ok() && visit(entry);
                           }));
  return parse;
}

absl::StatusOr<std::optional<v1::Meter>> CostStore::FindRequest(
    const std::string& request_id) const {
  v1::Meter meter;
  absl::Status s = db_.Get(kRequests, request_id, &meter);
  if (absl::IsNotFound(s)) return std::nullopt;
  RETURN_IF_ERROR(s);
  return meter;
}

void CostStore::StageRequest(const std::string& request_id,
                             const v1::Meter& answer,
                             storage::WriteBatch& batch) {
  batch.Put(kRequests, request_id, answer);
}

void CostStore::StageAlert(uint64_t seq, const v1::BudgetAlert& alert,
                           storage::WriteBatch& batch) {
  batch.Put(kAlerts, storage::EncodeUint64(seq), alert);
}

absl::StatusOr<uint64_t> CostStore::LastAlertSeq() const {
  uint64_t last = 0;
  RETURN_IF_ERROR(db_.Scan(kAlerts, storage::KeyRange::All(),
                           storage::Direction::kReverse,
                           [&](std::string_view key, std::string_view) {
                             storage::ConsumeUint64(&key, &last);
                             return false;
                           }));
  return last;
}

absl::Status CostStore::ScanAlerts(
    uint64_t after,
    absl::FunctionRef<bool(uint64_t, const v1::BudgetAlert&)> visit) const {
  absl::Status parse;
  RETURN_IF_ERROR(db_.Scan(
      kAlerts, storage::KeyRange::AtLeast(storage::EncodeUint64(after + 1)),
      storage::Direction::kForward,
      [&](std::string_view key, std::string_view value) {
        uint64_t seq = 0;
        std::string_view k = key;
        storage::ConsumeUint64(&k, &seq);
        v1::BudgetAlert alert;
        parse = Parse(kAlerts, key, value, alert);
        return parse.ok() && visit(seq, alert);
      }));
  return parse;
}

void CostStore::StageHistory(const internal::HistorySample& sample,
                             storage::WriteBatch& batch) {
  batch.Put(kHistory,
            storage::KeyBuilder()
                .AddString(sample.calibration_key())
                .AddString(sample.job_id())
                .Build(),
            sample);
}

absl::Status CostStore::ForEachHistory(
    absl::FunctionRef<void(const internal::HistorySample&)> visit) const {
  absl::Status parse;
  RETURN_IF_ERROR(db_.Scan(kHistory, storage::KeyRange::All(),
                           storage::Direction::kForward,
                           [&](std::string_view key, std::string_view value) {
                             internal::HistorySample sample;
                             parse = Parse(kHistory, key, value, sample);
                             if (!parse.ok()) return false;
                             visit(sample);
                             return true;
                           }));
  return parse;
}

void CostStore::StageAggregate(const internal::AggregateRow& row,
                               storage::WriteBatch& batch) {
  batch.Put(kAggregates, AggregateKey(row), row);
}

absl::StatusOr<std::optional<internal::AggregateRow>> CostStore::FindAggregate(
    const internal::AggregateRow& row) const {
  internal::AggregateRow stored;
  absl::Status s = db_.Get(kAggregates, AggregateKey(row), &stored);
  if (absl::IsNotFound(s)) return std::nullopt;
  RETURN_IF_ERROR(s);
  return stored;
}

absl::Status CostStore::ScanAggregates(
    absl::Time from, absl::Time to,
    absl::FunctionRef<void(const internal::AggregateRow&)> visit) const {
  absl::Status parse;
  const int64_t first_day = absl::ToUnixSeconds(from) / 86400 * 86400;
  RETURN_IF_ERROR(
      db_.Scan(kAggregates,
               storage::KeyRange::Between(
                   storage::EncodeUint64(
                       static_cast<uint64_t>(std::max<int64_t>(first_day, 0))),
                   storage::EncodeUint64(static_cast<uint64_t>(
                       std::max<int64_t>(absl::ToUnixSeconds(to), 0)))),
               storage::Direction::kForward,
               [&](std::string_view key, std::string_view value) {
                 internal::AggregateRow row;
                 parse = Parse(kAggregates, key, value, row);
                 if (!parse.ok()) return false;
                 visit(row);
                 return true;
               }));
  return parse;
}

void CostStore::StageDeleteJob(const std::string& job_id,
                               storage::WriteBatch& batch) {
  batch.Delete(kJobs, job_id);
  // Meter ids are "<job>.m<n>" and job ids have no '.'.
  const std::string meters = absl::StrCat(job_id, ".");
  batch.DeleteRange(kMeters, meters, *storage::PrefixSuccessor(meters));
  const std::string ledger = JobPrefix(job_id);
  batch.DeleteRange(kLedger, ledger, *storage::PrefixSuccessor(ledger));
}

}  // namespace trainyard::cost
