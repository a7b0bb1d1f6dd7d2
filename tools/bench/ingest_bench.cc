// Copyright 2026 Trainyard authors.
//
// ingest_bench: end-to-end figures of metrics-ingest. Starts a real
// `trainyard-metrics` process (temp data dir, WAL on, no fsync, bearer tokens,
// a webhook master key it creates) and drives it over loopback through the
// real paths: signed webhooks over HTTP keep-alive and gRPC calls with
// service / viewer tokens. One mode per run:
//
//   --mode=webhooks  C keep-alive connections (one job each) posting signed
//                    METRICS events (8 values) for D seconds: requests/s,
//                    points/s, latency p50/p90/p99/max, errors by status.
//   --mode=grpc      T threads calling IngestEvents with 125 events x 8 values
//                    (1,000 points per call) for 1 (or --jobs_per_call) jobs
//                    each: points/s, calls/s, latency.
//   --mode=curve     a 10K-point and a 1M-point job (train_loss only), then
//                    GetLossCurve (1,000 points, full range) latency, idle and
//                    while a background thread ingests ~50K points/s.
//   --mode=events    one job with 100K events of a realistic mix, then
//                    ListEvents (page of 50, WARNING+STATUS, keyword "step",
//                    newest first) latency; first call after the preload and
//                    first call after a server restart separately.
//   --mode=memory    1,000 jobs x 10K points, then the server's RSS and the
//                    RocksDB size on disk; RSS again after GetProgress on
//                    every job, and after a restart (idle, then all touched).
//
// Every mode prints the command line, the load average, the wall time of the
// measured interval and how the two cores were split: the server's CPU time
// (/proc/<pid>/stat utime+stime) and this generator's own (getrusage). The
// server's CPU per unit of work (request, event, call) is printed too: it is
// what to compare across runs on a busy machine. The webhooks, grpc, curve
// and memory modes check with ListSeries that every acknowledged point is
// stored. The last line of each mode is "RESULT key=value ..." for
// run_ingest_bench.sh.
//
// A "point" is one stored metric value: a METRICS event with 8 values is 8
// points.
//
// Wall time of calls is read from std::chrono::steady_clock directly: this is
// a measurement tool, not service code behind the injected Clock. Webhook
// timestamps and event times come from trainyard::RealClock, which is what
// the server's suite clock is with no --time_scale.

#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/config/flags.h"
#include "common/http/client.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "common/webhook/signature.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/raw_http.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace {

namespace common = ::trainyard::common::v1;
namespace v1 = ::trainyard::metrics::v1;
namespace webhook = ::trainyard::webhook;
namespace http = ::trainyard::http;
using ::trainyard::RealClock;
using ::trainyard::ToAbsl;
using ::trainyard::ToProto;
using ::trainyard::bench::AddServerFlags;
using ::trainyard::bench::Describe;
using ::trainyard::bench::EpochOf;
using ::trainyard::bench::FillLogEvent;
using ::trainyard::bench::FillMetricsEvent;
using ::trainyard::bench::Ingest;
using ::trainyard::bench::Interval;
using ::trainyard::bench::kTotalSteps;
using ::trainyard::bench::LoadAverage;
using ::trainyard::bench::LoadAverage1;
using ::trainyard::bench::LossAt;
using ::trainyard::bench::MiB;
using ::trainyard::bench::MillisBetween;
using ::trainyard::bench::Pacer;
using ::trainyard::bench::ParseBenchFlags;
using ::trainyard::bench::Percentiles;
using ::trainyard::bench::RawHttpConnection;
using ::trainyard::bench::Rfc3339;
using ::trainyard::bench::SecondsSince;
using ::trainyard::bench::ServerFlags;
using ::trainyard::bench::StatusKiB;
using ::trainyard::bench::SteadyClock;
using ::trainyard::bench::Summarize;
using ::trainyard::bench::ThreadCount;
using Server = ::trainyard::bench::MetricsServer;

// ---------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------

struct Flags {
  std::string mode;
  ServerFlags server;
  // webhooks / grpc
  double duration_s = 10;
  double warmup_s = 1;
  int64_t connections = 32;
  // "raw": RawHttpConnection; "httplib": common/http's HttpClient.
  std::string client = "raw";
  int64_t threads = 0;  // 0: 4, or 2 for memory
  int64_t events_per_call = 125;
  int64_t jobs_per_call = 1;
  int64_t values = 8;
  // curve / events
  int64_t calls = 500;
  int64_t small_points = 10000;
  int64_t large_points = 1000000;
  int64_t preload_batch = 1000;
  double background_points_per_s = 50000;
  int64_t events = 100000;
  bool restart = true;
  // memory
  int64_t jobs = 1000;
  int64_t points_per_job = 10000;
  double pause_s = 0;
};

absl::Status ParseFlags(int argc, char** argv, Flags* f, bool* help) {
  trainyard::config::FlagSet flags("ingest_bench");
  flags.AddString("mode", "webhooks, grpc, curve, events or memory", &f->mode);
  AddServerFlags(flags, &f->server);
  flags
      .AddDouble("duration", "webhooks, grpc: measured seconds", &f->duration_s)
      .Range(0.001, 1e6);
  flags
      .AddDouble("warmup", "webhooks, grpc: seconds before measuring",
                 &f->warmup_s)
      .Range(0, 1e6);
  flags
      .AddInt("connections", "webhooks: keep-alive connections, one job each",
              &f->connections)
      .Range(1, 100000);
  flags.AddString("client",
                  "webhooks: the generator's HTTP client, raw or "
                  "httplib",
                  &f->client);
  flags
      .AddInt("threads",
              "grpc, memory: ingest threads; 0: 4 for grpc, 2 for memory",
              &f->threads)
      .Range(0, 1000);
  flags
      .AddInt("events_per_call", "grpc: events per IngestEvents call",
              &f->events_per_call)
      .Range(1, 1000);
  flags
      .AddInt("jobs_per_call",
              "grpc: jobs per call (events_per_call / jobs_per_call events "
              "per job)",
              &f->jobs_per_call)
      .Range(1, 1000);
  flags.AddInt("values", "grpc: values per METRICS event", &f->values)
      .Range(1, 8);
  flags.AddInt("calls", "curve, events: timed calls per job", &f->calls)
      .Range(1, 100000000);
  flags
      .AddInt("small_points", "curve: points of the small job",
              &f->small_points)
      .Range(1, int64_t{1} << 40);
  flags
      .AddInt("large_points", "curve: points of the large job",
              &f->large_points)
      .Range(1, int64_t{1} << 40);
  flags
      .AddInt("preload_batch", "curve: events per preload call",
              &f->preload_batch)
      .Range(1, 1000);
  flags
      .AddDouble("background_rate",
                 "curve: points/s ingested during the timed calls",
                 &f->background_points_per_s)
      .Range(0, 1e9);
  flags.AddInt("events", "events: events of the job", &f->events)
      .Range(1, 100000000);
  flags.AddBool("restart", "events, memory: also measure after a restart",
                &f->restart);
  flags.AddInt("jobs", "memory: jobs", &f->jobs).Range(1, 10000000);
  flags.AddInt("points_per_job", "memory: points per job", &f->points_per_job)
      .Range(1, int64_t{1} << 40);
  flags
      .AddDouble("pause",
                 "memory: seconds to wait after the ingest (to attach a tool "
                 "to the server)",
                 &f->pause_s)
      .Range(0, 1e6);
  RETURN_IF_ERROR(ParseBenchFlags(flags, argc, argv, help));
  if (*help) return absl::OkStatus();
  if (f->mode != "webhooks" && f->mode != "grpc" && f->mode != "curve" &&
      f->mode != "events" && f->mode != "memory") {
    return absl::InvalidArgumentError(
        "--mode: webhooks, grpc, curve, events or memory");
  }
  if (f->client != "raw" && f->client != "httplib") {
    return absl::InvalidArgumentError("--client: raw or httplib");
  }
  if (f->events_per_call % f->jobs_per_call != 0) {
    return absl::InvalidArgumentError(
        "--events_per_call must be a multiple of --jobs_per_call");
  }
  if (f->threads == 0) f->threads = f->mode == "memory" ? 2 : 4;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

// Bytes of the files under `path`: all, and of RocksDB's WAL (*.log) and
// table (*.sst) files.
struct DiskUse {
  int64_t total = 0, wal = 0, sst = 0;
};

DiskUse DirectoryBytes(const std::string& path) {
  DiskUse use;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    const uintmax_t n = it->file_size(size_ec);
    if (size_ec) continue;
    const int64_t bytes = static_cast<int64_t>(n);
    use.total += bytes;
    const std::string ext = it->path().extension().string();
    if (ext == ".log") use.wal += bytes;
    if (ext == ".sst") use.sst += bytes;
  }
  return use;
}

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

// A webhook METRICS body with 8 values (train_loss, val_loss, learning_rate,
// grad_norm, gpu_utilization, tokens_per_second, perplexity, extra.reward).
std::string MetricsWebhookBody(int64_t seq, absl::Time now) {
  const int64_t step = seq;
  return absl::StrFormat(
      R"({"type":"metrics","attempt":1,"seq":%d,"time":"%s",)"
      R"("message":"Training epoch %d/3 - Step %d/%d...",)"
      R"("metrics":{"step":%d,"totalSteps":%d,"epoch":%d,"totalEpochs":3,)"
      R"("trainLoss":%.4f,"valLoss":%.4f,"learningRate":0.000182,)"
      R"("lrSchedule":"cosine","gradNorm":0.81,"gpuUtilization":0.87,)"
      R"("tokensPerSecond":1247,"perplexity":1.43,"extra":{"reward":0.12}}})",
      seq, Rfc3339(now), EpochOf(step), step, kTotalSteps, step, kTotalSteps,
      EpochOf(step), LossAt(step), LossAt(step) + 0.02);
}

// Points the server holds for `job` on its effective curves: ListSeries
// point_count summed over every series. An error for a failed call.
absl::StatusOr<int64_t> StoredPoints(const Server& server,
                                     v1::MetricsService::Stub& stub,
                                     const std::string& job) {
  int64_t total = 0;
  v1::ListSeriesRequest req;
  req.set_job_id(job);
  req.set_page_size(1000);
  do {
    grpc::ClientContext ctx;
    server.AuthorizeViewer(ctx);
    v1::ListSeriesResponse resp;
    grpc::Status s = stub.ListSeries(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::Status(
          static_cast<absl::StatusCode>(s.error_code()),
          absl::StrCat("ListSeries ", job, ": ", s.error_message()));
    }
    for (const v1::SeriesInfo& info : resp.series()) {
      total += info.point_count();
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return total;
}

// Sums StoredPoints over `jobs`; -1 if any call failed (printed).
int64_t StoredPointsOf(const Server& server, v1::MetricsService::Stub& stub,
                       const std::vector<std::string>& jobs) {
  int64_t total = 0;
  for (const std::string& job : jobs) {
    absl::StatusOr<int64_t> n = StoredPoints(server, stub, job);
    if (!n.ok()) {
      std::printf("stored points: %s\n", n.status().ToString().c_str());
      return -1;
    }
    total += *n;
  }
  return total;
}

// Prints how many of the acknowledged points the server actually holds.
void PrintStored(int64_t stored, int64_t acknowledged) {
  std::printf(
      "stored points (ListSeries point_count): %lld of %lld "
      "acknowledged (%.2f%%)%s\n",
      static_cast<long long>(stored), static_cast<long long>(acknowledged),
      acknowledged > 0 ? 100.0 * stored / acknowledged : 0.0,
      stored == acknowledged ? "" : "  <-- POINTS LOST");
}

// ---------------------------------------------------------------------------
// --mode=webhooks
// ---------------------------------------------------------------------------

enum Phase { kWarmup = 0, kMeasure = 1, kStop = 2 };

struct WorkerStats {
  std::vector<double> latency_ms;
  std::map<int, int64_t> by_status;  // 0 = no response (transport error)
  std::string first_error;
  int64_t points = 0;      // acknowledged in the measured interval
  int64_t all_points = 0;  // acknowledged in all (warm-up included)
  std::vector<std::string> jobs;
};

// Sends one signed webhook per iteration over one keep-alive connection.
void WebhookWorker(const Server& server, const std::string& client_kind,
                   int index, const std::atomic<int>& phase, WorkerStats* out) {
  const RealClock clock;
  const std::string job = absl::StrCat("wh-", index);
  const webhook::Secret secret =
      webhook::DeriveJobSecretKey(server.master_key(), job);
  const std::string path = absl::StrCat("/v1/webhooks/runpod/", job);
  std::optional<http::HttpClient> httplib;
  std::optional<RawHttpConnection> raw;
  if (client_kind == "raw") {
    absl::StatusOr<RawHttpConnection> c =
        RawHttpConnection::Connect(server.admin_port());
    if (!c.ok()) {
      out->first_error = c.status().ToString();
      return;
    }
    raw.emplace(*std::move(c));
  } else {
    httplib.emplace(server.admin_url());
  }
  out->jobs.push_back(job);
  out->latency_ms.reserve(1 << 16);
  for (int64_t seq = 1;; ++seq) {
    const int p = phase.load(std::memory_order_relaxed);
    if (p == kStop) break;
    const absl::Time now = clock.Now();
    const int64_t ts = absl::ToUnixSeconds(now);
    const std::string id = absl::StrCat("evt_1_", seq);
    const std::string body = MetricsWebhookBody(seq, now);
    const http::HttpHeaders headers = {
        {"webhook-id", id},
        {"webhook-timestamp", absl::StrCat(ts)},
        {"webhook-signature", webhook::Sign(secret, id, ts, body)}};
    const auto start = SteadyClock::now();
    int status = 0;
    std::string error;
    if (raw.has_value()) {
      absl::StatusOr<RawHttpConnection::Response> r =
          raw->Post(path, headers, body);
      status = r.ok() ? r->status : 0;
      if (status != 200) {
        error =
            r.ok() ? absl::StrCat(status, " ", r->body) : r.status().ToString();
      }
    } else {
      absl::StatusOr<http::HttpResponse> r = httplib->Send(
          http::Method::kPost, path, headers, body, "application/json");
      status = r.ok() ? r->status : 0;
      if (status != 200) {
        error =
            r.ok() ? absl::StrCat(status, " ", r->body) : r.status().ToString();
      }
    }
    const auto end = SteadyClock::now();
    if (status == 200) out->all_points += 8;
    if (p != kMeasure) continue;
    out->latency_ms.push_back(MillisBetween(start, end));
    ++out->by_status[status];
    if (status == 200) {
      out->points += 8;
    } else if (out->first_error.empty()) {
      out->first_error = error;
    }
    if (raw.has_value() && status == 0) break;  // the connection is gone
  }
}

// Runs `workers` threads through warm-up and the measured interval.
template <typename Worker>
std::vector<WorkerStats> RunTimed(const Flags& flags, Interval& interval,
                                  int workers, Worker worker) {
  std::atomic<int> phase{kWarmup};
  std::vector<WorkerStats> stats(workers);
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&, i] { worker(i, phase, &stats[i]); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.warmup_s));
  interval.Restart();
  phase = kMeasure;
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.duration_s));
  phase = kStop;
  interval.Stop();
  for (auto& t : threads) t.join();
  return stats;
}

struct Totals {
  std::vector<double> latency_ms;
  std::map<int, int64_t> by_status;
  int64_t points = 0;
  int64_t all_points = 0;
  int64_t requests = 0;
  std::string first_error;
  std::vector<std::string> jobs;
};

Totals Merge(std::vector<WorkerStats>& stats) {
  Totals t;
  for (WorkerStats& s : stats) {
    t.latency_ms.insert(t.latency_ms.end(), s.latency_ms.begin(),
                        s.latency_ms.end());
    for (auto [status, n] : s.by_status) t.by_status[status] += n;
    t.points += s.points;
    t.all_points += s.all_points;
    t.jobs.insert(t.jobs.end(), s.jobs.begin(), s.jobs.end());
    if (t.first_error.empty()) t.first_error = s.first_error;
  }
  t.requests = static_cast<int64_t>(t.latency_ms.size());
  return t;
}

std::string StatusCounts(const std::map<int, int64_t>& by_status) {
  std::string out;
  for (auto [status, n] : by_status) {
    absl::StrAppend(
        &out, out.empty() ? "" : " ",
        status == 0 ? std::string("no_response") : absl::StrCat(status), ":",
        n);
  }
  return out;
}

// After a timed run: prints the server's threads and RSS, then how many of
// the points acknowledged to `t` the server holds; returns that share.
double ReportServerAndStored(Server& server, const Totals& t) {
  std::printf("server threads: %d, RSS %.1f MiB\n", ThreadCount(server.pid()),
              StatusKiB(server.pid(), "VmRSS") / 1024.0);
  const int64_t stored = StoredPointsOf(server, server.stub(), t.jobs);
  PrintStored(stored, t.all_points);
  return t.all_points > 0 ? static_cast<double>(stored) / t.all_points : 0.0;
}

int RunWebhooks(const Flags& flags, Server& server) {
  absl::PrintF(
      "webhooks: %d keep-alive connections (one job each, %s client), signed "
      "METRICS events of 8 values, warm-up %.1f s, measured %.1f s\n",
      flags.connections, flags.client.c_str(), flags.warmup_s,
      flags.duration_s);
  Interval interval(server.pid());
  std::vector<WorkerStats> stats =
      RunTimed(flags, interval, flags.connections,
               [&](int i, const std::atomic<int>& phase, WorkerStats* out) {
                 WebhookWorker(server, flags.client, i, phase, out);
               });
  Totals t = Merge(stats);
  Percentiles p = Summarize(t.latency_ms);
  const double rps = t.requests / interval.wall();
  int64_t ok = 0;
  for (auto [status, n] : t.by_status) {
    if (status == 200 || status == 204) ok += n;
  }
  std::printf("requests: %d (%s)\n", static_cast<int>(t.requests),
              StatusCounts(t.by_status).c_str());
  if (!t.first_error.empty()) {
    std::printf("first error: %s\n", t.first_error.c_str());
  }
  std::printf("throughput: %.0f requests/s, %.0f accepted points/s\n", rps,
              t.points / interval.wall());
  std::printf("latency: %s\n", Describe(p).c_str());
  interval.Print("measured");
  std::printf("server CPU per request: %.1f us\n",
              t.requests > 0 ? interval.server_cpu() * 1e6 / t.requests : 0.0);
  const double stored_ratio = ReportServerAndStored(server, t);
  absl::PrintF(
      "RESULT mode=webhooks connections=%d req_s=%.0f points_s=%.0f "
      "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d "
      "stored_ratio=%.4f server_us_per_req=%.1f %s load1=%.2f\n",
      flags.connections, rps, t.points / interval.wall(), p.p50, p.p90, p.p99,
      p.max, static_cast<int>(t.requests - ok), stored_ratio,
      t.requests > 0 ? interval.server_cpu() * 1e6 / t.requests : 0.0,
      interval.Fields().c_str(), LoadAverage1());
  return t.requests > 0 && ok == t.requests ? 0 : 1;
}

// ---------------------------------------------------------------------------
// --mode=grpc
// ---------------------------------------------------------------------------

void GrpcWorker(const Flags& flags, const Server& server, int index,
                const std::atomic<int>& phase, WorkerStats* out) {
  const RealClock clock;
  const int per_job = flags.events_per_call / flags.jobs_per_call;
  for (int k = 0; k < flags.jobs_per_call; ++k) {
    out->jobs.push_back(flags.jobs_per_call == 1
                            ? absl::StrCat("grpc-", index)
                            : absl::StrCat("grpc-", index, "-", k));
  }
  std::vector<int64_t> seq(flags.jobs_per_call, 0);
  std::unique_ptr<v1::MetricsService::Stub> stub =
      v1::MetricsService::NewStub(server.NewChannel(index + 1));
  v1::IngestEventsRequest req;
  for (int i = 0; i < flags.events_per_call; ++i) req.add_events();
  out->latency_ms.reserve(1 << 14);
  while (true) {
    const int p = phase.load(std::memory_order_relaxed);
    if (p == kStop) break;
    const google::protobuf::Timestamp now = ToProto(clock.Now());
    // Jobs one after the other, each with its events in step order.
    for (int i = 0; i < flags.events_per_call; ++i) {
      const int k = i / per_job;
      FillMetricsEvent(req.mutable_events(i), out->jobs[k], ++seq[k],
                       flags.values, now, /*with_message=*/true);
    }
    const auto start = SteadyClock::now();
    absl::StatusOr<int> accepted = Ingest(server, *stub, req);
    const auto end = SteadyClock::now();
    if (accepted.ok()) {
      out->all_points += static_cast<int64_t>(*accepted) * flags.values;
    }
    if (p != kMeasure) continue;
    out->latency_ms.push_back(MillisBetween(start, end));
    if (accepted.ok()) {
      ++out->by_status[0];
      out->points += static_cast<int64_t>(*accepted) * flags.values;
    } else {
      ++out->by_status[static_cast<int>(accepted.status().code())];
      if (out->first_error.empty()) {
        out->first_error = accepted.status().ToString();
      }
    }
  }
}

int RunGrpc(const Flags& flags, Server& server) {
  const int points_per_call = flags.events_per_call * flags.values;
  absl::PrintF(
      "grpc: %d threads (own channel and jobs each), IngestEvents of %d "
      "events x %d values = %d points per call, %d job(s) per call (%d "
      "events per job), warm-up %.1f s, measured %.1f s\n",
      flags.threads, flags.events_per_call, flags.values, points_per_call,
      flags.jobs_per_call, flags.events_per_call / flags.jobs_per_call,
      flags.warmup_s, flags.duration_s);
  Interval interval(server.pid());
  std::vector<WorkerStats> stats =
      RunTimed(flags, interval, flags.threads,
               [&flags, &server](int i, const std::atomic<int>& phase,
                                 WorkerStats* out) {
                 GrpcWorker(flags, server, i, phase, out);
               });
  Totals t = Merge(stats);
  Percentiles p = Summarize(t.latency_ms);
  const int64_t ok = t.by_status.contains(0) ? t.by_status.at(0) : int64_t{0};
  const double points_s = t.points / interval.wall();
  std::printf("calls: %d ok, %d failed\n", static_cast<int>(ok),
              static_cast<int>(t.requests - ok));
  if (!t.first_error.empty()) {
    std::printf("first error: %s\n", t.first_error.c_str());
  }
  std::printf("throughput: %.0f points/s, %.0f events/s, %.1f calls/s\n",
              points_s, points_s / flags.values, t.requests / interval.wall());
  std::printf("latency per call: %s\n", Describe(p).c_str());
  interval.Print("measured");
  const double events = static_cast<double>(t.points) / flags.values;
  const double us_per_event =
      events > 0 ? interval.server_cpu() * 1e6 / events : 0.0;
  std::printf("server CPU per event: %.1f us (%.1f us per point)\n",
              us_per_event, us_per_event / flags.values);
  const double stored_ratio = ReportServerAndStored(server, t);
  absl::PrintF(
      "RESULT mode=grpc threads=%d points_per_call=%d jobs_per_call=%d "
      "points_s=%.0f calls_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      "errors=%d stored_ratio=%.4f server_us_per_event=%.1f %s "
      "load1=%.2f\n",
      flags.threads, points_per_call, flags.jobs_per_call, points_s,
      t.requests / interval.wall(), p.p50, p.p99, p.max,
      static_cast<int>(t.requests - ok), stored_ratio, us_per_event,
      interval.Fields().c_str(), LoadAverage1());
  return t.requests > 0 && ok == t.requests ? 0 : 1;
}

// ---------------------------------------------------------------------------
// --mode=curve
// ---------------------------------------------------------------------------

// Stores `points` METRICS events of one value (train_loss) for `job`, in
// calls of `batch` events.
absl::Status PreloadSeries(const Server& server, v1::MetricsService::Stub& stub,
                           const std::string& job, int64_t points, int batch) {
  const RealClock clock;
  v1::IngestEventsRequest req;
  for (int64_t first = 1; first <= points; first += batch) {
    const int64_t n = std::min<int64_t>(batch, points - first + 1);
    req.clear_events();
    const google::protobuf::Timestamp now = ToProto(clock.Now());
    for (int64_t seq = first; seq < first + n; ++seq) {
      FillMetricsEvent(req.add_events(), job, seq, 1, now,
                       /*with_message=*/false);
    }
    absl::StatusOr<int> accepted = Ingest(server, stub, req);
    if (!accepted.ok()) return accepted.status();
  }
  return absl::OkStatus();
}

// Ingests ~`points_per_s` points until told to stop, in calls of 125 events
// x 8 values, one event for each of 125 jobs of its own (many live jobs
// reporting; see README.md for why not 125 events of one job); counts what
// it stored.
class BackgroundIngest {
 public:
  BackgroundIngest(const Server& server, double points_per_s)
      : server_(server), points_per_s_(points_per_s) {
    if (points_per_s_ > 0) thread_ = std::thread([this] { Run(); });
  }
  ~BackgroundIngest() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t points() const { return points_.load(); }
  int64_t late_calls() const { return late_.load(); }
  const std::string& error() const { return error_; }

 private:
  void Run() {
    const RealClock clock;
    std::unique_ptr<v1::MetricsService::Stub> stub =
        v1::MetricsService::NewStub(server_.NewChannel(1000));
    constexpr int kEvents = 125, kValues = 8, kJobs = kEvents;
    const auto period = std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double>(kEvents * kValues / points_per_s_));
    std::vector<std::string> jobs;
    for (int j = 0; j < kJobs; ++j) jobs.push_back(absl::StrCat("bg-", j));
    v1::IngestEventsRequest req;
    for (int i = 0; i < kEvents; ++i) req.add_events();
    Pacer pacer(period);
    for (int64_t call = 1; !stop_; ++call) {
      const google::protobuf::Timestamp now = ToProto(clock.Now());
      for (int j = 0; j < kJobs; ++j) {
        FillMetricsEvent(req.mutable_events(j), jobs[j], call, kValues, now,
                         /*with_message=*/true);
      }
      absl::StatusOr<int> accepted = Ingest(server_, *stub, req);
      if (!accepted.ok()) {
        if (error_.empty()) error_ = accepted.status().ToString();
      } else {
        points_ += static_cast<int64_t>(*accepted) * kValues;
      }
      if (!pacer.Wait()) ++late_;
    }
  }

  const Server& server_;
  const double points_per_s_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> points_{0};
  std::atomic<int64_t> late_{0};
  std::string error_;
  std::thread thread_;
};

struct CurveTimes {
  // floor_ms: GetProgress of curve-small, a unary call that does almost
  // nothing: what any call costs on this machine at that moment.
  std::vector<double> small_ms, large_ms, floor_ms;
  int small_points = 0, large_points = 0;
  std::string error;
};

// `calls` GetLossCurve calls per job, alternating between the jobs, each
// round followed by a GetProgress when `floor`.
CurveTimes TimeCurves(const Server& server, v1::MetricsService::Stub& stub,
                      int calls, bool small, bool large, bool floor) {
  CurveTimes out;
  for (int i = 0; i < calls && out.error.empty(); ++i) {
    if (floor) {
      v1::GetProgressRequest req;
      req.set_job_id("curve-small");
      grpc::ClientContext ctx;
      server.AuthorizeViewer(ctx);
      v1::GetProgressResponse resp;
      const auto start = SteadyClock::now();
      grpc::Status s = stub.GetProgress(&ctx, req, &resp);
      out.floor_ms.push_back(MillisBetween(start, SteadyClock::now()));
      if (!s.ok()) out.error = absl::StrCat("GetProgress: ", s.error_message());
    }
    if (!small && !large) continue;
    for (int which = small ? 0 : 1; which < (large ? 2 : 1); ++which) {
      v1::GetLossCurveRequest req;
      req.set_job_id(which == 0 ? "curve-small" : "curve-large");
      req.add_series("train_loss");
      req.set_max_points(1000);
      grpc::ClientContext ctx;
      server.AuthorizeViewer(ctx);
      v1::GetLossCurveResponse resp;
      const auto start = SteadyClock::now();
      grpc::Status s = stub.GetLossCurve(&ctx, req, &resp);
      const auto end = SteadyClock::now();
      if (!s.ok()) {
        out.error = absl::StrCat("GetLossCurve: ", s.error_message());
        break;
      }
      const int n = resp.curve().series_size() > 0
                        ? resp.curve().series(0).points_size()
                        : 0;
      (which == 0 ? out.small_ms : out.large_ms)
          .push_back(MillisBetween(start, end));
      (which == 0 ? out.small_points : out.large_points) = n;
    }
  }
  return out;
}

int RunCurve(const Flags& flags, Server& server) {
  absl::PrintF(
      "curve: preload curve-small (%d points) and curve-large (%d points), "
      "train_loss only (METRICS events of 1 value, calls of %d events); "
      "then GetLossCurve(train_loss, max_points 1000, full range), %d calls "
      "per job idle and %d while ~%.0f points/s are ingested into 125 other "
      "jobs\n",
      flags.small_points, flags.large_points, flags.preload_batch,
      std::min<int64_t>(flags.calls, 100), flags.calls,
      flags.background_points_per_s);
  v1::MetricsService::Stub& stub = server.stub();
  Interval preload(server.pid());
  for (auto [job, points] :
       {std::pair<std::string, int64_t>{"curve-small", flags.small_points},
        std::pair<std::string, int64_t>{"curve-large", flags.large_points}}) {
    if (absl::Status s =
            PreloadSeries(server, stub, job, points, flags.preload_batch);
        !s.ok()) {
      std::fprintf(stderr, "preload %s: %s\n", job.c_str(),
                   s.ToString().c_str());
      return 1;
    }
  }
  preload.Stop();
  const int64_t preloaded = flags.small_points + flags.large_points;
  std::printf("preload: %d points (= events) in %.1f s, %.0f events/s\n",
              static_cast<int>(preloaded), preload.wall(),
              preloaded / preload.wall());
  preload.Print("preload");
  const int64_t stored_small =
      StoredPointsOf(server, stub, {std::string("curve-small")});
  const int64_t stored_large =
      StoredPointsOf(server, stub, {std::string("curve-large")});
  std::printf("curve-small: ");
  PrintStored(stored_small, flags.small_points);
  std::printf("curve-large: ");
  PrintStored(stored_large, flags.large_points);

  // Idle, one job at a time, so the server's CPU per call is known.
  const int idle_calls = std::min<int64_t>(flags.calls, 100);
  Interval idle_small_cpu(server.pid());
  CurveTimes idle_s = TimeCurves(server, stub, idle_calls, true, false, false);
  idle_small_cpu.Stop();
  Interval idle_large_cpu(server.pid());
  CurveTimes idle_l = TimeCurves(server, stub, idle_calls, false, true, false);
  idle_large_cpu.Stop();
  CurveTimes idle_f = TimeCurves(server, stub, idle_calls, false, false, true);
  if (!idle_s.error.empty() || !idle_l.error.empty() || !idle_f.error.empty()) {
    std::fprintf(stderr, "%s%s%s\n", idle_s.error.c_str(), idle_l.error.c_str(),
                 idle_f.error.c_str());
    return 1;
  }
  Percentiles idle_floor = Summarize(idle_f.floor_ms);
  Percentiles idle_small = Summarize(idle_s.small_ms);
  Percentiles idle_large = Summarize(idle_l.large_ms);
  const double small_cpu_ms = idle_small_cpu.server_cpu() * 1e3 / idle_calls;
  const double large_cpu_ms = idle_large_cpu.server_cpu() * 1e3 / idle_calls;
  std::printf(
      "idle: curve-small (%d points returned): %s; server CPU %.3f ms per "
      "call\n",
      idle_s.small_points, Describe(idle_small).c_str(), small_cpu_ms);
  std::printf(
      "idle: curve-large (%d points returned): %s; server CPU %.3f ms per "
      "call\n",
      idle_l.large_points, Describe(idle_large).c_str(), large_cpu_ms);
  std::printf("idle: GetProgress (the floor of any unary call): %s\n",
              Describe(idle_floor).c_str());

  BackgroundIngest background(server, flags.background_points_per_s);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int64_t bg_start = background.points();
  Interval interval(server.pid());
  CurveTimes loaded = TimeCurves(server, stub, flags.calls, true, true, true);
  interval.Stop();
  const double bg_rate = (background.points() - bg_start) / interval.wall();
  background.Stop();
  if (!loaded.error.empty()) {
    std::fprintf(stderr, "%s\n", loaded.error.c_str());
    return 1;
  }
  if (!background.error().empty()) {
    std::printf("background error: %s\n", background.error().c_str());
  }
  Percentiles small = Summarize(loaded.small_ms);
  Percentiles large = Summarize(loaded.large_ms);
  Percentiles floor = Summarize(loaded.floor_ms);
  std::printf("under ingest (%.0f points/s achieved, %d late calls):\n",
              bg_rate, static_cast<int>(background.late_calls()));
  std::printf("  curve-small (%d points returned): %s\n", loaded.small_points,
              Describe(small).c_str());
  std::printf("  curve-large (%d points returned): %s\n", loaded.large_points,
              Describe(large).c_str());
  std::printf("  GetProgress (the floor): %s\n", Describe(floor).c_str());
  interval.Print("measured (curve calls + background ingest)");
  absl::PrintF(
      "RESULT mode=curve bg_points_s=%.0f small_points=%d large_points=%d "
      "small_stored=%lld large_stored=%lld preload_batch=%d "
      "small_p50_ms=%.3f small_p99_ms=%.3f large_p50_ms=%.3f "
      "large_p99_ms=%.3f floor_p50_ms=%.3f floor_p99_ms=%.3f "
      "idle_small_p99_ms=%.3f idle_large_p99_ms=%.3f idle_floor_p99_ms=%.3f "
      "small_cpu_ms=%.3f large_cpu_ms=%.3f "
      "preload_events_s=%.0f %s load1=%.2f\n",
      bg_rate, static_cast<int>(flags.small_points),
      static_cast<int>(flags.large_points),
      static_cast<long long>(stored_small),
      static_cast<long long>(stored_large), flags.preload_batch, small.p50,
      small.p99, large.p50, large.p99, floor.p50, floor.p99, idle_small.p99,
      idle_large.p99, idle_floor.p99, small_cpu_ms, large_cpu_ms,
      preloaded / preload.wall(), interval.Fields().c_str(), LoadAverage1());
  return 0;
}

// ---------------------------------------------------------------------------
// --mode=events
// ---------------------------------------------------------------------------

v1::ListEventsRequest EventsQuery(const std::string& job) {
  v1::ListEventsRequest req;
  req.set_job_id(job);
  req.set_page_size(50);
  req.set_order_by("job_seq desc");
  req.mutable_query()->add_types(common::EVENT_TYPE_WARNING);
  req.mutable_query()->add_types(common::EVENT_TYPE_STATUS);
  req.mutable_query()->set_keyword("step");
  return req;
}

// One timed ListEvents; returns ms, or -1 with `error` set.
double TimeList(const Server& server, v1::MetricsService::Stub& stub,
                const v1::ListEventsRequest& req, v1::ListEventsResponse* resp,
                std::string* error) {
  grpc::ClientContext ctx;
  server.AuthorizeViewer(ctx);
  const auto start = SteadyClock::now();
  grpc::Status s = stub.ListEvents(&ctx, req, resp);
  const auto end = SteadyClock::now();
  if (!s.ok()) {
    *error = absl::StrCat("ListEvents: ", s.error_message());
    return -1;
  }
  return MillisBetween(start, end);
}

int RunEvents(const Flags& flags, Server& server) {
  const std::string job = "events-1";
  absl::PrintF(
      "events: preload %s with %d events (METRICS ~88%%, STATUS, CHECKPOINT, "
      "WARNING, INFO, ERROR; raw JSON as sent by containers) in calls of "
      "1,000; then ListEvents page_size 50, types WARNING+STATUS, keyword "
      "\"step\", newest first, %d calls\n",
      job.c_str(), flags.events, flags.calls);
  const RealClock clock;
  Interval preload(server.pid());
  {
    // Occurred times one second apart, ending now.
    const absl::Time first = clock.Now() - absl::Seconds(flags.events);
    v1::IngestEventsRequest req;
    for (int64_t start = 1; start <= flags.events; start += 1000) {
      req.clear_events();
      for (int64_t seq = start; seq < start + 1000 && seq <= flags.events;
           ++seq) {
        FillLogEvent(req.add_events(), job, seq,
                     ToProto(first + absl::Seconds(seq)));
      }
      absl::StatusOr<int> accepted = Ingest(server, server.stub(), req);
      if (!accepted.ok()) {
        std::fprintf(stderr, "preload: %s\n",
                     accepted.status().ToString().c_str());
        return 1;
      }
    }
  }
  preload.Stop();
  absl::PrintF("preload: %d events in %.1f s, %.0f events/s\n", flags.events,
               preload.wall(), flags.events / preload.wall());
  preload.Print("preload");

  const v1::ListEventsRequest req = EventsQuery(job);
  std::string error;
  v1::ListEventsResponse resp;
  const double first_ms = TimeList(server, server.stub(), req, &resp, &error);
  if (first_ms < 0) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::printf(
      "first call after preload: %.3f ms (%d events on the page, %d%s "
      "matching, %d%s keyword matches)\n",
      first_ms, resp.events_size(), resp.total_size(),
      resp.total_size_capped() ? "+" : "", resp.match_count(),
      resp.match_count_capped() ? "+" : "");

  Interval interval(server.pid());
  std::vector<double> ms;
  for (int i = 0; i < flags.calls; ++i) {
    const double t = TimeList(server, server.stub(), req, &resp, &error);
    if (t < 0) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    ms.push_back(t);
  }
  interval.Stop();
  Percentiles p = Summarize(ms);
  std::printf("ListEvents: %s; server CPU %.3f ms per call\n",
              Describe(p).c_str(), interval.server_cpu() * 1e3 / flags.calls);
  interval.Print("measured");

  double restart_first_ms = -1, restart_second_ms = -1;
  if (flags.restart) {
    if (absl::StatusOr<double> s = server.Restart(); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    restart_first_ms = TimeList(server, server.stub(), req, &resp, &error);
    restart_second_ms = TimeList(server, server.stub(), req, &resp, &error);
    if (restart_first_ms < 0 || restart_second_ms < 0) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    std::printf(
        "after a server restart: first call %.3f ms (rebuilds the job's "
        "index), second %.3f ms\n",
        restart_first_ms, restart_second_ms);
  }
  absl::PrintF(
      "RESULT mode=events events=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
      "max_ms=%.3f first_ms=%.3f restart_first_ms=%.3f cpu_ms=%.3f "
      "preload_events_s=%.0f %s load1=%.2f\n",
      flags.events, p.p50, p.p90, p.p99, p.max, first_ms, restart_first_ms,
      interval.server_cpu() * 1e3 / flags.calls, flags.events / preload.wall(),
      interval.Fields().c_str(), LoadAverage1());
  return 0;
}

// ---------------------------------------------------------------------------
// --mode=memory
// ---------------------------------------------------------------------------

// GetProgress on every job; returns the wall seconds or an error.
absl::StatusOr<double> TouchAll(const Server& server,
                                v1::MetricsService::Stub& stub, int jobs) {
  const auto start = SteadyClock::now();
  for (int j = 0; j < jobs; ++j) {
    v1::GetProgressRequest req;
    req.set_job_id(absl::StrCat("mem-", j));
    v1::GetProgressResponse resp;
    grpc::ClientContext ctx;
    server.AuthorizeViewer(ctx);
    grpc::Status s = stub.GetProgress(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::InternalError(
          absl::StrCat("GetProgress ", req.job_id(), ": ", s.error_message()));
    }
  }
  return SecondsSince(start);
}

int RunMemory(const Flags& flags, Server& server) {
  constexpr int kValues = 8, kMaxEventsPerCall = 1000;
  const int64_t events_per_job = (flags.points_per_job + kValues - 1) / kValues;
  std::vector<std::string> all_jobs;
  for (int j = 0; j < flags.jobs; ++j) {
    all_jobs.push_back(absl::StrCat("mem-", j));
  }
  absl::PrintF(
      "memory: %d jobs x %d points (%d METRICS events x %d values); %d "
      "threads, each owning every %d-th job and sending calls of one event "
      "for each of up to %d of its jobs, so all jobs grow together\n",
      flags.jobs, static_cast<int>(events_per_job * kValues),
      static_cast<int>(events_per_job), kValues, flags.threads, flags.threads,
      kMaxEventsPerCall);
  const int64_t rss_start = StatusKiB(server.pid(), "VmRSS");
  Interval interval(server.pid());
  std::atomic<int64_t> points{0};
  std::string error;
  std::mutex error_mu;  // guards error
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < flags.threads; ++t) {
      threads.emplace_back([&, t] {
        const RealClock clock;
        std::unique_ptr<v1::MetricsService::Stub> stub =
            v1::MetricsService::NewStub(server.NewChannel(t + 1));
        std::vector<int> mine;
        for (int j = t; j < flags.jobs; j += flags.threads) mine.push_back(j);
        v1::IngestEventsRequest req;
        for (int64_t seq = 1; seq <= events_per_job; ++seq) {
          for (size_t first = 0; first < mine.size();
               first += kMaxEventsPerCall) {
            req.clear_events();
            const google::protobuf::Timestamp now = ToProto(clock.Now());
            for (size_t i = first;
                 i < mine.size() && i < first + kMaxEventsPerCall; ++i) {
              FillMetricsEvent(req.add_events(), all_jobs[mine[i]], seq,
                               kValues, now, /*with_message=*/true);
            }
            absl::StatusOr<int> accepted = Ingest(server, *stub, req);
            if (!accepted.ok()) {
              std::lock_guard<std::mutex> lock(error_mu);
              if (error.empty()) error = accepted.status().ToString();
              return;
            }
            points += static_cast<int64_t>(*accepted) * kValues;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  interval.Stop();
  if (!error.empty()) {
    std::fprintf(stderr, "ingest: %s\n", error.c_str());
    return 1;
  }
  const pid_t pid = server.pid();
  std::printf("ingest: %lld points in %.1f s, %.0f points/s\n",
              static_cast<long long>(points.load()), interval.wall(),
              points.load() / interval.wall());
  interval.Print("ingest");
  const int64_t rss_ingested = StatusKiB(pid, "VmRSS");
  const int64_t hwm_ingested = StatusKiB(pid, "VmHWM");
  std::printf(
      "RSS: %.1f MiB at start, %.1f MiB after ingest (peak so far %.1f MiB)\n",
      MiB(rss_start), MiB(rss_ingested), MiB(hwm_ingested));
  absl::StatusOr<double> touch = TouchAll(server, server.stub(), flags.jobs);
  if (!touch.ok()) {
    std::fprintf(stderr, "%s\n", touch.status().ToString().c_str());
    return 1;
  }
  const int64_t rss_touched = StatusKiB(pid, "VmRSS");
  std::printf("RSS after GetProgress on every job (%.2f s): %.1f MiB\n", *touch,
              MiB(rss_touched));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const int64_t rss_settled = StatusKiB(pid, "VmRSS");
  const int64_t hwm = StatusKiB(pid, "VmHWM");
  const DiskUse disk_use = DirectoryBytes(server.db_dir());
  const int64_t disk = disk_use.total;
  std::printf("RSS 3 s later: %.1f MiB; peak (VmHWM) %.1f MiB\n",
              MiB(rss_settled), MiB(hwm));
  if (flags.pause_s > 0) {
    std::printf("pausing %.0f s (server pid %d)\n", flags.pause_s,
                static_cast<int>(pid));
    std::this_thread::sleep_for(std::chrono::duration<double>(flags.pause_s));
    std::printf("RSS after the pause: %.1f MiB\n",
                MiB(StatusKiB(pid, "VmRSS")));
  }
  std::printf(
      "RocksDB on disk: %.1f MiB (%.1f bytes per point): WAL %.1f MiB, SST "
      "%.1f MiB, other %.1f MiB\n",
      disk / 1048576.0, static_cast<double>(disk) / points.load(),
      disk_use.wal / 1048576.0, disk_use.sst / 1048576.0,
      (disk - disk_use.wal - disk_use.sst) / 1048576.0);

  int64_t rss_restart_idle = -1, rss_restart_touched = -1, hwm_restart = -1;
  double restart_touch_s = -1;
  if (flags.restart) {
    if (absl::StatusOr<double> s = server.Restart(); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    rss_restart_idle = StatusKiB(server.pid(), "VmRSS");
    absl::StatusOr<double> t = TouchAll(server, server.stub(), flags.jobs);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
      return 1;
    }
    restart_touch_s = *t;
    rss_restart_touched = StatusKiB(server.pid(), "VmRSS");
    hwm_restart = StatusKiB(server.pid(), "VmHWM");
    std::printf(
        "after a restart: RSS %.1f MiB idle, %.1f MiB after GetProgress on "
        "every job (%.2f s, loads each job's state), peak %.1f MiB\n",
        MiB(rss_restart_idle), MiB(rss_restart_touched), restart_touch_s,
        MiB(hwm_restart));
  }
  // Last, as it loads every series of every job.
  const int64_t stored = StoredPointsOf(server, server.stub(), all_jobs);
  PrintStored(stored, points.load());
  const int64_t rss_series = StatusKiB(server.pid(), "VmRSS");
  std::printf(
      "RSS after ListSeries on every job (loads every series): %.1f "
      "MiB\n",
      MiB(rss_series));
  absl::PrintF(
      "RESULT mode=memory jobs=%d points=%lld stored=%lld ingest_points_s=%.0f "
      "rss_mib=%.1f rss_touched_mib=%.1f rss_settled_mib=%.1f "
      "hwm_mib=%.1f disk_mib=%.1f restart_rss_mib=%.1f "
      "restart_touched_rss_mib=%.1f restart_touch_s=%.2f series_rss_mib=%.1f "
      "%s load1=%.2f\n",
      flags.jobs, static_cast<long long>(points.load()),
      static_cast<long long>(stored), points.load() / interval.wall(),
      MiB(rss_ingested), MiB(rss_touched), MiB(rss_settled), MiB(hwm),
      disk / 1048576.0, MiB(rss_restart_idle), MiB(rss_restart_touched),
      restart_touch_s, MiB(rss_series), interval.Fields().c_str(),
      LoadAverage1());
  return 0;
}

// ---------------------------------------------------------------------------

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  return trainyard::bench::MetricsBenchMain(
      argc, argv, "ingest_bench",
      [&](bool* help) { return ParseFlags(argc, argv, &flags, help); },
      flags.server,
      [&flags](Server& server) {
        if (flags.mode == "webhooks") return RunWebhooks(flags, server);
        if (flags.mode == "grpc") return RunGrpc(flags, server);
        if (flags.mode == "curve") return RunCurve(flags, server);
        if (flags.mode == "events") return RunEvents(flags, server);
        return RunMemory(flags, server);
      });
}
