// Copyright 2026 Trainyard authors.
#include "services/cost/app/cost_metrics.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace trainyard::cost {
namespace {

// "COST_PHASE_ACTIVE_COMPUTE" -> "active_compute".
std::string Label(const std::string& name, absl::string_view prefix) {
  std::string s = name;
  if (absl::StartsWith(s, prefix)) s = s.substr(prefix.size());
  return absl::AsciiStrToLower(s);
}

}  // namespace

CostMetrics::CostMetrics(prometheus::Registry& registry)
    : spend_(prometheus::BuildCounter()
                 .Name("trainyard_cost_spend_micros_total")
                 .Help("Money billed in closed ledger entries, micro-units of "
                       "the rate card's currency")
                 .Register(registry)),
      open_meters_(prometheus::BuildGauge()
                       .Name("trainyard_cost_open_meters")
                       .Help("Meters billing now")
                       .Register(registry)),
      alerts_(prometheus::BuildCounter()
                  .Name("trainyard_cost_budget_alerts_total")
                  .Help("Cost alerts sent (estimate and budget crossings)")
                  .Register(registry)),
      estimate_error_(
          prometheus::BuildHistogram()
              .Name("trainyard_cost_estimate_error_ratio")
              .Help("Actual spend divided by the estimate's low end, per "
                    "completed job")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{
                           0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0})) {
  // Meters are opened in these phases (WASTED_STEPS is derived).
  for (int p = common::v1::COST_PHASE_ACTIVE_COMPUTE;
       p <= common::v1::COST_PHASE_PAUSED_STORAGE; ++p) {
    OpenMeters(static_cast<common::v1::CostPhase>(p), 0);
  }
  // Every billed combination and alert kind starts at zero, so a scrape shows
  // the series (and rate() sees the first increment) before the first event.
  for (int p = common::v1::COST_PHASE_ACTIVE_COMPUTE;
       p <= common::v1::COST_PHASE_PAUSED_STORAGE; ++p) {
    for (int g = 1; common::v1::GpuType_IsValid(g); ++g) {
      for (int c = 1; common::v1::Pricing_IsValid(c); ++c) {
        v1::LedgerEntry e;
        e.set_phase(static_cast<common::v1::CostPhase>(p));
        e.set_gpu_type(static_cast<common::v1::GpuType>(g));
        e.set_pricing(static_cast<common::v1::Pricing>(c));
        e.mutable_amount()->set_micros(0);
        Spent(e);
      }
    }
  }
  for (int k = 1; v1::AlertKind_IsValid(k); ++k) {
    alerts_.Add(
        {{"kind", Label(v1::AlertKind_Name(static_cast<v1::AlertKind>(k)),
                        "ALERT_KIND_")}});
  }
}

void CostMetrics::Spent(const v1::LedgerEntry& e) {
  spend_
      .Add({{"phase",
             Label(common::v1::CostPhase_Name(e.phase()), "COST_PHASE_")},
            {"gpu_type",
             Label(common::v1::GpuType_Name(e.gpu_type()), "GPU_TYPE_")},
            {"pricing",
             Label(common::v1::Pricing_Name(e.pricing()), "PRICING_")}})
      .Increment(static_cast<double>(e.amount().micros()));
}

void CostMetrics::OpenMeters(common::v1::CostPhase phase, int64_t count) {
  open_meters_
      .Add({{"phase", Label(common::v1::CostPhase_Name(phase), "COST_PHASE_")}})
      .Set(static_cast<double>(count));
}

void CostMetrics::AlertSent(v1::AlertKind kind) {
  alerts_.Add({{"kind", Label(v1::AlertKind_Name(kind), "ALERT_KIND_")}})
      .Increment();
}

void CostMetrics::EstimateError(double ratio) {
  estimate_error_.Observe(ratio);
}

}  // namespace trainyard::cost
