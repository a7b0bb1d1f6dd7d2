// Copyright 2026 Trainyard authors.
#include "services/jobs/app/jobs_metrics.h"

#include <map>
#include <string>

#include "common/status/errors.h"
#include "common/time/proto_time.h"

namespace trainyard::jobs {
namespace {

std::string StateLabel(common::v1::JobState s) {
  return common::v1::JobState_Name(s).substr(sizeof("JOB_STATE_") - 1);
}

}  // namespace

JobsMetrics::JobsMetrics(prometheus::Registry& registry)
    : transitions_(prometheus::BuildCounter()
                       .Name("trainyard_jobs_transitions_total")
                       .Help("Job lifecycle transitions, by from and to state.")
                       .Register(registry)),
      jobs_(prometheus::BuildGauge()
                .Name("trainyard_jobs")
                .Help("Jobs by lifecycle state (deleted jobs not counted).")
                .Register(registry)),
      stalled_(prometheus::BuildGauge()
                   .Name("trainyard_jobs_stalled")
                   .Help("Active jobs with an open NO_HEARTBEAT or "
                         "SUSPECTED_PREEMPTION stall (their pod is polled).")
                   .Register(registry)
                   .Add({})),
      provider_calls_(prometheus::BuildCounter()
                          .Name("trainyard_jobs_provider_calls_total")
                          .Help("GPU provider calls made by effects, by "
                                "operation and outcome.")
                          .Register(registry)),
      termination_seconds_(
          prometheus::BuildHistogram()
              .Name("trainyard_jobs_cancel_termination_seconds")
              .Help("Time from a cancel to the provider confirming the pod "
                    "is gone, in suite seconds.")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{1, 5, 10, 20, 30,
                                                               60, 120, 300})),
      unconfirmed_(prometheus::BuildCounter()
                       .Name("trainyard_jobs_terminations_unconfirmed_total")
                       .Help("Cancels that ended without the provider "
                             "confirming the pod is gone (check the pod).")
                       .Register(registry)
                       .Add({})),
      outbox_entries_(prometheus::BuildGauge()
                          .Name("trainyard_jobs_outbox_entries")
                          .Help("Effects waiting in the outbox.")
                          .Register(registry)
                          .Add({})),
      outbox_age_(prometheus::BuildGauge()
                      .Name("trainyard_jobs_outbox_oldest_age_seconds")
                      .Help("How long the oldest waiting effect has been "
                            "retried, in seconds.")
                      .Register(registry)
                      .Add({})) {}

void JobsMetrics::Transition(const internal::JobRecord& before,
                             const internal::JobRecord& after) {
  const auto from = before.job().state();
  const auto to = after.job().state();
  if (from == to) return;
  transitions_.Add({{"from", StateLabel(from)}, {"to", StateLabel(to)}})
      .Increment();
  if (to != common::v1::JOB_STATE_CANCELLED ||
      from != common::v1::JOB_STATE_CANCELLING) {
    return;
  }
  const auto& c = after.job().cancellation();
  if (c.termination_status() == v1::TERMINATION_STATUS_UNCONFIRMED) {
    unconfirmed_.Increment();
  } else if (c.has_terminate_time()) {
    termination_seconds_.Observe(absl::ToDoubleSeconds(
        FromProto(c.terminate_time()) - FromProto(c.request_time())));
  }
}

void JobsMetrics::ProviderCall(std::string_view operation,
                               const absl::Status& outcome) {
  provider_calls_
      .Add({{"operation", std::string(operation)},
            {"outcome", outcome.ok() ? "OK" : CodeName(outcome.code())}})
      .Increment();
}

void JobsMetrics::SetJobsByState(
    const std::map<common::v1::JobState, int64_t>& counts, int64_t stalled) {
  stalled_.Set(static_cast<double>(stalled));
  for (int s = common::v1::JOB_STATE_QUEUED;
       s <= common::v1::JOB_STATE_RECOVERING; ++s) {
    auto it = counts.find(static_cast<common::v1::JobState>(s));
    jobs_.Add({{"state", StateLabel(static_cast<common::v1::JobState>(s))}})
        .Set(it == counts.end() ? 0 : static_cast<double>(it->second));
  }
}

void JobsMetrics::SetOutbox(int64_t entries, double oldest_age_seconds) {
  outbox_entries_.Set(static_cast<double>(entries));
  outbox_age_.Set(oldest_age_seconds);
}

}  // namespace trainyard::jobs
