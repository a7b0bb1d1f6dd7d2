// events_bench: the event log's query, export and ingest figures (R-EVT-01,
// R-EVT-02, R-EVT-03, R-EVT-05).
//
// Builds one job with N events (default 100,000) of a realistic mix (mostly
// METRICS, some STATUS / CHECKPOINT / INFO / WARNING, a few ERROR; ~400-byte
// raw JSON bodies) in a fresh RocksDB, then prints:
//   - latency of ListEvents pages (p50 / p99 / max over --iterations calls)
//     for several selections, the goal being a page of 50 with two types and
//     a keyword, newest first, p99 <= 10 ms on a 2-core machine;
//   - the first ListEvents after a restart (new Db + new EventStore: the
//     job's index is rebuilt from RocksDB), separately;
//   - memory of the job's in-memory index per 100K events;
//   - ingest throughput of Stage + Db::Write + Publish, one event per batch,
//     with WAL-only and with fsynced writes;
//   - full CSV / JSONL export throughput.
//
// Usage: events_bench [--dir=DIR] [--events=N] [--iterations=N]
//                     [--ingest=N] [--sync_ingest=N]
// DIR must be on the disk under test (not tmpfs); default $TMPDIR or /var/tmp.
//
// Wall time is read from std::chrono::steady_clock directly: this program is a
// measurement tool, not service code behind the injected Clock.

#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/storage/db.h"
#include "common/strings/absl_view.h"
#include "common/time/clock.h"
#include "services/metrics/events/event_store.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace {

namespace common = ::trainyard::common::v1;
using ::trainyard::RealClock;
using ::trainyard::metrics::EventStore;
using ::trainyard::metrics::EventUpdate;
using ::trainyard::metrics::v1::Event;
using ::trainyard::metrics::v1::ListEventsRequest;
using ::trainyard::metrics::v1::ListEventsResponse;
using ::trainyard::storage::Db;
using ::trainyard::storage::WriteBatch;
using Clock = std::chrono::steady_clock;

constexpr char kJob[] = "job-bench-1";
constexpr int64_t kStartSeconds = 1764385200;

struct Flags {
  std::string dir;
  int events = 100000;
  int iterations = 300;
  int ingest = 20000;
  int sync_ingest = 2000;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  const char* tmp = getenv("TMPDIR");
  flags->dir = (tmp != nullptr && tmp[0] != '\0') ? tmp : "/var/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&arg](std::string_view name) -> const char* {
      return arg.starts_with(name) ? arg.data() + name.size() : nullptr;
    };
    if (const char* v = value("--dir=")) {
      flags->dir = v;
    } else if (const char* v = value("--events=")) {
      flags->events = atoi(v);
    } else if (const char* v = value("--iterations=")) {
      flags->iterations = atoi(v);
    } else if (const char* v = value("--ingest=")) {
      flags->ingest = atoi(v);
    } else if (const char* v = value("--sync_ingest=")) {
      flags->sync_ingest = atoi(v);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return false;
    }
  }
  return flags->events > 0 && flags->iterations > 0 && flags->ingest >= 0 &&
         flags->sync_ingest >= 0;
}

// The 1-minute load average, to judge how much other processes took.
std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  char buf[64] = {0};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  if (!ok) return "?";
  std::string text(buf);
  return text.substr(0, text.find(' '));
}

// CPU time of the calling thread, in ms: the work a call did, without the
// time the scheduler gave to other processes (on a busy 2-core machine, wall
// p99 mostly measures preemption).
double ThreadCpuMillis() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Event `seq` of a 3-epoch, 2000-steps-per-epoch run with a report every
// step: ~88% METRICS, a CHECKPOINT every 100 steps, STATUS every 50, INFO and
// WARNING now and then, a rare ERROR.
Event MakeEvent(std::string_view job, uint64_t seq) {
  Event e;
  e.set_job_id(std::string(job));
  e.set_event_id(absl::StrCat("evt_1_", seq));
  e.set_source(common::EVENT_SOURCE_CONTAINER);
  e.set_attempt(1);
  e.set_attempt_seq(static_cast<int64_t>(seq));
  e.set_job_seq(seq);
  e.mutable_occurred_time()->set_seconds(kStartSeconds +
                                         static_cast<int64_t>(seq) * 3);
  e.mutable_receive_time()->set_seconds(kStartSeconds +
                                        static_cast<int64_t>(seq) * 3 + 1);
  const uint64_t step = seq % 2000;
  const uint64_t epoch = (seq / 2000) % 3 + 1;
  std::string body;
  if (seq % 100 == 0) {
    e.set_type(common::EVENT_TYPE_CHECKPOINT);
    e.set_message(absl::StrCat("Checkpoint saved at step ", step));
    e.mutable_checkpoint()->set_step(static_cast<int64_t>(step));
    e.mutable_checkpoint()->set_uri(
        absl::StrCat("s3://bucket/", trainyard::ToAbsl(job), "/ckpt-", step));
    e.mutable_checkpoint()->set_size_bytes(167772160);
    body = absl::StrCat(R"({"type":"checkpoint","attempt":1,"seq":)", seq,
                        R"(,"checkpoint":{"step":)", step,
                        R"(,"uri":"s3://bucket/job/ckpt-)", step,
                        R"(","sizeBytes":167772160}})");
  } else if (seq % 50 == 0) {
    e.set_type(common::EVENT_TYPE_STATUS);
    e.set_message(
        absl::StrCat("Training epoch ", epoch, "/3 - Step ", step, "/2000..."));
    e.mutable_status()->set_stage(common::STAGE_TRAINING);
    e.mutable_status()->set_substatus(e.message());
    body = absl::StrCat(R"({"type":"status","attempt":1,"seq":)", seq,
                        R"(,"status":{"stage":"training","substatus":")",
                        e.message(), R"(","stageProgress":42.5}})");
  } else if (seq % 97 == 0) {
    e.set_type(common::EVENT_TYPE_WARNING);
    e.set_message(
        seq % 2 == 0
            ? absl::StrCat("GPU utilization low: 43% at step ", step)
            : absl::StrCat("Loss spike at step ", step, ": 0.91 (was 0.34)"));
    body = absl::StrCat(R"({"type":"warning","attempt":1,"seq":)", seq,
                        R"(,"message":")", e.message(), R"("})");
  } else if (seq % 61 == 0) {
    e.set_type(common::EVENT_TYPE_INFO);
    e.set_message(
        absl::StrCat("Validation running on 2,000 conversations… ✓ ", step));
    body = absl::StrCat(R"({"type":"info","attempt":1,"seq":)", seq,
                        R"(,"message":")", e.message(), R"("})");
  } else if (seq % 4999 == 0) {
    e.set_type(common::EVENT_TYPE_ERROR);
    e.set_message("CUDA out of memory");
    e.mutable_error()->set_code("CUDA_OOM");
    e.mutable_error()->set_message("CUDA out of memory");
    body = absl::StrCat(R"({"type":"error","attempt":1,"seq":)", seq,
                        R"(,"error":{"code":"CUDA_OOM"}})");
  } else {
    e.set_type(common::EVENT_TYPE_METRICS);
    e.set_message(absl::StrCat("Training epoch ", epoch, "/3 - Step ", step,
                               "/2000... loss 0.", 300 + seq % 97));
    auto* m = e.mutable_metrics();
    m->set_step(static_cast<int64_t>(step));
    m->set_total_steps(2000);
    m->set_epoch(static_cast<int32_t>(epoch));
    m->set_total_epochs(3);
    m->set_train_loss(0.3 + (seq % 97) / 1000.0);
    m->set_learning_rate(0.000182);
    m->set_lr_schedule("cosine");
    m->set_gpu_utilization(0.87);
    m->set_tokens_per_second(1247);
    body = absl::StrCat(
        R"({"type":"metrics","attempt":1,"seq":)", seq,
        R"(,"time":"2026-11-29T03:05:00.123Z","message":")", e.message(),
        R"(","metrics":{"step":)", step, R"(,"totalSteps":2000,"epoch":)",
        epoch,
        R"(,"totalEpochs":3,"trainLoss":0.342,"valLoss":0.358,)"
        R"("learningRate":0.000182,"lrSchedule":"cosine","gradNorm":0.81,)"
        R"("gpuUtilization":0.87,"gpuMemoryUsedBytes":73014444032,)"
        R"("gpuMemoryTotalBytes":85899345920,"tokensPerSecond":1247,)"
        R"("perplexity":1.43}})");
  }
  e.set_raw_json(body);
  return e;
}

std::unique_ptr<Db> OpenDb(const std::string& path, bool sync) {
  trainyard::storage::Options options;
  options.path = path;
  options.name = "metrics";
  options.column_families = EventStore::ColumnFamilies();
  options.sync_writes = sync;
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(options);
  if (!db.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(),
                 db.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(db);
}

struct Latency {
  double p50 = 0, p99 = 0, max = 0;
};

Latency Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  return {at(0.50), at(0.99), ms.back()};
}

// Times `iterations` calls of List(request) after 20 warm-up calls.
bool TimeList(EventStore& store, const char* name,
              const ListEventsRequest& request, int iterations) {
  std::vector<double> ms, cpu;
  ListEventsResponse last;
  for (int i = -20; i < iterations; ++i) {
    const double cpu_start = ThreadCpuMillis();
    const auto start = Clock::now();
    absl::StatusOr<ListEventsResponse> r = store.List(request);
    const auto end = Clock::now();
    const double cpu_ms = ThreadCpuMillis() - cpu_start;
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, r.status().ToString().c_str());
      return false;
    }
    if (i >= 0) {
      ms.push_back(Millis(end - start));
      cpu.push_back(cpu_ms);
    }
    last = *std::move(r);
  }
  Latency l = Summarize(ms);
  Latency c = Summarize(cpu);
  std::printf("  %-46s %7.3f %7.3f %7.3f %8.3f %8.3f %8d%s %7d%s\n", name,
              l.p50, l.p99, l.max, c.p50, c.p99, last.total_size(),
              last.total_size_capped() ? "+" : " ", last.match_count(),
              last.match_count_capped() ? "+" : " ");
  return true;
}

ListEventsRequest TwoTypesKeyword() {
  ListEventsRequest req;
  req.set_job_id(kJob);
  req.set_page_size(50);
  req.set_order_by("job_seq desc");
  req.mutable_query()->add_types(common::EVENT_TYPE_WARNING);
  req.mutable_query()->add_types(common::EVENT_TYPE_STATUS);
  req.mutable_query()->set_keyword("step");
  return req;
}

bool Run(const Flags& flags, const std::string& dir) {
  RealClock clock;
  std::unique_ptr<Db> db = OpenDb(dir + "/db", /*sync=*/false);
  if (db == nullptr) return false;
  auto store = std::make_unique<EventStore>(*db, clock);

  // ---- Load ---------------------------------------------------------------
  {
    const auto start = Clock::now();
    for (int first = 1; first <= flags.events; first += 1000) {
      WriteBatch batch;
      EventUpdate update;
      for (int seq = first; seq < first + 1000 && seq <= flags.events; ++seq) {
        store->Stage(MakeEvent(kJob, static_cast<uint64_t>(seq)), batch,
                     &update);
      }
      if (absl::Status s = db->Write(batch); !s.ok()) {
        std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
        return false;
      }
      store->Publish(update);
    }
    const double ms = Millis(Clock::now() - start);
    std::printf("load: %d events in batches of 1000: %.0f ms (%.0f events/s)\n",
                flags.events, ms, flags.events / ms * 1000);
  }

  // ---- Cold: first query after a restart ------------------------------------
  store.reset();
  if (absl::Status s = db->Close(); !s.ok()) return false;
  db = OpenDb(dir + "/db", /*sync=*/false);
  if (db == nullptr) return false;
  store = std::make_unique<EventStore>(*db, clock);
  std::printf("\nafter restart (new Db + EventStore; OS page cache warm):\n");
  {
    const auto start = Clock::now();
    absl::StatusOr<ListEventsResponse> r = store->List(TwoTypesKeyword());
    const double cold = Millis(Clock::now() - start);
    const auto start2 = Clock::now();
    absl::StatusOr<ListEventsResponse> r2 = store->List(TwoTypesKeyword());
    const double warm = Millis(Clock::now() - start2);
    if (!r.ok() || !r2.ok()) return false;
    EventStore::IndexStats stats = store->GetIndexStats();
    std::printf("  first List (builds the index):  %8.1f ms\n", cold);
    std::printf("  second List:                    %8.3f ms\n", warm);
    std::printf(
        "  index memory: %.2f MiB for %zu events = %.1f bytes/event "
        "(%.2f MiB per 100K events)\n",
        stats.bytes / 1048576.0, stats.events,
        static_cast<double>(stats.bytes) / stats.events,
        stats.bytes / 1048576.0 * 100000 / stats.events);
  }

  // ---- Warm queries ---------------------------------------------------------
  std::printf("\nListEvents on %d events, %d timed calls each (ms):\n",
              flags.events, flags.iterations);
  std::printf("  %-46s %7s %7s %7s %8s %8s %9s %8s\n", "query", "p50", "p99",
              "max", "cpu p50", "cpu p99", "total", "matches");
  bool ok = TimeList(*store, "50, {WARNING,STATUS} + \"step\", desc [goal]",
                     TwoTypesKeyword(), flags.iterations);
  {
    ListEventsRequest req = TwoTypesKeyword();
    req.set_order_by("job_seq");
    ok = ok && TimeList(*store, "50, {WARNING,STATUS} + \"step\", asc", req,
                        flags.iterations);
  }
  {
    ListEventsRequest req;
    req.set_job_id(kJob);
    req.set_page_size(50);
    req.set_order_by("job_seq desc");
    ok =
        ok && TimeList(*store, "50, no selection, desc", req, flags.iterations);
    req.set_page_size(100);
    ok = ok &&
         TimeList(*store, "100, no selection, desc", req, flags.iterations);
    req.set_page_size(50);
    req.mutable_query()->set_keyword("checkpoint");
    ok = ok && TimeList(*store, "50, keyword \"checkpoint\" (all types)", req,
                        flags.iterations);
    req.mutable_query()->set_keyword("loss 0.39");
    ok = ok && TimeList(*store, "50, keyword \"loss 0.39\" (all types)", req,
                        flags.iterations);
    req.mutable_query()->set_keyword("no such text");
    ok = ok &&
         TimeList(*store, "50, keyword without matches", req, flags.iterations);
    req.clear_query();
    req.mutable_query()->add_types(common::EVENT_TYPE_ERROR);
    req.set_filter("attempt = 1 AND source = CONTAINER");
    ok = ok && TimeList(*store, "50, {ERROR} + filter", req, flags.iterations);
  }
  {
    // Page 20 of the goal query (tokens followed from page 1).
    ListEventsRequest req = TwoTypesKeyword();
    req.set_page_size(25);
    for (int page = 1; page < 20; ++page) {
      absl::StatusOr<ListEventsResponse> r = store->List(req);
      if (!r.ok() || r->next_page_token().empty()) break;
      req.set_page_token(r->next_page_token());
    }
    ok = ok && TimeList(*store, "25, page 20 of {WARNING,STATUS} + \"step\"",
                        req, flags.iterations);
  }
  if (!ok) return false;

  // ---- Export ------------------------------------------------------------
  std::printf("\nExportEvents of all %d events:\n", flags.events);
  for (auto format : {common::EXPORT_FORMAT_CSV, common::EXPORT_FORMAT_JSONL}) {
    trainyard::metrics::v1::ExportEventsRequest req;
    req.set_job_id(kJob);
    req.set_format(format);
    size_t bytes = 0, chunks = 0;
    const auto start = Clock::now();
    absl::Status s = store->Export(
        req, absl::FromUnixSeconds(kStartSeconds),
        [&](const trainyard::metrics::v1::ExportEventsResponse& c) {
          bytes += c.chunk().size();
          ++chunks;
          return absl::OkStatus();
        });
    const double ms = Millis(Clock::now() - start);
    if (!s.ok()) return false;
    std::printf("  %-5s %8.0f ms  %6.1f MiB in %zu chunks  %6.1f MiB/s\n",
                format == common::EXPORT_FORMAT_CSV ? "CSV" : "JSONL", ms,
                bytes / 1048576.0, chunks, bytes / 1048576.0 / ms * 1000);
  }

  // ---- Ingest --------------------------------------------------------------
  auto ingest = [&](Db& target, EventStore& events, const char* job, int n,
                    const char* label) {
    // Load the job's index first so that Publish has work to do.
    {
      WriteBatch batch;
      EventUpdate update;
      events.Stage(MakeEvent(job, 1), batch, &update);
      if (!target.Write(batch).ok()) return false;
      events.Publish(update);
      ListEventsRequest req;
      req.set_job_id(job);
      if (!events.List(req).ok()) return false;
    }
    std::vector<Event> prepared;
    prepared.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      prepared.push_back(MakeEvent(job, static_cast<uint64_t>(i) + 2));
    }
    const auto start = Clock::now();
    for (const Event& e : prepared) {
      WriteBatch batch;
      EventUpdate update;
      absl::StatusOr<std::optional<uint64_t>> dup =
          events.FindByEventId(job, e.event_id());
      if (!dup.ok() || dup->has_value()) return false;
      events.Stage(e, batch, &update);
      if (!target.Write(batch).ok()) return false;
      events.Publish(update);
    }
    const double ms = Millis(Clock::now() - start);
    std::printf("  %-44s %7d events %8.0f ms %9.0f events/s %7.1f us/event\n",
                label, n, ms, n / ms * 1000, ms * 1000 / n);
    return true;
  };
  std::printf(
      "\ningest, one event per batch (FindByEventId + Stage + Write + "
      "Publish), 1 thread:\n");
  if (flags.ingest > 0 &&
      !ingest(*db, *store, "job-bench-ingest", flags.ingest, "WAL only")) {
    return false;
  }
  store.reset();
  if (!db->Close().ok()) return false;
  db.reset();
  if (flags.sync_ingest > 0) {
    std::unique_ptr<Db> sync_db = OpenDb(dir + "/db-sync", /*sync=*/true);
    if (sync_db == nullptr) return false;
    EventStore sync_store(*sync_db, clock);
    if (!ingest(*sync_db, sync_store, "job-bench-sync", flags.sync_ingest,
                "sync_writes (fsync per write, no grouping)")) {
      return false;
    }
    if (!sync_db->Close().ok()) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += std::string(i ? " " : "") + argv[i];
  std::printf("%s\n", cmd.c_str());
  std::printf(
      "dir=%s events=%d iterations=%d ingest=%d sync_ingest=%d "
      "cores=%u load=%s\n\n",
      flags.dir.c_str(), flags.events, flags.iterations, flags.ingest,
      flags.sync_ingest, std::thread::hardware_concurrency(),
      LoadAverage().c_str());
  std::string pattern = flags.dir + "/events_bench_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const bool ok = Run(flags, pattern);
  std::printf("\nload at the end: %s\n", LoadAverage().c_str());
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
  return ok ? 0 : 1;
}
