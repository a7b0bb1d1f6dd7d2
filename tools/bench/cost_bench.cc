// Copyright 2026 Trainyard authors.
//
// cost_bench: figures of trainyard-cost (issue 12). Starts a real
// `trainyard-cost` (temp data dir, WAL on, no fsync, open mode on loopback,
// no metrics address: projections come from the estimate) and drives it over
// gRPC from this process:
//
//   1. registers --jobs (10,000) jobs and opens an ACTIVE meter on each;
//   2. meter throughput: --meter_threads (4) threads, each on jobs of its own,
//      repeat OpenMeter (a fresh request_id, so every call pays the dedupe
//      lookup) + CloseMeter for --meter_seconds (5 s); reports ops/s and the
//      server's CPU per op (/proc/<pid>/stat);
//   3. GetJobCost on random jobs of the 10,000 holding open meters,
//      alternating with GetRateCard (a trivial unary call) in the same loop,
//      --calls (20,000) each: client latency percentiles of both, their p99
//      ratio, and the server time of GetJobCost from the server's own
//      grpc_server_handling_seconds histogram (share of calls under 0.5 ms and
//      1 ms; buckets 0.5, 1, 2.5 ms ...);
//   4. BatchGetJobCosts of 100 random ids, --batch_calls (2,000): client
//      latency percentiles and the server-side histogram shares under 2.5 and
//      5 ms.
// Ends with "RESULT key=value ...".
#include <grpcpp/grpcpp.h>
#include <stdio.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/flags.h"
#include "common/http/client.h"
#include "tools/bench/bench_support.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"

namespace trainyard::bench {
namespace {

namespace v1 = ::trainyard::cost::v1;

struct Flags {
  std::string binary = "build/services/cost/trainyard-cost";
  std::string dir = DefaultTempParent();
  int64_t jobs = 10000;
  int64_t calls = 20000;
  int64_t batch_calls = 2000;
  int64_t meter_threads = 4;
  int64_t meter_seconds = 5;
  bool keep = false;
};

// Cumulative bucket counts of grpc_server_handling_seconds for `method`,
// keyed by upper bound (seconds; +Inf as 1e9).
std::map<double, double> HandlingBuckets(http::HttpClient& admin,
                                         const std::string& method) {
  std::map<double, double> out;
  absl::StatusOr<http::HttpResponse> r =
      admin.Send(http::Method::kGet, "/metrics");
  if (!r.ok()) return out;
  const std::string needle = absl::StrCat("grpc_method=\"", method, "\"");
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (!absl::StartsWith(line, "grpc_server_handling_seconds_bucket") ||
        line.find(needle) == absl::string_view::npos) {
      continue;
    }
    const size_t le = line.find("le=\"");
    const size_t end = line.find('"', le + 4);
    const size_t space = line.rfind(' ');
    absl::string_view bound = line.substr(le + 4, end - le - 4);
    double b = 1e9, count = 0;
    if (bound != "+Inf" && !absl::SimpleAtod(bound, &b)) continue;
    if (!absl::SimpleAtod(line.substr(space + 1), &count)) continue;
    out[b] += count;
  }
  return out;
}

// Share of the calls between two scrapes that finished within `bound`.
double ShareWithin(const std::map<double, double>& before,
                   const std::map<double, double>& after, double bound) {
  auto at = [](const std::map<double, double>& m, double b) {
    auto it = m.find(b);
    return it == m.end() ? 0.0 : it->second;
  };
  const double total = at(after, 1e9) - at(before, 1e9);
  return total > 0 ? (at(after, bound) - at(before, bound)) / total : 0;
}

common::v1::TrainingConfig Config() {
  common::v1::TrainingConfig c;
  c.set_base_model("meta-llama/Meta-Llama-3-8B");
  c.mutable_dataset()->set_conversations(100000);
  c.set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
  c.set_pricing(common::v1::PRICING_SPOT);
  return c;
}

void Deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

int Run(const Flags& f, const std::string& dir) {
  std::unique_ptr<trainyard::testing::ServiceProcess> server =
      BenchProcess(dir, f.binary, {});
  if (absl::Status s = server->Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("server: %s\n", server->CommandLine().c_str());
  auto stub = v1::CostService::NewStub(BenchChannel(server->GrpcAddress(), 0));
  http::HttpClient admin(server->AdminUrl());

  // 1. Jobs with open meters, loaded from a few threads.
  auto load_start = SteadyClock::now();
  std::atomic<int64_t> next{0}, failures{0};
  std::vector<std::thread> loaders;
  for (int t = 0; t < 4; ++t) {
    loaders.emplace_back([&] {
      for (int64_t i = next++; i < f.jobs; i = next++) {
        const std::string id = absl::StrCat("job-", i);
        grpc::ClientContext c1;
        Deadline(c1);
        v1::RegisterJobRequest reg;
        reg.set_job_id(id);
        *reg.mutable_config() = Config();
        v1::RegisterJobResponse reg_resp;
        grpc::ClientContext c2;
        Deadline(c2);
        v1::OpenMeterRequest open;
        open.set_request_id(absl::StrCat(id, "/1/active"));
        open.set_job_id(id);
        open.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
        open.set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
        v1::OpenMeterResponse opened;
        if (!stub->RegisterJob(&c1, reg, &reg_resp).ok() ||
            !stub->OpenMeter(&c2, open, &opened).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : loaders) t.join();
  std::printf("loaded %lld jobs with open meters in %.1f s (%lld failures)\n",
              static_cast<long long>(f.jobs), SecondsSince(load_start),
              static_cast<long long>(failures.load()));

  // 2. Meter open/close throughput with request_id dedupe.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ops{0}, op_failures{0};
  std::vector<std::thread> meters;
  for (int t = 0; t < f.meter_threads; ++t) {
    const std::string id = absl::StrCat("meters-", t);
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::RegisterJobRequest reg;
    reg.set_job_id(id);
    *reg.mutable_config() = Config();
    v1::RegisterJobResponse reg_resp;
    if (!stub->RegisterJob(&ctx, reg, &reg_resp).ok()) ++op_failures;
    meters.emplace_back([&, id] {
      for (int64_t n = 0; !stop.load(); ++n) {
        grpc::ClientContext c1;
        Deadline(c1);
        v1::OpenMeterRequest open;
        open.set_request_id(absl::StrCat(id, "/", n));
        open.set_job_id(id);
        open.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
        open.set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
        v1::OpenMeterResponse opened;
        if (!stub->OpenMeter(&c1, open, &opened).ok()) {
          ++op_failures;
          continue;
        }
        grpc::ClientContext c2;
        Deadline(c2);
        v1::CloseMeterRequest close;
        close.set_meter_id(opened.meter().meter_id());
        close.set_reason(v1::METER_CLOSE_REASON_COMPLETED);
        v1::CloseMeterResponse closed;
        if (!stub->CloseMeter(&c2, close, &closed).ok()) ++op_failures;
        ops += 2;
      }
    });
  }
  Interval meter(server->pid());
  std::this_thread::sleep_for(std::chrono::seconds(f.meter_seconds));
  const int64_t counted = ops.load();
  meter.Stop();
  const double meter_wall = meter.wall();
  const double meter_cpu = meter.server_cpu();
  stop = true;
  for (std::thread& t : meters) t.join();
  const double ops_per_s = counted / meter_wall;
  const double cpu_us_per_op = counted > 0 ? meter_cpu / counted * 1e6 : 0;
  std::printf(
      "meters: %lld open+close ops in %.2f s = %.0f ops/s over %lld threads; "
      "server CPU %.2f s = %.0f us/op (%lld failures)\n",
      static_cast<long long>(counted), meter_wall, ops_per_s,
      static_cast<long long>(f.meter_threads), meter_cpu, cpu_us_per_op,
      static_cast<long long>(op_failures.load()));

  // 3. GetJobCost vs GetRateCard, alternating.
  std::mt19937_64 rng(42);
  std::vector<double> cost_ms, card_ms;
  auto cost_before = HandlingBuckets(admin, "GetJobCost");
  auto card_before = HandlingBuckets(admin, "GetRateCard");
  int64_t call_failures = 0;
  // Failures are counted, not fatal.
  TimeBesideTrivial(
      f.calls,
      [&] {
        grpc::ClientContext ctx;
        Deadline(ctx);
        v1::GetJobCostRequest req;
        req.set_job_id(absl::StrCat("job-", rng() % f.jobs));
        v1::GetJobCostResponse resp;
        if (!stub->GetJobCost(&ctx, req, &resp).ok()) ++call_failures;
        return true;
      },
      [&] {
        grpc::ClientContext ctx;
        Deadline(ctx);
        v1::GetRateCardResponse resp;
        if (!stub->GetRateCard(&ctx, {}, &resp).ok()) ++call_failures;
        return true;
      },
      &cost_ms, &card_ms);
  auto cost_after = HandlingBuckets(admin, "GetJobCost");
  auto card_after = HandlingBuckets(admin, "GetRateCard");
  const Percentiles cost_p = Summarize(cost_ms);
  const Percentiles card_p = Summarize(card_ms);
  std::printf("GetJobCost (client): %s\n", Describe(cost_p).c_str());
  std::printf("GetRateCard (client): %s\n", Describe(card_p).c_str());
  std::printf(
      "GetJobCost server time: %.2f%% <= 0.5 ms, %.2f%% <= 1 ms; GetRateCard: "
      "%.2f%% <= 0.5 ms, %.2f%% <= 1 ms; p99 ratio GetJobCost/GetRateCard "
      "(client) %.2f; %lld failures\n",
      100 * ShareWithin(cost_before, cost_after, 0.0005),
      100 * ShareWithin(cost_before, cost_after, 0.001),
      100 * ShareWithin(card_before, card_after, 0.0005),
      100 * ShareWithin(card_before, card_after, 0.001),
      card_p.p99 > 0 ? cost_p.p99 / card_p.p99 : 0,
      static_cast<long long>(call_failures));

  // 4. BatchGetJobCosts of 100.
  std::vector<double> batch_ms;
  auto batch_before = HandlingBuckets(admin, "BatchGetJobCosts");
  for (int64_t i = 0; i < f.batch_calls; ++i) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::BatchGetJobCostsRequest req;
    for (int j = 0; j < 100; ++j) {
      req.add_job_ids(absl::StrCat("job-", rng() % f.jobs));
    }
    v1::BatchGetJobCostsResponse resp;
    auto a = SteadyClock::now();
    if (!stub->BatchGetJobCosts(&ctx, req, &resp).ok()) ++call_failures;
    batch_ms.push_back(MillisBetween(a, SteadyClock::now()));
  }
  auto batch_after = HandlingBuckets(admin, "BatchGetJobCosts");
  const Percentiles batch_p = Summarize(batch_ms);
  std::printf("BatchGetJobCosts x100 (client): %s\n",
              Describe(batch_p).c_str());
  std::printf(
      "BatchGetJobCosts server time: %.2f%% <= 2.5 ms, %.2f%% <= 5 ms\n",
      100 * ShareWithin(batch_before, batch_after, 0.0025),
      100 * ShareWithin(batch_before, batch_after, 0.005));

  const absl::Status stopped = server->Stop();
  std::printf("server exit: %s\n",
              stopped.ok() ? "0" : stopped.ToString().c_str());
  std::printf(
      "RESULT jobs=%lld getjobcost_p50_ms=%.3f getjobcost_p99_ms=%.3f "
      "getratecard_p99_ms=%.3f p99_ratio=%.2f "
      "getjobcost_server_le_1ms=%.4f batch100_p50_ms=%.3f "
      "batch100_p99_ms=%.3f batch100_server_le_5ms=%.4f meter_ops_per_s=%.0f "
      "meter_server_cpu_us_per_op=%.0f\n",
      static_cast<long long>(f.jobs), cost_p.p50, cost_p.p99, card_p.p99,
      card_p.p99 > 0 ? cost_p.p99 / card_p.p99 : 0,
      ShareWithin(cost_before, cost_after, 0.001), batch_p.p50, batch_p.p99,
      ShareWithin(batch_before, batch_after, 0.005), ops_per_s, cpu_us_per_op);
  return stopped.ok() ? 0 : 1;
}

}  // namespace
}  // namespace trainyard::bench

int main(int argc, char** argv) {
  using namespace trainyard::bench;
  Flags f;
  trainyard::config::FlagSet flags("cost_bench");
  flags.AddString("server_binary", "trainyard-cost to run", &f.binary);
  AddDirFlag(flags, &f.dir);
  flags.AddInt("jobs", "jobs holding open meters", &f.jobs).Range(1, 1000000);
  flags.AddInt("calls", "GetJobCost (and GetRateCard) calls", &f.calls)
      .Range(1, 10000000);
  flags.AddInt("batch_calls", "BatchGetJobCosts calls of 100", &f.batch_calls)
      .Range(1, 1000000);
  flags
      .AddInt("meter_threads", "meter open/close client threads",
              &f.meter_threads)
      .Range(1, 64);
  flags.AddInt("meter_seconds", "meter throughput duration", &f.meter_seconds)
      .Range(1, 3600);
  flags.AddBool("keep", "keep the data dir", &f.keep);
  return RunInTempDir(
      flags, argc, argv, f.dir, "cost_bench",
      [&f](const std::string& dir) { return Run(f, dir); }, f.keep);
}
