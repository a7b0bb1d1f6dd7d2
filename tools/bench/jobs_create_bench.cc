// Copyright 2026 Trainyard authors.
//
// jobs_create_bench: CreateJob throughput of job-control (issue 14, goal
// >= 2,000 creates/s with request_id dedupe, WAL on). job-control runs in
// this process exactly as trainyard-jobs assembles it (BuildJobs: store,
// engine, effect runner, list index, gRPC service) on a real RocksDB (WAL on,
// no fsync: the service default) in --dir, served over real loopback gRPC.
// Its peers are the in-memory fakes of services/jobs/app/fake_clients.h, so
// the effect runner drains each create's outbox (cost.RegisterJob,
// scheduler.Enqueue, the "queued" event) as it would against answering
// services, and the figure is job-control's own.
//
//   1. creates: --threads client threads, each with its own channel, send
//      CreateJob with a fresh request_id (every call pays the dedupe lookup)
//      for --seconds; beside them a paced thread sends GetJob (a point read:
//      the trivial unary call) --trivial_rate times a second. Reports
//      creates/s, latency percentiles of both, and CPU per create: the
//      process's CPU less the client threads' own (the rest is the server:
//      handlers, RocksDB, effect runner, list index; gRPC's shared threads
//      count as server, so the figure is an upper bound).
//   2. retries: the same threads send CreateJob again with request_ids of
//      phase 1 for --seconds: each answers the job it made (dedupe hit).
//   3. concurrent duplicates: --dup_ids request_ids, each sent by every
//      client thread at once (released together): every answer for one
//      request_id names the same job, and the store holds one job per id.
//
// Ends with "RESULT key=value ...".
//
// Wall time is read from std::chrono::steady_clock directly: this program is
// a measurement tool, not service code behind the injected Clock.
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/mutex.h"
#include "common/config/flags.h"
#include "common/testing/test_server.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/jobs_module.h"
#include "tools/bench/bench_support.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::bench {
namespace {

namespace v1 = ::trainyard::jobs::v1;
using ::trainyard::auth::Role;
using ::trainyard::testing::TestServer;
using Stub = v1::JobService::Stub;

struct Flags {
  std::string dir = DefaultTempParent();
  int64_t threads = 8;
  double seconds = 10;
  int64_t trivial_rate = 200;
  int64_t dup_ids = 200;
};

v1::CreateJobRequest CreateRequest(const std::string& request_id) {
  v1::CreateJobRequest r;
  r.set_request_id(request_id);
  v1::JobSpec* s = r.mutable_spec();
  s->set_display_name("bench support-bot");
  s->add_tags("bench");
  auto* c = s->mutable_config();
  c->set_base_model("meta-llama/Meta-Llama-3-8B");
  c->mutable_dataset()->set_uri("s3://data/support.jsonl");
  c->mutable_dataset()->set_conversations(10000);
  c->set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
  return r;
}

// One CreateJob; the job id, or "" on error (printed once per thread).
std::string Create(Stub& stub, const std::string& request_id, bool* warned) {
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, Role::kEngineer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::CreateJobResponse resp;
  grpc::Status s = stub.CreateJob(&ctx, CreateRequest(request_id), &resp);
  if (!s.ok()) {
    if (!*warned)
      std::fprintf(stderr, "CreateJob: %s\n", s.error_message().c_str());
    *warned = true;
    return "";
  }
  return resp.job().job_id();
}

struct PhaseResult {
  int64_t calls = 0, errors = 0;
  std::vector<double> ms;
  std::vector<double> trivial_ms;
  double wall = 0, process_cpu = 0, client_cpu = 0;
};

// --threads threads calling `call(thread, i)` for --seconds, and the paced
// GetJob of `probe` beside them.
PhaseResult RunPhase(const Flags& flags, TestServer& server,
                     const std::string& probe,
                     const std::function<bool(Stub&, int, int64_t)>& call) {
  PhaseResult out;
  std::atomic<bool> stop = false;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  const double cpu0 = SelfCpuSeconds();
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt("bench.channel", t);  // a connection of its own
      auto stub = v1::JobService::NewStub(server.Channel(args));
      const double c0 = ThreadCpuSeconds();
      std::vector<double> ms;
      int64_t errors = 0;
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto t0 = SteadyClock::now();
        if (!call(*stub, t, i)) ++errors;
        ms.push_back(MillisBetween(t0, SteadyClock::now()));
      }
      const double c1 = ThreadCpuSeconds();
      absl::MutexLock lock(&mu);
      out.calls += ms.size();
      out.errors += errors;
      out.ms.insert(out.ms.end(), ms.begin(), ms.end());
      out.client_cpu += c1 - c0;
    });
  }
  std::thread trivial([&] {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", -1);
    auto stub = v1::JobService::NewStub(server.Channel(args));
    const double c0 = ThreadCpuSeconds();
    Pacer pacer(std::chrono::microseconds(1000000 / flags.trivial_rate));
    std::vector<double> ms;
    while (!stop.load(std::memory_order_relaxed)) {
      pacer.Wait();
      grpc::ClientContext ctx;
      TestServer::Authorize(ctx, Role::kViewer);
      v1::GetJobRequest req;
      req.set_job_id(probe);
      v1::GetJobResponse resp;
      const auto t0 = SteadyClock::now();
      if (stub->GetJob(&ctx, req, &resp).ok()) {
        ms.push_back(MillisBetween(t0, SteadyClock::now()));
      }
    }
    const double c1 = ThreadCpuSeconds();
    absl::MutexLock lock(&mu);
    out.trivial_ms = std::move(ms);
    out.client_cpu += c1 - c0;
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  trivial.join();
  out.wall = SecondsSince(start);
  out.process_cpu = SelfCpuSeconds() - cpu0;
  return out;
}

void Report(const char* what, const PhaseResult& r) {
  const double rate = r.calls / r.wall;
  const double server_cpu = r.process_cpu - r.client_cpu;
  std::printf(
      "%s: %lld calls (%lld errors) in %.2f s = %.0f/s\n"
      "  latency: %s\n"
      "  GetJob beside it: %s\n"
      "  CPU: process %.2f s (%.2f cores), client threads %.2f s; "
      "server %.1f us per call\n",
      what, static_cast<long long>(r.calls), static_cast<long long>(r.errors),
      r.wall, rate, Describe(Summarize(r.ms)).c_str(),
      Describe(Summarize(r.trivial_ms)).c_str(), r.process_cpu,
      r.process_cpu / r.wall, r.client_cpu,
      r.calls > 0 ? 1e6 * server_cpu / r.calls : 0);
}

// Phase 3: every thread sends each of --dup_ids request_ids at once. True
// when every answer for an id names one job, the store maps the id to it,
// and exactly --dup_ids jobs were added.
bool ConcurrentDuplicates(const Flags& flags, TestServer& server,
                          jobs::Engine& engine, int64_t* jobs_added) {
  const int n = static_cast<int>(flags.threads);
  std::vector<std::unique_ptr<Stub>> stubs;
  for (int t = 0; t < n; ++t) {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", 1000 + t);
    stubs.push_back(v1::JobService::NewStub(server.Channel(args)));
  }
  absl::StatusOr<std::vector<jobs::internal::JobRecord>> before =
      engine.store().ListJobs();
  if (!before.ok()) return false;
  bool ok = true;
  for (int64_t k = 0; k < flags.dup_ids; ++k) {
    const std::string request_id = absl::StrCat("dup-", k);
    absl::Barrier* barrier = new absl::Barrier(n);
    std::vector<std::string> answers(n);
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        if (barrier->Block()) delete barrier;
        bool warned = false;
        answers[t] = Create(*stubs[t], request_id, &warned);
      });
    }
    for (auto& t : threads) t.join();
    for (const std::string& a : answers) {
      if (a.empty() || a != answers[0]) ok = false;
    }
    absl::StatusOr<std::optional<std::string>> stored =
        engine.store().FindCreateRequest(request_id);
    if (!stored.ok() || !*stored || **stored != answers[0]) ok = false;
  }
  absl::StatusOr<std::vector<jobs::internal::JobRecord>> after =
      engine.store().ListJobs();
  if (!after.ok()) return false;
  *jobs_added = static_cast<int64_t>(after->size() - before->size());
  ok = ok && *jobs_added == flags.dup_ids;
  std::printf(
      "concurrent duplicates: %lld request_ids, each sent by %d threads at "
      "once: %lld jobs added; %s\n",
      static_cast<long long>(flags.dup_ids), n,
      static_cast<long long>(*jobs_added),
      ok ? "every answer for an id names its one job" : "MISMATCH");
  return ok;
}

int Run(const Flags& flags, const std::string& dir) {
  TestServer server(jobs::JobsColumnFamilies(),
                    [&](server::ServerConfig& c) { c.data_dir = dir + "/db"; });
  jobs::testing::FakeProvider provider;
  jobs::testing::FakeScheduler scheduler;
  jobs::testing::FakeCost cost;
  jobs::testing::FakeMetrics metrics;
  jobs::JobsConfig config;
  config.webhook_master_key_file = dir + "/master.key";
  std::ofstream(config.webhook_master_key_file)
      << "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm\n";
  jobs::JobsOverrides o{&provider,
                        &scheduler,
                        &cost,
                        &metrics,
                        /*no_streams=*/true,
                        /*no_runner_thread=*/false};
  jobs::Engine* engine = nullptr;
  o.on_engine = [&](jobs::Engine& e) { engine = &e; };
  server::ServiceContext ctx = server.Context();
  auto module = jobs::BuildJobs(ctx, config, o);
  if (!module.ok()) {
    std::fprintf(stderr, "BuildJobs: %s\n", module.status().ToString().c_str());
    return 1;
  }
  if (!(*module)->Warmup().ok() || !server.Start().ok()) return 1;
  server.host().MarkServing();
  std::printf(
      "job-control in process: RocksDB in %s/db (WAL on, sync_writes off), "
      "loopback gRPC, %lld RPC threads; fake scheduler, cost, metrics and "
      "provider; %lld client threads, GetJob at %lld/s beside them\n",
      dir.c_str(), static_cast<long long>(server.config().rpc_threads),
      static_cast<long long>(flags.threads),
      static_cast<long long>(flags.trivial_rate));

  auto probe_stub = v1::JobService::NewStub(server.Channel());
  bool warned = false;
  const std::string probe = Create(*probe_stub, "probe", &warned);
  if (probe.empty()) return 1;

  std::vector<std::atomic<int64_t>> made(flags.threads);
  PhaseResult creates =
      RunPhase(flags, server, probe, [&](Stub& stub, int t, int64_t i) {
        bool w = true;
        bool ok = !Create(stub, absl::StrCat("c-", t, "-", i), &w).empty();
        if (ok) made[t] = i + 1;
        return ok;
      });
  Report("creates (fresh request_id)", creates);

  PhaseResult retries =
      RunPhase(flags, server, probe, [&](Stub& stub, int t, int64_t i) {
        bool w = true;
        const int64_t n = std::max<int64_t>(made[t], 1);
        return !Create(stub, absl::StrCat("c-", t, "-", i % n), &w).empty();
      });
  Report("retries (request_id seen: dedupe hit)", retries);

  int64_t distinct = 0;
  const bool dup_ok = ConcurrentDuplicates(flags, server, *engine, &distinct);

  // Outbox drained: every create's effects ran against the fakes.
  absl::StatusOr<int64_t> outbox = engine->store().OutboxSize();
  std::printf("outbox after the run: %lld entries\n",
              static_cast<long long>(outbox.ok() ? *outbox : -1));

  const Percentiles c = Summarize(creates.ms);
  const Percentiles g = Summarize(creates.trivial_ms);
  std::printf(
      "RESULT creates_per_s=%.0f create_p50_ms=%.2f create_p99_ms=%.2f "
      "getjob_p50_ms=%.2f getjob_p99_ms=%.2f server_cpu_us_per_create=%.1f "
      "retries_per_s=%.0f dup_ids=%lld dup_jobs_added=%lld dup_ok=%d "
      "errors=%lld\n",
      creates.calls / creates.wall, c.p50, c.p99, g.p50, g.p99,
      creates.calls > 0
          ? 1e6 * (creates.process_cpu - creates.client_cpu) / creates.calls
          : 0,
      retries.calls / retries.wall, static_cast<long long>(flags.dup_ids),
      static_cast<long long>(distinct), dup_ok ? 1 : 0,
      static_cast<long long>(creates.errors + retries.errors));
  server.Shutdown();
  return dup_ok && creates.errors == 0 && retries.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace trainyard::bench

int main(int argc, char** argv) {
  trainyard::bench::Flags flags;
  trainyard::config::FlagSet set("jobs_create_bench");
  trainyard::bench::AddDirFlag(set, &flags.dir);
  set.AddInt("threads", "client threads sending CreateJob", &flags.threads)
      .Range(1, 256);
  set.AddDouble("seconds", "length of each timed phase", &flags.seconds)
      .Range(0.5, 3600);
  set.AddInt("trivial_rate", "GetJob calls per second beside the creates",
             &flags.trivial_rate)
      .Range(1, 10000);
  set.AddInt("dup_ids", "request_ids sent concurrently by every thread",
             &flags.dup_ids)
      .Range(1, 100000);
  return trainyard::bench::RunInTempDir(
      set, argc, argv, flags.dir, "jobs_create_bench",
      [&](const std::string& dir) {
        return trainyard::bench::Run(flags, dir);
      });
}
