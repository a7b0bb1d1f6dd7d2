// Copyright 2026 Trainyard authors.
#include "services/scheduler/app/scheduler_metrics.h"

#include <cmath>
#include <string>

namespace trainyard::scheduler {
namespace {

prometheus::Gauge& Gauge(prometheus::Registry& r, const char* name,
                         const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

// Seconds to days: a minute to a day and a half of queueing.
prometheus::Histogram::BucketBoundaries WaitBuckets() {
  return {60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 129600};
}

constexpr PromotionOutcome kOutcomes[] = {
    PromotionOutcome::kRequested, PromotionOutcome::kApproved,
    PromotionOutcome::kDenied, PromotionOutcome::kExpired,
    PromotionOutcome::kObsolete};

std::string OutcomeLabel(PromotionOutcome outcome) {
  switch (outcome) {
    case PromotionOutcome::kRequested:
      return "requested";
    case PromotionOutcome::kApproved:
      return "approved";
    case PromotionOutcome::kDenied:
      return "denied";
    case PromotionOutcome::kExpired:
      return "expired";
    case PromotionOutcome::kObsolete:
      return "obsolete";
  }
  return "unknown";
}

}  // namespace

SchedulerMetrics::SchedulerMetrics(prometheus::Registry& registry)
    : depth_(Gauge(registry, "trainyard_queue_depth", "Jobs in the queue.")),
      used_(Gauge(registry, "trainyard_queue_active_slots",
                  "Concurrency slots held by running jobs.")),
      limit_(Gauge(registry, "trainyard_queue_concurrency_limit",
                   "The concurrency limit.")),
      assignments_(prometheus::BuildCounter()
                       .Name("trainyard_queue_assignments_total")
                       .Help("Slots assigned to queued jobs.")
                       .Register(registry)
                       .Add({})),
      promotions_(prometheus::BuildCounter()
                      .Name("trainyard_queue_promotions_total")
                      .Help("Promotion requests and their outcomes.")
                      .Register(registry)),
      notifications_(prometheus::BuildCounter()
                         .Name("trainyard_queue_notifications_total")
                         .Help("Queue notifications handed to the notifier, "
                               "by trigger.")
                         .Register(registry)),
      wait_(prometheus::BuildHistogram()
                .Name("trainyard_queue_wait_seconds")
                .Help("Time a job spent queued before its slot, in seconds.")
                .Register(registry)
                .Add({}, WaitBuckets())),
      error_(prometheus::BuildHistogram()
                 .Name("trainyard_queue_estimate_error_seconds")
                 .Help("Absolute difference between a job's actual start and "
                       "the start estimated when it was enqueued, in "
                       "seconds.")
                 .Register(registry)
                 .Add({}, WaitBuckets())) {
  // The label values known in advance start at zero, so a scrape shows the
  // series (and rate() sees the first increment) before the first event.
  for (PromotionOutcome outcome : kOutcomes) {
    promotions_.Add({{"outcome", OutcomeLabel(outcome)}});
  }
  for (const char* trigger :
       {"QUEUE_POSITION_THREE", "QUEUE_POSITION_ONE", "PROMOTION_REQUESTED",
        "PROMOTION_APPROVED", "PROMOTION_DENIED", "PROMOTION_EXPIRED"}) {
    notifications_.Add({{"trigger", trigger}});
  }
}

void SchedulerMetrics::SetState(int depth, int used_slots, int limit) {
  depth_.Set(depth);
  used_.Set(used_slots);
  limit_.Set(limit);
}

void SchedulerMetrics::Assigned(double wait_seconds, double error_seconds) {
  assignments_.Increment();
  wait_.Observe(wait_seconds);
  error_.Observe(std::abs(error_seconds));
}

void SchedulerMetrics::Promotion(PromotionOutcome outcome) {
  promotions_.Add({{"outcome", OutcomeLabel(outcome)}}).Increment();
}

void SchedulerMetrics::Notification(std::string_view trigger) {
  notifications_.Add({{"trigger", std::string(trigger)}}).Increment();
}

}  // namespace trainyard::scheduler
