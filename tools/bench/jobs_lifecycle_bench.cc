// Copyright 2026 Trainyard authors.
//
// jobs_lifecycle_bench: job-control driving --jobs (1,000) concurrent jobs on
// gpusim at a high time scale (issue 14): transitions per second and the lag
// from a pod's event to the job's new state.
//
// Real parts: gpusim (a process: pods that post signed webhooks) and
// trainyard-metrics (a process: it stores the webhooks and streams them to
// job-control through WatchEvents). job-control runs in this process as
// trainyard-jobs assembles it (BuildJobs: RocksDB with WAL, effect runner,
// the three stream followers, the RunPod client against gpusim) on the
// suite clock (--time_scale, one origin for all three), so a store observer
// can stamp each transition the moment it is written. The scheduler assigns
// a slot on every Enqueue and cost answers at once (the fakes of
// services/jobs/app/fake_clients.h): the figure is job-control's.
//
// The lag of a transition caused by a container STATUS event (PREPROCESSING,
// MODEL_LOADING, TRAINING, FINALIZING) is the wall time from metrics
// receiving that webhook (its receive_time, suite time mapped back to the
// wall) to job-control writing the job's new state: metrics' WAL write and
// stream, job-control's stream follower, the engine's transition. The
// transitions/s figure counts every state change of every job over the run.
//
// Ends with "RESULT key=value ...".
//
// Wall time is read from std::chrono and RealClock directly: this program is
// a measurement tool.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/config/flags.h"
#include "common/status/status_macros.h"
#include "common/testing/test_server.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/jobs_module.h"
#include "services/jobs/testing/gpusim_process.h"
#include "tools/bench/bench_support.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::bench {
namespace {

namespace v1 = ::trainyard::jobs::v1;
using ::trainyard::auth::Role;
using ::trainyard::common::v1::JobState;
using ::trainyard::testing::TestServer;

struct Flags {
  std::string dir = DefaultTempParent();
  std::string metrics_binary = "build/services/metrics/trainyard-metrics";
  int64_t jobs = 1000;
  double time_scale = 100;
  int64_t conversations = 300;
  double timeout_s = 600;
};

// Assigns a slot at once on every Enqueue.
class AssigningScheduler final : public jobs::testing::FakeScheduler {
 public:
  absl::Status Enqueue(const scheduler::v1::EnqueueRequest& r) override {
    RETURN_IF_ERROR(FakeScheduler::Enqueue(r));
    jobs::AssignmentInput a;
    a.assignment.set_job_id(r.job_id());
    a.assignment.set_attempt(r.attempt());
    return engine->Apply(r.job_id(), a).status();
  }
  jobs::Engine* engine = nullptr;
};

// Every state change of every job, stamped (wall time) when written.
class Transitions {
 public:
  void Observe(const jobs::internal::JobRecord& r) {
    const absl::Time now = wall_.Now();
    absl::MutexLock lock(&mu_);
    JobState& last = last_[r.job().job_id()];
    if (last == r.job().state()) return;
    last = r.job().state();
    ++count_;
    first_.try_emplace(std::make_pair(r.job().job_id(), last), now);
    if (jobs::IsTerminal(last)) ++terminal_;
    if (last == common::v1::JOB_STATE_FAILED) {
      ++failures_[r.job().failure().code()];
    }
  }
  int64_t count() const {
    absl::MutexLock lock(&mu_);
    return count_;
  }
  int64_t terminal() const {
    absl::MutexLock lock(&mu_);
    return terminal_;
  }
  std::optional<absl::Time> When(const std::string& job, JobState s) const {
    absl::MutexLock lock(&mu_);
    auto it = first_.find(std::make_pair(job, s));
    if (it == first_.end()) return std::nullopt;
    return it->second;
  }
  // "COMPLETED=990 FAILED=10 (START_TIMEOUT=10)".
  std::string FinalStates() const {
    absl::MutexLock lock(&mu_);
    std::map<JobState, int64_t> states;
    for (const auto& [job, s] : last_) ++states[s];
    std::string out;
    for (const auto& [s, n] : states) {
      absl::StrAppend(&out, " ", common::v1::JobState_Name(s), "=", n);
    }
    for (const auto& [code, n] : failures_) {
      absl::StrAppend(&out, " failed ", code, "=", n);
    }
    return out;
  }
  int64_t completed() const {
    absl::MutexLock lock(&mu_);
    int64_t n = 0;
    for (const auto& [job, s] : last_)
      n += s == common::v1::JOB_STATE_COMPLETED;
    return n;
  }

 private:
  RealClock wall_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, JobState> last_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, JobState>, absl::Time> first_
      ABSL_GUARDED_BY(mu_);
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t terminal_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int64_t> failures_ ABSL_GUARDED_BY(mu_);
};

// The build tree this program runs from (tools/bench/..): gpusim's home.
std::string BinaryDir() {
  std::error_code ec;
  std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  return self.parent_path().parent_path().parent_path().string();
}

int Run(const Flags& flags, const std::string& dir) {
  RealClock wall;
  const absl::Time origin =
      absl::FromUnixSeconds(absl::ToUnixSeconds(wall.Now()));
  const std::vector<std::string> clock_flags = {
      absl::StrCat("--time_scale=", flags.time_scale),
      absl::StrCat("--time_origin=", absl::ToUnixSeconds(origin))};
  // Suite time back to the wall: wall = origin + (suite - origin) / scale.
  auto to_wall = [&](absl::Time suite) {
    return origin + (suite - origin) / flags.time_scale;
  };

  if (getenv("TRAINYARD_BINARY_DIR") == nullptr) {
    setenv("TRAINYARD_BINARY_DIR", BinaryDir().c_str(), 1);
  }
  std::vector<std::string> sim_flags = clock_flags;
  for (const char* f :
       {"--provision_delay=5s", "--start_delay=5s", "--flush_timeout=30m",
        "--max_pods=1000000", "--sender_threads=8"}) {
    sim_flags.push_back(f);
  }
  auto sim = jobs::testing::GpusimProcess::Start(sim_flags);
  if (!sim.ok()) {
    std::fprintf(stderr, "gpusim: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  std::filesystem::create_directories(dir + "/metrics");
  MetricsServer metrics(
      {FindServer(flags.metrics_binary), clock_flags, "jobs_lifecycle_bench"},
      dir + "/metrics");
  if (absl::Status s = metrics.Start(); !s.ok()) {
    std::fprintf(stderr, "metrics: %s\n", s.ToString().c_str());
    return 1;
  }

  TestServer server(jobs::JobsColumnFamilies(), [&](server::ServerConfig& c) {
    c.data_dir = dir + "/jobs-db";
  });
  ScaledClock suite(wall, origin, flags.time_scale);
  jobs::JobsConfig config;
  config.webhook_master_key_file = dir + "/metrics/master.key";
  config.service_token_file = dir + "/metrics/tokens";
  config.provider_base_url = sim->base_url();
  config.webhook_base_url = metrics.admin_url();
  config.metrics_address = metrics.grpc_address();
  config.pod_poll_interval = absl::Seconds(10);
  AssigningScheduler scheduler;
  jobs::testing::FakeCost cost;
  Transitions transitions;
  jobs::JobsOverrides o;
  o.scheduler = &scheduler;
  o.cost = &cost;
  o.on_engine = [&](jobs::Engine& e) {
    scheduler.engine = &e;
    e.store().AddObserver(
        [&](const jobs::internal::JobRecord& r) { transitions.Observe(r); });
  };
  server::ServiceContext ctx{server.config(), server.logger(), suite, wall,
                             server.db(),     server.host()};
  auto module = jobs::BuildJobs(ctx, config, o);
  if (!module.ok() || !(*module)->Warmup().ok() || !server.Start().ok()) {
    std::fprintf(stderr, "job-control did not start: %s\n",
                 module.status().ToString().c_str());
    return 1;
  }
  server.host().MarkServing();
  std::printf(
      "gpusim %s and trainyard-metrics (processes), job-control in process "
      "(RocksDB WAL on, loopback gRPC); suite time x%.0f; %lld jobs of %lld "
      "conversations, 1 epoch, H100 on-demand\n",
      sim->base_url().c_str(), flags.time_scale,
      static_cast<long long>(flags.jobs),
      static_cast<long long>(flags.conversations));

  auto stub = v1::JobService::NewStub(server.Channel());
  std::vector<std::string> ids;
  // This process's CPU and trainyard-metrics', over the whole run.
  Interval run(metrics.pid());
  const auto start = SteadyClock::now();
  for (int64_t i = 0; i < flags.jobs; ++i) {
    v1::CreateJobRequest req;
    req.set_request_id(absl::StrCat("life-", i));
    auto* s = req.mutable_spec();
    s->set_display_name(absl::StrCat("life-", i));
    auto* c = s->mutable_config();
    c->set_base_model("meta-llama/Meta-Llama-3-8B");
    c->mutable_dataset()->set_uri("s3://data/x.jsonl");
    c->mutable_dataset()->set_conversations(flags.conversations);
    c->mutable_hyperparameters()->set_epochs(1);
    c->set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
    c->set_pricing(common::v1::PRICING_ON_DEMAND);
    grpc::ClientContext cctx;
    TestServer::Authorize(cctx, Role::kEngineer);
    v1::CreateJobResponse resp;
    grpc::Status st = stub->CreateJob(&cctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "CreateJob: %s\n", st.error_message().c_str());
      return 1;
    }
    ids.push_back(resp.job().job_id());
  }
  const double submit_s = SecondsSince(start);
  // Until every job is terminal (or the time budget is spent); the busiest
  // second's transitions on the way.
  int64_t peak = 0, last_count = 0;
  while (transitions.terminal() < flags.jobs &&
         SecondsSince(start) < flags.timeout_s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const int64_t n = transitions.count();
    peak = std::max(peak, n - last_count);
    last_count = n;
  }
  run.Stop();
  const double run_s = run.wall();
  const double cpu = run.self_cpu();
  const double metrics_cpu = run.server_cpu();
  const int64_t count = transitions.count();

  // Lags: metrics' receive of each stage's first STATUS webhook -> the job's
  // state written by job-control.
  std::vector<double> lag_ms;
  int64_t unmatched = 0;
  for (const std::string& id : ids) {
    metrics::v1::ListEventsRequest req;
    req.set_job_id(id);
    req.mutable_query()->add_types(common::v1::EVENT_TYPE_STATUS);
    req.set_filter("source = CONTAINER");
    req.set_page_size(100);
    std::map<JobState, absl::Time> received;
    for (;;) {
      grpc::ClientContext cctx;
      metrics.AuthorizeViewer(cctx);
      metrics::v1::ListEventsResponse resp;
      if (!metrics.stub().ListEvents(&cctx, req, &resp).ok()) break;
      for (const auto& m : resp.events()) {
        const JobState s = jobs::StateOfStage(m.event().status().stage());
        if (s != common::v1::JOB_STATE_UNSPECIFIED) {
          received.try_emplace(s, to_wall(FromProto(m.event().receive_time())));
        }
      }
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    for (const auto& [state, t] : received) {
      std::optional<absl::Time> written = transitions.When(id, state);
      if (!written) {
        ++unmatched;
        continue;
      }
      lag_ms.push_back(absl::ToDoubleMilliseconds(*written - t));
    }
  }
  const Percentiles lag = Summarize(lag_ms);
  const std::string finals = transitions.FinalStates();
  std::printf(
      "submitted %lld jobs in %.2f s; %lld transitions in %.2f s = %.0f/s "
      "(busiest second %lld)\n"
      "final states:%s\n"
      "STATUS webhook received by metrics -> job state written: %s "
      "(%lld stage states without a matching write)\n"
      "CPU: this process (job-control + client) %.2f s = %.1f us per "
      "transition; trainyard-metrics %.2f s\n",
      static_cast<long long>(flags.jobs), submit_s,
      static_cast<long long>(count), run_s, count / run_s,
      static_cast<long long>(peak), finals.c_str(), Describe(lag).c_str(),
      static_cast<long long>(unmatched), cpu, count > 0 ? 1e6 * cpu / count : 0,
      metrics_cpu);
  std::printf(
      "RESULT jobs=%lld completed=%lld transitions=%lld transitions_per_s=%.0f "
      "peak_per_s=%lld lag_p50_ms=%.2f lag_p99_ms=%.2f lag_n=%zu "
      "cpu_us_per_transition=%.1f\n",
      static_cast<long long>(flags.jobs),
      static_cast<long long>(transitions.completed()),
      static_cast<long long>(count), count / run_s,
      static_cast<long long>(peak), lag.p50, lag.p99, lag.n,
      count > 0 ? 1e6 * cpu / count : 0);
  server.Shutdown();
  (void)metrics.Stop();
  // Every job completes unless the machine cannot keep up with the time
  // scale (timeouts run in suite time: see the failure codes).
  return transitions.completed() == flags.jobs ? 0 : 1;
}

}  // namespace
}  // namespace trainyard::bench

int main(int argc, char** argv) {
  trainyard::bench::Flags flags;
  trainyard::config::FlagSet set("jobs_lifecycle_bench");
  trainyard::bench::AddDirFlag(set, &flags.dir);
  set.AddString("metrics_binary", "trainyard-metrics to start",
                &flags.metrics_binary);
  set.AddInt("jobs", "concurrent jobs", &flags.jobs).Range(1, 100000);
  set.AddDouble("time_scale", "suite seconds per wall second",
                &flags.time_scale)
      .Range(1, 100000);
  set.AddInt("conversations", "dataset size of each job (sets its steps)",
             &flags.conversations)
      .Range(10, 10000000);
  set.AddDouble("timeout_s", "wall-time budget of the run", &flags.timeout_s)
      .Range(1, 86400);
  return trainyard::bench::RunInTempDir(
      set, argc, argv, flags.dir, "jobs_lifecycle_bench",
      [&](const std::string& dir) {
        return trainyard::bench::Run(flags, dir);
      });
}
