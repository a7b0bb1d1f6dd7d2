// Copyright 2026 Trainyard authors.
//
// Cost's records in RocksDB, one column family per kind, values as protobuf:
//   rate_cards  big-endian version            -> RateCardVersion (every one
//   kept) jobs        job_id                        -> JobRecord (open meters
//   inside) meters      meter_id ("<job>.m<n>")       -> Meter (open and
//   closed) ledger      job | start ms | entry_id     -> LedgerEntry (closed
//   entries) requests    request_id                    -> Meter (OpenMeter's
//   first answer) alerts      big-endian sequence           -> BudgetAlert (the
//   alert stream) history     calibration key | job_id      -> HistorySample
//   aggregates  day | job | phase | hardware  -> AggregateRow (deleted jobs)
// Writers stage into a WriteBatch they own and write it once (Stage -> Write
// -> Publish); readers take typed values, never request protos.
//
// Thread-safe (Db is); ordering between writers is the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "trainyard/cost/internal/state.pb.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

class CostStore {
 public:
  static std::vector<std::string> ColumnFamilies();

  // `db` must outlive the store and have ColumnFamilies() open.
  explicit CostStore(storage::Db& db) : db_(db) {}

  absl::Status Write(const storage::WriteBatch& batch) {
    return db_.Write(batch);
  }

  // Every rate card version, oldest first.
  absl::StatusOr<std::vector<v1::RateCard>> LoadRateCards() const;
  static void StageRateCard(const v1::RateCard& card,
                            storage::WriteBatch& batch);

  absl::Status ForEachJob(
      absl::FunctionRef<void(internal::JobRecord)> visit) const;
  static void StageJob(const internal::JobRecord& job,
                       storage::WriteBatch& batch);

  // kNotFound (reason METER_NOT_FOUND, field meter_id) when absent.
  absl::StatusOr<v1::Meter> GetMeter(const std::string& meter_id) const;
  static void StageMeter(const v1::Meter& meter, storage::WriteBatch& batch);

  static void StageEntry(const v1::LedgerEntry& entry,
                         storage::WriteBatch& batch);
  // Closed entries of `job_id` (every job when empty), by job then start.
  absl::Status ScanLedger(
      const std::string& job_id,
      absl::FunctionRef<bool(const v1::LedgerEntry&)> visit) const;

  // OpenMeter's first answer to `request_id`, if any.
  absl::StatusOr<std::optional<v1::Meter>> FindRequest(
      const std::string& request_id) const;
  static void StageRequest(const std::string& request_id,
                           const v1::Meter& answer, storage::WriteBatch& batch);

  static void StageAlert(uint64_t seq, const v1::BudgetAlert& alert,
                         storage::WriteBatch& batch);
  // The highest alert sequence stored (0 when none).
  absl::StatusOr<uint64_t> LastAlertSeq() const;
  // Alerts with sequence > after, ascending, until visit returns false.
  absl::Status ScanAlerts(
      uint64_t after,
      absl::FunctionRef<bool(uint64_t seq, const v1::BudgetAlert&)> visit)
      const;

  static void StageHistory(const internal::HistorySample& sample,
                           storage::WriteBatch& batch);
  absl::Status ForEachHistory(
      absl::FunctionRef<void(const internal::HistorySample&)> visit) const;

  static void StageAggregate(const internal::AggregateRow& row,
                             storage::WriteBatch& batch);
  // Rows of days in [from, to).
  absl::Status ScanAggregates(
      absl::Time from, absl::Time to,
      absl::FunctionRef<void(const internal::AggregateRow&)> visit) const;
  // The row stored under `row`'s key, if any (to fold another amount in).
  absl::StatusOr<std::optional<internal::AggregateRow>> FindAggregate(
      const internal::AggregateRow& row) const;

  // Stages the removal of a job: record, meters, ledger (not its alerts,
  // history or aggregates).
  static void StageDeleteJob(const std::string& job_id,
                             storage::WriteBatch& batch);

 private:
  storage::Db& db_;
};

}  // namespace trainyard::cost
