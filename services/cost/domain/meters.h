// Copyright 2026 Trainyard authors.
//
// The rules of meters (R-X-04): opening (rate locked from the card, one open
// meter per phase kind, no overlap with the phase's last closed meter, a
// compute phase switch closes the other compute meter), closing (once; a retry
// of the same close returns it unchanged) and finalizing. Each function works
// on a copy of the job's record that the caller writes and publishes only on
// success, so a rejected call changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/cost/domain/ledger.h"
#include "services/cost/domain/rejection.h"
#include "trainyard/cost/internal/state.pb.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

// A validated OpenMeter request. For compute phases gpu_type and pricing are
// set (pricing defaults to the job's); for storage storage_bytes > 0.
struct MeterOpening {
  std::string job_id;
  int32_t attempt = 0;
  common::v1::CostPhase phase = common::v1::COST_PHASE_UNSPECIFIED;
  common::v1::GpuType gpu_type = common::v1::GPU_TYPE_UNSPECIFIED;
  int32_t gpu_count = 1;
  common::v1::Pricing pricing = common::v1::PRICING_UNSPECIFIED;
  std::string pod_id;
  int64_t storage_bytes = 0;
  absl::Time start_time;
};

// What a meter change wrote: meters to store (new or closed) and ledger
// entries to append.
struct MeterChange {
  std::vector<v1::Meter> meters;
  std::vector<v1::LedgerEntry> entries;
};

// Opens a meter on `record` (which the caller then stores). The opened meter
// is change.meters.back(). Rejections: FAILED_PRECONDITION JOB_COST_FINAL when
// the job's cost is final; INVALID_ARGUMENT METER_OVERLAP naming `phase`
// when a meter of the same phase is open, or
// naming `start_time` when it is before the end of the phase's last meter or
// the start of the compute meter it replaces; INVALID_ARGUMENT naming
// gpu_type for a type not on the card (or unavailable).
Checked<MeterChange> OpenMeter(internal::JobRecord& record,
                               const v1::RateCard& card,
                               const MeterOpening& opening);

// A validated CloseMeter request.
struct MeterClosing {
  std::string meter_id;
  absl::Time end_time;
  bool end_time_given = false;
  v1::MeterCloseReason reason = v1::METER_CLOSE_REASON_UNSPECIFIED;
  // INTERRUPTED: the steps lost (from the request or metrics); null: none.
  std::optional<WastedSteps> wasted;
};

// Closes `meter` of `record`. A closed meter is returned unchanged when the
// closing repeats it (same reason, and the same end_time or none given);
// otherwise INVALID_ARGUMENT METER_ALREADY_CLOSED naming end_time or reason.
// INVALID_ARGUMENT naming end_time when it is before the meter's start.
Checked<MeterChange> CloseMeter(internal::JobRecord& record,
                                const v1::Meter& meter,
                                const MeterClosing& closing);

// The reason an open meter closes with when the job ends in `state`.
v1::MeterCloseReason CloseReasonFor(common::v1::JobState state);

// Closes every open meter of `record` at `end` and fixes the final cost
// (final = true). No change when already final.
MeterChange Finalize(internal::JobRecord& record, common::v1::JobState state,
                     absl::Time end);

}  // namespace trainyard::cost
