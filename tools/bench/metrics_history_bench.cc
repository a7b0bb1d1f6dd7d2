// Copyright 2026 Trainyard authors.
//
// metrics_history_bench: memory and start-up of a real trainyard-metrics
// against the number of jobs it has ever seen (issue 9 §3: memory bounded
// by a budget, not by history).
//
// Ingests --jobs distinct jobs of --events_per_job events each over gRPC
// (IngestEvents, --threads threads, up to 1,000 events a call): a STATUS
// (training), METRICS events of 8 values, and for --finished_percent of the
// jobs a last STATUS of finalization at 100% (the container is done: the
// job leaves the stall watch). --layout=sequential sends all of a job's
// events in one call (every call is about new jobs); --layout=rounds sends
// event k of every job before event k+1 of any (each job is touched
// --events_per_job times, far apart: with a small cache it is reloaded).
//
// Prints: server CPU per event of the ingest, RSS after the ingest, RSS
// after reading every job (GetProgress + ListSeries: loads its state and
// series), restart-to-SERVING time (process start to health SERVING) after
// --restart_at jobs and after all of them, and RSS after each restart; then
// a RESULT line. Pass the cache budget with
// --server_flag=--job_cache_bytes=N (a server without the flag: omit it).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config/flags.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "tools/bench/bench_support.h"

namespace trainyard::bench {
namespace {

using ::trainyard::RealClock;
namespace v1 = ::trainyard::metrics::v1;
namespace common = ::trainyard::common::v1;

constexpr int kValues = 8;
constexpr int kMaxEventsPerCall = 1000;

struct Flags {
  ServerFlags server;
  int64_t jobs = 200000;
  int64_t events_per_job = 4;
  int64_t finished_percent = 90;
  int64_t restart_at = 10000;
  int64_t threads = 2;
  std::string layout = "sequential";
  bool read_all = true;
};

absl::Status ParseFlags(int argc, char** argv, Flags* f, bool* help) {
  config::FlagSet flags(
      "metrics_history_bench: RSS and restart time of trainyard-metrics "
      "against the number of jobs of history");
  AddServerFlags(flags, &f->server);
  flags.AddInt("jobs", "distinct jobs to ingest", &f->jobs).Range(1, 10000000);
  flags
      .AddInt("events_per_job",
              "events per job: a STATUS, METRICS, and a last STATUS for "
              "finished jobs",
              &f->events_per_job)
      .Range(2, 1000);
  flags
      .AddInt("finished_percent", "jobs whose container finishes",
              &f->finished_percent)
      .Range(0, 100);
  flags
      .AddInt("restart_at",
              "also restart (and time it) after this many jobs; 0: only at "
              "the end",
              &f->restart_at)
      .Range(0, 10000000);
  flags.AddInt("threads", "ingest and read threads", &f->threads).Range(1, 64);
  flags.AddString("layout",
                  "sequential (a job's events in one call) or rounds (event "
                  "k of every job, then k+1)",
                  &f->layout);
  flags.AddBool("read_all",
                "after the ingest, GetProgress and ListSeries on every job",
                &f->read_all);
  RETURN_IF_ERROR(ParseBenchFlags(flags, argc, argv, help));
  if (f->layout != "sequential" && f->layout != "rounds") {
    return absl::InvalidArgumentError("--layout: sequential or rounds");
  }
  return absl::OkStatus();
}

std::string JobId(int64_t j) { return absl::StrCat("hist-", j); }

// Event k (1-based) of job j.
void FillJobEvent(const Flags& flags, int64_t j, int64_t k,
                  const google::protobuf::Timestamp& now, v1::IngestEvent* e) {
  const std::string job = JobId(j);
  const bool finished = j % 100 < flags.finished_percent;
  if (k == 1 || (k == flags.events_per_job && finished)) {
    e->Clear();
    e->set_job_id(job);
    e->set_event_id(absl::StrCat("evt_1_", k));
    e->set_type(common::EVENT_TYPE_STATUS);
    e->set_attempt(1);
    e->set_attempt_seq(k);
    *e->mutable_occurred_time() = now;
    v1::StatusPayload* status = e->mutable_status();
    if (k == 1) {
      status->set_stage(common::STAGE_TRAINING);
      status->set_substatus("Training epoch 1/3 - Step 1/2000...");
    } else {
      status->set_stage(common::STAGE_FINALIZATION);
      status->set_substatus("Cleaning up temporary files...");
      status->set_stage_progress(100);
    }
    e->set_message(status->substatus());
    return;
  }
  FillMetricsEvent(e, job, k, kValues, now, /*with_message=*/true);
}

// Ingests the events of jobs [first, last) with `flags.threads` threads.
// Returns the events stored, or -1 after printing the first error.
int64_t IngestJobs(const Flags& flags, MetricsServer& server, int64_t first,
                   int64_t last) {
  std::atomic<int64_t> stored{0};
  std::string error;
  std::mutex error_mu;  // guards error
  const int64_t per_call_jobs =
      std::max<int64_t>(1, kMaxEventsPerCall / flags.events_per_job);
  // Work items: (first job, end job, event k or 0 for all events).
  struct Item {
    int64_t begin, end, k;
  };
  std::vector<Item> items;
  if (flags.layout == "sequential") {
    for (int64_t b = first; b < last; b += per_call_jobs) {
      items.push_back({b, std::min(last, b + per_call_jobs), 0});
    }
  } else {
    for (int64_t k = 1; k <= flags.events_per_job; ++k) {
      for (int64_t b = first; b < last; b += kMaxEventsPerCall) {
        items.push_back({b, std::min<int64_t>(last, b + kMaxEventsPerCall), k});
      }
    }
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<v1::MetricsService::Stub> stub =
          v1::MetricsService::NewStub(server.NewChannel(t + 1));
      const RealClock clock;
      v1::IngestEventsRequest req;
      for (size_t i = next++; i < items.size(); i = next++) {
        const Item& item = items[i];
        req.clear_events();
        const google::protobuf::Timestamp now = ToProto(clock.Now());
        for (int64_t j = item.begin; j < item.end; ++j) {
          if (item.k != 0) {
            FillJobEvent(flags, j, item.k, now, req.add_events());
            continue;
          }
          for (int64_t k = 1; k <= flags.events_per_job; ++k) {
            FillJobEvent(flags, j, k, now, req.add_events());
          }
        }
        absl::StatusOr<int> accepted = Ingest(server, *stub, req);
        if (!accepted.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (error.empty()) error = accepted.status().ToString();
          return;
        }
        stored += *accepted;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  if (!error.empty()) {
    std::printf("ingest failed: %s\n", error.c_str());
    return -1;
  }
  return stored.load();
}

// GetProgress and ListSeries on every job; returns the wall seconds or an
// error.
absl::StatusOr<double> ReadAll(const Flags& flags, MetricsServer& server) {
  const auto start = SteadyClock::now();
  std::atomic<int64_t> next{0};
  std::string error;
  std::mutex error_mu;  // guards error
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<v1::MetricsService::Stub> stub =
          v1::MetricsService::NewStub(server.NewChannel(t + 1));
      for (int64_t j = next++; j < flags.jobs; j = next++) {
        v1::GetProgressRequest progress;
        progress.set_job_id(JobId(j));
        v1::GetProgressResponse progress_resp;
        grpc::ClientContext ctx;
        server.AuthorizeViewer(ctx);
        grpc::Status s = stub->GetProgress(&ctx, progress, &progress_resp);
        if (s.ok()) {
          v1::ListSeriesRequest series;
          series.set_job_id(JobId(j));
          v1::ListSeriesResponse series_resp;
          grpc::ClientContext ctx2;
          server.AuthorizeViewer(ctx2);
          s = stub->ListSeries(&ctx2, series, &series_resp);
          if (s.ok() && series_resp.series_size() != kValues) {
            s = grpc::Status(grpc::StatusCode::INTERNAL,
                             absl::StrCat(series_resp.series_size(),
                                          " series instead of ", kValues));
          }
        }
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (error.empty()) {
            error = absl::StrCat(JobId(j), ": ", s.error_message());
          }
          return;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  if (!error.empty()) return absl::InternalError(error);
  return SecondsSince(start);
}

struct Restart {
  double seconds = 0;  // process start to health SERVING
  double rss_mib = 0;  // right after
};

absl::StatusOr<Restart> RestartServer(MetricsServer& server) {
  absl::StatusOr<double> seconds = server.Restart();
  if (!seconds.ok()) return seconds.status();
  Restart r;
  r.seconds = *seconds;
  r.rss_mib = MiB(StatusKiB(server.pid(), "VmRSS"));
  return r;
}

int RunHistory(const Flags& flags, MetricsServer& server) {
  absl::PrintF(
      "history: %d jobs x %d events (STATUS, METRICS of %d values, %d%% "
      "finished), layout %s, %d threads; restart after %d jobs and at the "
      "end\n",
      flags.jobs, flags.events_per_job, kValues, flags.finished_percent,
      flags.layout, flags.threads, flags.restart_at);
  std::printf("RSS at start: %.1f MiB\n",
              MiB(StatusKiB(server.pid(), "VmRSS")));
  Restart early;
  const int64_t first_part =
      flags.restart_at > 0 && flags.restart_at < flags.jobs ? flags.restart_at
                                                            : 0;
  if (first_part > 0) {
    Interval part(server.pid());
    if (IngestJobs(flags, server, 0, first_part) < 0) return 1;
    part.Stop();
    part.Print("ingest of the first jobs");
    absl::StatusOr<Restart> r = RestartServer(server);
    if (!r.ok()) {
      std::printf("%s\n", r.status().ToString().c_str());
      return 1;
    }
    early = *r;
    absl::PrintF(
        "restart with %d jobs of history: SERVING in %.3f s, RSS %.1f "
        "MiB\n",
        first_part, early.seconds, early.rss_mib);
  }
  Interval ingest(server.pid());
  const int64_t stored = IngestJobs(flags, server, first_part, flags.jobs);
  if (stored < 0) return 1;
  ingest.Stop();
  ingest.Print("ingest");
  const double us_per_event = ingest.server_cpu() * 1e6 / stored;
  std::printf(
      "ingest: %lld events of %lld jobs, %.0f events/s; server CPU "
      "per event %.1f us\n",
      static_cast<long long>(stored),
      static_cast<long long>(flags.jobs - first_part), stored / ingest.wall(),
      us_per_event);
  const double rss_ingested = MiB(StatusKiB(server.pid(), "VmRSS"));
  std::printf("RSS after ingest: %.1f MiB (peak %.1f MiB)\n", rss_ingested,
              MiB(StatusKiB(server.pid(), "VmHWM")));
  double read_s = 0, rss_read = 0;
  if (flags.read_all) {
    absl::StatusOr<double> read = ReadAll(flags, server);
    if (!read.ok()) {
      std::printf("read all: %s\n", read.status().ToString().c_str());
      return 1;
    }
    read_s = *read;
    rss_read = MiB(StatusKiB(server.pid(), "VmRSS"));
    std::printf(
        "RSS after GetProgress + ListSeries on every job (%.1f s): "
        "%.1f MiB\n",
        read_s, rss_read);
  }
  absl::StatusOr<Restart> last = RestartServer(server);
  if (!last.ok()) {
    std::printf("%s\n", last.status().ToString().c_str());
    return 1;
  }
  absl::PrintF(
      "restart with %d jobs of history: SERVING in %.3f s, RSS %.1f "
      "MiB\n",
      flags.jobs, last->seconds, last->rss_mib);
  absl::PrintF(
      "RESULT jobs=%d events_per_job=%d layout=%s server_us_per_event=%.1f "
      "rss_ingested_mib=%.1f rss_read_all_mib=%.1f read_all_s=%.1f "
      "restart_early_jobs=%d restart_early_s=%.3f restart_early_rss_mib=%.1f "
      "restart_s=%.3f restart_rss_mib=%.1f %s load1=%.2f\n",
      flags.jobs, flags.events_per_job, flags.layout, us_per_event,
      rss_ingested, rss_read, read_s, first_part, early.seconds, early.rss_mib,
      last->seconds, last->rss_mib, ingest.Fields().c_str(), LoadAverage1());
  return 0;
}

int Run(int argc, char** argv) {
  Flags flags;
  return MetricsBenchMain(
      argc, argv, "metrics_history_bench",
      [&](bool* help) { return ParseFlags(argc, argv, &flags, help); },
      flags.server,
      [&flags](MetricsServer& server) { return RunHistory(flags, server); });
}

}  // namespace
}  // namespace trainyard::bench

int main(int argc, char** argv) { return trainyard::bench::Run(argc, argv); }
