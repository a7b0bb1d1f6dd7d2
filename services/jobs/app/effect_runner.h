// Copyright 2026 Trainyard authors.
//
// Runs the outbox: for each job and callee, its oldest effect, until it
// succeeds. An
// effect that fails (the callee is down, answers UNIMPLEMENTED, times out)
// stays in the outbox and is retried with back-off (wall time) without
// blocking other jobs or the lifecycle. Effects whose answer matters (a pod
// was created, a queue removal raced an assignment, a meter's id, a deleted
// pod's state) are fed back to the engine as inputs in the same write batch
// that removes the outbox entry.
//
// Also the job's periodic work: timer ticks (timeouts, back-offs,
// re-DELETEs) and pod polling (--pod_poll_interval).
//
// Thread-safe. RunOnce/TickOnce/PollOnce are for tests and the loop thread.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/jobs/app/clients.h"
#include "services/jobs/app/engine.h"
#include "services/jobs/app/jobs_metrics.h"
#include "services/jobs/provider/provider.h"

namespace trainyard::jobs {

struct RunnerOptions {
  // The container image and where pods report: metrics' admin base URL,
  // one per metrics shard (entry i for shard i); a pod gets its job's
  // shard's (common/shard).
  std::string trainer_image = "trainyard/lora-trainer:1";
  std::vector<std::string> webhook_base_urls = {"http://127.0.0.1:7113"};
  // Raw master key bytes: each pod gets its job's derived secret.
  std::string webhook_master_key;
  // Back-off of a failing effect (wall time): initial, doubling, cap.
  absl::Duration retry_initial = absl::Milliseconds(500);
  absl::Duration retry_max = absl::Seconds(30);
  // Suite time between polls of a job's pod.
  absl::Duration pod_poll_interval = absl::Seconds(10);
  // Wall time between loop rounds when nothing wakes the loop.
  absl::Duration loop_interval = absl::Milliseconds(200);
  // Gauges and provider-call counts; may be null.
  JobsMetrics* metrics = nullptr;
};

class EffectRunner {
 public:
  // `wall_clock` times back-offs and the loop (RPC retries run in wall
  // time); the engine's clock (suite time) times pod polls.
  EffectRunner(const Clock& wall_clock, Engine& engine, Provider& provider,
               SchedulerClient& scheduler, CostClient& cost,
               MetricsClient& metrics, Notifier& notifier,
               RunnerOptions options);
  ~EffectRunner();

  // Runs the head effect of every job and lane whose back-off has passed;
  // returns the
  // number of effects completed.
  int RunOnce();
  // Sends a TimerTick to every job with a timer due.
  void TickOnce();
  // Polls the pods of active jobs whose poll is due (all with `force`).
  void PollOnce(bool force = false);

  // The loop thread: RunOnce, TickOnce, PollOnce, then sleep until Wake() or
  // loop_interval.
  void Start();
  void Stop();
  void Wake();

 private:
  absl::Status Execute(const OutboxEntry& entry);
  absl::Status ObservePod(const std::string& job_id, const Pod& pod,
                          std::vector<std::string> done);
  absl::Status ExecuteCreatePod(const OutboxEntry& entry);
  absl::Status ExecuteDeletePod(const OutboxEntry& entry);
  void Count(std::string_view operation, const absl::Status& outcome);

  const Clock& wall_;
  Engine& engine_;
  Provider& provider_;
  SchedulerClient& scheduler_;
  CostClient& cost_;
  MetricsClient& metrics_;
  Notifier& notifier_;
  const RunnerOptions options_;

  struct Backoff {
    absl::Time next;
    absl::Duration delay;
    absl::Time since;  // first failure
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Backoff> backoff_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> last_poll_ ABSL_GUARDED_BY(mu_);
  absl::CondVar wake_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace trainyard::jobs
