// Copyright 2026 Trainyard authors.
//
// Validation and conversion of CostService requests, done once here: each
// function returns the typed input the book takes, or INVALID_ARGUMENT with a
// field violation naming the bad field. Nothing below grpc/ sees a request.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/cost/app/cost_book.h"
#include "services/cost/domain/ledger_query.h"
#include "services/cost/domain/report.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

inline constexpr int kMaxBatchJobs = 500;
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// config: required fields and ranges (common.proto), prefix names the field.
absl::Status CheckTrainingConfig(std::string_view prefix,
                                 const common::v1::TrainingConfig& config);

absl::StatusOr<RateCardUpdate> ToRateCardUpdate(
    const v1::UpdateRateCardRequest& request, const v1::RateCard& current);

absl::StatusOr<JobRegistration> ToRegistration(
    const v1::RegisterJobRequest& request);

// `now` bounds start_time (never in the future).
absl::StatusOr<MeterOpening> ToOpening(const v1::OpenMeterRequest& request,
                                       absl::Time now);
absl::StatusOr<CostBook::Closing> ToClosing(
    const v1::CloseMeterRequest& request, absl::Time now);

// A budget request's budget: nullopt removes it.
absl::StatusOr<std::optional<common::v1::Budget>> ToBudget(
    std::string_view field, const common::v1::Budget& budget, bool present);

struct LedgerPage {
  LedgerQuery query;
  int page_size = kDefaultPageSize;
  int64_t offset = 0;
  std::string binding;  // what the page token is bound to
};
absl::StatusOr<LedgerPage> ToLedgerPage(
    const v1::ListLedgerEntriesRequest& request);
std::string NextLedgerToken(const LedgerPage& page, int64_t next_offset);

absl::StatusOr<ReportQuery> ToReportQuery(
    const v1::GetCostReportRequest& request, absl::Time now);

struct FinalizeInput {
  common::v1::JobState state;
  std::optional<absl::Time> end_time;
};
absl::StatusOr<FinalizeInput> ToFinalize(
    const v1::FinalizeJobCostRequest& request, absl::Time now);

}  // namespace trainyard::cost
