// Copyright 2026 Trainyard authors.
//
// In-memory fakes of the services and the provider, for engine tests. Each
// records its calls and can be told to fail (e.g. UNIMPLEMENTED, as a
// scheduler or cost not yet deployed answers).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/jobs/app/clients.h"
#include "services/jobs/provider/provider.h"

namespace trainyard::jobs::testing {

// A status every call of a fake answers while set.
class Failing {
 public:
  void Fail(absl::Status s) {
    absl::MutexLock l(&mu_);
    fail_ = std::move(s);
  }
  std::vector<std::string> calls() const {
    absl::MutexLock l(&mu_);
    return calls_;
  }

 protected:
  absl::Status Record(std::string call) {
    absl::MutexLock l(&mu_);
    if (!fail_.ok()) return fail_;
    calls_.push_back(std::move(call));
    return absl::OkStatus();
  }

 private:
  mutable absl::Mutex mu_;
  absl::Status fail_;
  std::vector<std::string> calls_;
};

class FakeScheduler : public SchedulerClient, public Failing {
 public:
  absl::Status Enqueue(const scheduler::v1::EnqueueRequest& r) override {
    return Record(absl::StrCat("Enqueue ", r.job_id(), " a", r.attempt()));
  }
  absl::StatusOr<bool> RemoveFromQueue(
      const scheduler::v1::RemoveFromQueueRequest& r) override {
    absl::Status s = Record(absl::StrCat("RemoveFromQueue ", r.job_id()));
    if (!s.ok()) return s;
    return removed;
  }
  absl::Status ReleaseSlot(
      const scheduler::v1::ReleaseSlotRequest& r) override {
    return Record(absl::StrCat("ReleaseSlot ", r.job_id(), " ",
                               scheduler::v1::SlotOutcome_Name(r.outcome())));
  }
  bool removed = true;
};

class FakeCost : public CostClient, public Failing {
 public:
  absl::Status RegisterJob(const cost::v1::RegisterJobRequest& r) override {
    return Record(absl::StrCat("RegisterJob ", r.job_id()));
  }
  absl::StatusOr<std::string> OpenMeter(
      const cost::v1::OpenMeterRequest& r) override {
    absl::Status s = Record(absl::StrCat(
        "OpenMeter ", r.job_id(), " ", common::v1::CostPhase_Name(r.phase())));
    if (!s.ok()) return s;
    return absl::StrCat("m-", r.request_id());
  }
  absl::Status CloseMeter(const cost::v1::CloseMeterRequest& r) override {
    return Record(absl::StrCat("CloseMeter ", r.meter_id()));
  }
  absl::StatusOr<cost::v1::FinalizeJobCostResponse> FinalizeJobCost(
      const cost::v1::FinalizeJobCostRequest& r) override {
    absl::Status s = Record(absl::StrCat("FinalizeJobCost ", r.job_id()));
    if (!s.ok()) return s;
    cost::v1::FinalizeJobCostResponse resp;
    *resp.mutable_cost() = final_tracker;
    *resp.mutable_final_cost() = final_tracker.spend();
    return resp;
  }
  absl::Status SetJobBudget(const cost::v1::SetJobBudgetRequest& r) override {
    return Record(absl::StrCat("SetJobBudget ", r.job_id()));
  }
  absl::Status DeleteJobData(const cost::v1::DeleteJobDataRequest& r) override {
    return Record(absl::StrCat("DeleteJobData ", r.job_id()));
  }
  // Answers `estimate`; remembers the request.
  absl::StatusOr<cost::v1::CostEstimate> EstimateCost(
      const cost::v1::EstimateCostRequest& r) override {
    absl::Status s = Record(absl::StrCat("EstimateCost ", r.job_id()));
    if (!s.ok()) return s;
    last_estimate_request = r;
    return estimate;
  }
  // Answers the summaries in `summaries` (only job_id for the others).
  absl::StatusOr<std::vector<common::v1::CostSummary>> BatchGetJobCosts(
      const std::vector<std::string>& job_ids) override {
    absl::Status s = Record(absl::StrCat("BatchGetJobCosts ", job_ids.size()));
    if (!s.ok()) return s;
    std::vector<common::v1::CostSummary> out;
    for (const std::string& id : job_ids) {
      auto it = summaries.find(id);
      if (it != summaries.end()) {
        out.push_back(it->second);
      } else {
        out.emplace_back().set_job_id(id);
      }
    }
    return out;
  }
  cost::v1::CostEstimate estimate;
  cost::v1::EstimateCostRequest last_estimate_request;
  // BatchGetJobCosts' answers by job id; FinalizeJobCost's tracker.
  std::map<std::string, common::v1::CostSummary> summaries;
  common::v1::CostTracker final_tracker;
};

class FakeMetrics : public MetricsClient, public Failing {
 public:
  absl::Status IngestEvent(const metrics::v1::IngestEvent& e) override {
    return Record(absl::StrCat("Event ", e.event_id(), " ", e.message()));
  }
  absl::StatusOr<uint64_t> LatestJobSeq(const std::string& job_id) override {
    return latest_job_seq;
  }
  absl::Status DeleteJobData(const std::string& job_id) override {
    return Record(absl::StrCat("DeleteJobData ", job_id));
  }
  // Answers the figures in `progress` (only job_id for the others).
  absl::StatusOr<std::vector<common::v1::Progress>> BatchGetProgress(
      const std::vector<std::string>& job_ids) override {
    absl::Status s = Record(absl::StrCat("BatchGetProgress ", job_ids.size()));
    if (!s.ok()) return s;
    std::vector<common::v1::Progress> out;
    for (const std::string& id : job_ids) {
      auto it = progress.find(id);
      if (it != progress.end()) {
        out.push_back(it->second);
      } else {
        out.emplace_back().set_job_id(id);
      }
    }
    return out;
  }
  uint64_t latest_job_seq = 0;
  std::map<std::string, common::v1::Progress> progress;
};

// Records "TRIGGER job_id: text" (trigger without its prefix).
class FakeNotifier : public Notifier, public Failing {
 public:
  absl::StatusOr<notify::DeliveryOutcome> Notify(
      const v1::Job& job, const internal::Effect& effect) override {
    absl::Status s = Record(absl::StrCat(
        common::v1::NotificationTrigger_Name(effect.notify().trigger())
            .substr(sizeof("NOTIFICATION_TRIGGER_") - 1),
        " ", job.job_id(), ": ", effect.notify().text()));
    if (!s.ok()) return s;
    return notify::DeliveryOutcome{.delivered = true, .attempts = 1};
  }
};

// Pods in memory; creates adopt by name like the real client.
class FakeProvider : public Provider, public Failing {
 public:
  absl::StatusOr<Pod> CreatePod(const PodRequest& request) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, pod] : pods_) {
      if (pod.name == request.name && pod.status != Pod::Status::kTerminated) {
        return pod;
      }
    }
    if (!create_error.ok()) return create_error;
    Pod pod;
    pod.id = absl::StrCat("pod-", pods_.size() + 1);
    pod.name = request.name;
    pod.status = Pod::Status::kRunning;
    pods_[pod.id] = pod;
    requests_[pod.id] = request;
    return pod;
  }
  absl::StatusOr<Pod> GetPod(std::string_view id) override {
    absl::MutexLock l(&mu_);
    auto it = pods_.find(std::string(id));
    if (it == pods_.end()) return absl::NotFoundError("no pod");
    return it->second;
  }
  absl::StatusOr<std::optional<Pod>> FindPodByName(
      std::string_view name) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, pod] : pods_) {
      if (pod.name == name && pod.status != Pod::Status::kTerminated) {
        return pod;
      }
    }
    return std::optional<Pod>();
  }
  absl::Status StopPod(std::string_view id) override {
    absl::MutexLock l(&mu_);
    auto it = pods_.find(std::string(id));
    if (it == pods_.end()) return absl::NotFoundError("no pod");
    it->second.status = Pod::Status::kExited;
    it->second.exit_reason = "stopped";
    return absl::OkStatus();
  }
  absl::Status DeletePod(std::string_view id) override {
    absl::MutexLock l(&mu_);
    auto it = pods_.find(std::string(id));
    if (it != pods_.end()) it->second.status = Pod::Status::kTerminated;
    return absl::OkStatus();
  }
  // Test controls.
  void Exit(const std::string& id, std::string reason) {
    absl::MutexLock l(&mu_);
    pods_[id].status = Pod::Status::kExited;
    pods_[id].exit_reason = std::move(reason);
  }
  int size() const {
    absl::MutexLock l(&mu_);
    return pods_.size();
  }
  PodRequest request(const std::string& id) const {
    absl::MutexLock l(&mu_);
    return requests_.at(id);
  }
  absl::Status create_error;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Pod> pods_;
  std::map<std::string, PodRequest> requests_;
};

}  // namespace trainyard::jobs::testing
