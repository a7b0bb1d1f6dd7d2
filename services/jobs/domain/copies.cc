// Copyright 2026 Trainyard authors.
#include "services/jobs/domain/copies.h"

#include "common/time/proto_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/jobs/domain/lifecycle.h"

namespace trainyard::jobs {
namespace {

// Equal but for as_of: a refresh that changes nothing writes nothing.
template <typename M>
bool SameFigures(M a, M b) {
  a.clear_as_of();
  b.clear_as_of();
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

common::v1::ProgressSummary SummaryOf(const common::v1::Progress& p) {
  common::v1::ProgressSummary s;
  s.set_step(p.step());
  s.set_total_steps(p.total_steps());
  s.set_percent(p.percent());
  s.set_epoch(p.epoch());
  s.set_total_epochs(p.total_epochs());
  s.set_stage(p.stage());
  if (p.has_estimated_remaining()) {
    *s.mutable_estimated_remaining() = p.estimated_remaining();
  }
  if (p.has_estimated_completion_time()) {
    *s.mutable_estimated_completion_time() = p.estimated_completion_time();
  }
  s.set_stalled(p.stalled());
  *s.mutable_as_of() = p.as_of();
  return s;
}

}  // namespace

void CopyProgress(internal::JobRecord& r,
                  const common::v1::Progress& progress) {
  if (r.progress_final()) return;
  if (progress.job_state() == common::v1::JOB_STATE_UNSPECIFIED &&
      !progress.has_as_of()) {
    return;  // unknown to metrics
  }
  v1::Job& j = *r.mutable_job();
  common::v1::ProgressSummary next = SummaryOf(progress);
  if (next.total_steps() == 0) {
    // Metrics knows the total once the container or the QUEUED event said.
    next.set_total_steps(j.spec().config().total_steps());
    next.set_percent(
        next.total_steps() > 0 ? 100.0 * next.step() / next.total_steps() : 0);
  }
  if (next.total_epochs() == 0) {
    next.set_total_epochs(j.spec().config().hyperparameters().epochs());
  }
  if (next.stage() == common::v1::STAGE_UNSPECIFIED) {
    next.set_stage(j.progress().stage());
  }
  if (IsTerminal(j.state())) {
    next.clear_estimated_remaining();
    next.clear_estimated_completion_time();
    next.set_stalled(false);
    r.set_progress_final(progress.final());
  }
  if (SameFigures(next, j.progress())) return;
  *j.mutable_progress() = std::move(next);
}

void CopyCost(internal::JobRecord& r, const common::v1::CostSummary& cost) {
  if (!cost.has_estimate() && !cost.has_spend()) return;  // unknown to cost
  v1::Job& j = *r.mutable_job();
  // A final figure belongs to a job that ended; an answer racing a retry is
  // dropped (the next refresh brings the reopened cost).
  if (cost.final() && !IsTerminal(j.state())) return;
  if (j.cost().final() && !cost.final()) return;
  if (SameFigures(cost, j.cost())) return;
  *j.mutable_cost() = cost;
}

void CompleteProgress(internal::JobRecord& r, absl::Time now) {
  v1::Job& j = *r.mutable_job();
  common::v1::ProgressSummary* p = j.mutable_progress();
  const int64_t total = j.spec().config().total_steps();
  p->set_total_steps(total);
  p->set_step(total);
  p->set_percent(100);
  p->set_total_epochs(j.spec().config().hyperparameters().epochs());
  p->set_epoch(p->total_epochs());
  p->set_stage(common::v1::STAGE_FINALIZATION);
  p->clear_estimated_remaining();
  p->clear_estimated_completion_time();
  p->set_stalled(false);
  *p->mutable_as_of() = ToProto(now);
  r.set_progress_final(true);
}

void ReopenCopies(internal::JobRecord& r) {
  r.set_progress_final(false);
  r.mutable_job()->mutable_cost()->set_final(false);
}

bool NeedsCopyRefresh(const internal::JobRecord& r) {
  if (r.deleted()) return false;
  return !IsTerminal(r.job().state()) || !r.progress_final() ||
         !r.job().cost().final();
}

}  // namespace trainyard::jobs
