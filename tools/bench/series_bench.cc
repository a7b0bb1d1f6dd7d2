// series_bench: throughput and latency of the metric-series layer
// (services/metrics/series) on a real RocksDB, without gRPC or HTTP.
//
// Phases, each on a fresh database under --dir:
//   rss     Ingests --rss_jobs jobs x --rss_points steps x --rss_series
//           series (1000 points per Stage+Write) and prints the RSS; closes,
//           reopens, loads every job (ListSeries) and prints RSS again.
//           Runs first, so the process has not grown from other phases.
//   ingest  Batched ingest: 1000 points per Stage+Write (125 steps x 8
//           series), round-robin over 8 jobs, from 1 and from 2 threads;
//           then the webhook shape: 8 points (one step, 8 series) per
//           Stage+Write, from 1 and 2 threads. Prints points/s, per-write
//           p50/p99 and the process CPU time per write (RocksDB's
//           background threads included).
//   query   GetLossCurve to 1000 points (train_loss + val_loss, full history
//           and random ranges) for a 10K-point and a --big_points-point job;
//           the big one again while another thread ingests into that same job
//           at --background_rate points/s. Prints wall p50/p99/max and
//           the thread CPU time per query (the wait for a core apart).
//
// Usage: series_bench [--dir=DIR] [--phases=rss,ingest,query]
//                     [--ingest_points=N] [--webhook_requests=N]
//                     [--big_points=N] [--queries=N] [--rss_jobs=N]
//                     [--rss_points=N] [--rss_series=1..8]
//                     [--background_rate=N] [--sync_writes]
// DIR must be on the disk under test; default $TMPDIR or /var/tmp.
//
// Wall time is read from std::chrono::steady_clock directly: this program is a
// measurement tool, not service code behind the injected Clock.

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/config/flags.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "common/strings/absl_view.h"
#include "services/metrics/series/series_store.h"
#include "tools/bench/bench_support.h"

namespace {

using trainyard::bench::MiB;
using trainyard::bench::Percentiles;
using trainyard::bench::StatusKiB;
using trainyard::bench::Summarize;
using trainyard::bench::ThreadCpuMillis;
using trainyard::metrics::CurveQuery;
using trainyard::metrics::PointInput;
using trainyard::metrics::SeriesStore;
using trainyard::metrics::SeriesUpdate;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string dir = trainyard::bench::DefaultTempParent();
  std::vector<std::string> phases = {"rss", "ingest", "query"};
  int64_t ingest_points = 4'000'000;
  int64_t webhook_requests = 100'000;
  int64_t big_points = 1'000'000;
  int64_t queries = 2000;
  int64_t rss_jobs = 1000;
  int64_t rss_points = 10'000;
  int64_t rss_series = 1;
  int64_t background_rate = 50'000;
  bool sync_writes = false;
};

const char* const kSeries[8] = {"train_loss",        "val_loss",
                                "learning_rate",     "grad_norm",
                                "gpu_utilization",   "gpu_memory_used_bytes",
                                "tokens_per_second", "perplexity"};

void AddFlags(trainyard::config::FlagSet& flags, Flags* f) {
  trainyard::bench::AddDirFlag(flags, &f->dir);
  flags.AddCustom("phases", "comma-separated: rss, ingest, query",
                  "rss,ingest,query", [f](std::string_view v) {
                    f->phases = absl::StrSplit(trainyard::ToAbsl(v), ',');
                    return absl::OkStatus();
                  });
  flags.AddInt("ingest_points", "ingest: points per shape", &f->ingest_points)
      .Range(1, int64_t{1} << 40);
  flags
      .AddInt("webhook_requests", "ingest: writes of the webhook shape",
              &f->webhook_requests)
      .Range(1, int64_t{1} << 40);
  flags.AddInt("big_points", "query: steps of the big job", &f->big_points)
      .Range(1, int64_t{1} << 40);
  flags.AddInt("queries", "query: timed queries per row", &f->queries)
      .Range(1, 100000000);
  flags.AddInt("rss_jobs", "rss: jobs", &f->rss_jobs).Range(1, 10000000);
  flags.AddInt("rss_points", "rss: steps per job", &f->rss_points)
      .Range(1, int64_t{1} << 40);
  flags.AddInt("rss_series", "rss: series per step", &f->rss_series)
      .Range(1, 8);
  flags
      .AddInt("background_rate",
              "query: points/s appended to the big job during the last rows",
              &f->background_rate)
      .Range(1, 100000000);
  flags.AddBool("sync_writes", "fsync every write", &f->sync_writes);
}

bool HasPhase(const Flags& flags, std::string_view phase) {
  return std::find(flags.phases.begin(), flags.phases.end(), phase) !=
         flags.phases.end();
}

void Die(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  std::exit(1);
}

double RssMiB() { return MiB(StatusKiB(getpid(), "VmRSS")); }

// CPU time of the whole process (RocksDB's background threads included), ms.
double ProcessCpuMs() { return trainyard::bench::SelfCpuSeconds() * 1e3; }

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A database in a fresh directory, removed by the destructor.
class Bench {
 public:
  Bench(const Flags& flags, const char* name) : flags_(flags) {
    absl::StatusOr<std::string> dir = trainyard::bench::MakeTempDir(
        flags.dir, std::string("series_bench_") + name);
    if (!dir.ok()) Die("mkdtemp", dir.status());
    path_ = *dir;
    Open();
  }
  ~Bench() {
    store_.reset();
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  void Open() {
    trainyard::storage::Options options;
    options.path = path_ + "/db";
    options.name = "metrics";
    options.column_families = SeriesStore::ColumnFamilies();
    options.sync_writes = flags_.sync_writes;
    auto db = trainyard::storage::Db::Open(options);
    if (!db.ok()) Die("open", db.status());
    db_ = std::move(*db);
    store_ = std::make_unique<SeriesStore>(*db_);
  }

  void Reopen() {
    store_.reset();
    if (absl::Status s = db_->Close(); !s.ok()) Die("close", s);
    db_.reset();
    Open();
  }

  // Stage + Write + Publish of one batch of points of one job.
  void Write(const std::string& job, const std::vector<PointInput>& points) {
    trainyard::storage::WriteBatch batch;
    SeriesUpdate update;
    if (absl::Status s = store_->Stage(job, points, batch, &update); !s.ok()) {
      Die("stage", s);
    }
    if (absl::Status s = db_->Write(batch); !s.ok()) Die("write", s);
    store_->Publish(std::move(update));
  }

  uint64_t DiskBytes() {
    uint64_t sst = db_->GetAggregatedIntProperty("rocksdb.total-sst-files-size")
                       .value_or(0);
    uint64_t mem =
        db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables")
            .value_or(0);
    return sst + mem;
  }

  SeriesStore& store() { return *store_; }

 private:
  const Flags& flags_;
  std::string path_;
  std::unique_ptr<trainyard::storage::Db> db_;
  std::unique_ptr<SeriesStore> store_;
};

// Points of `steps` consecutive steps from `first` of the given series.
std::vector<PointInput> Points(int64_t first, int64_t steps, int series,
                               std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<PointInput> points;
  points.reserve(steps * series);
  for (int64_t s = first; s < first + steps; ++s) {
    for (int k = 0; k < series; ++k) {
      double v = 2.0 / (1 + s * 1e-4) + noise(rng);
      if (rng() % 5000 == 0) v *= 50;  // A spike now and then.
      points.push_back({kSeries[k], s, v, 1});
    }
  }
  return points;
}

void RunRss(const Flags& flags) {
  malloc_trim(0);
  double base = RssMiB();
  Bench bench(flags, "rss");
  double opened = RssMiB();
  std::mt19937_64 rng(1);
  auto start = Clock::now();
  for (int j = 0; j < flags.rss_jobs; ++j) {
    std::string job = "job-" + std::to_string(j);
    // 1000 points per write whatever the number of series.
    const int64_t steps = 1000 / flags.rss_series;
    for (int64_t s = 0; s < flags.rss_points; s += steps) {
      bench.Write(job, Points(s, std::min<int64_t>(steps, flags.rss_points - s),
                              flags.rss_series, rng));
    }
  }
  double ingest_s = Seconds(Clock::now() - start);
  malloc_trim(0);
  double after_ingest = RssMiB();
  uint64_t disk = bench.DiskBytes();

  bench.Reopen();
  malloc_trim(0);
  double reopened = RssMiB();
  start = Clock::now();
  for (int j = 0; j < flags.rss_jobs; ++j) {
    auto infos = bench.store().ListSeries("job-" + std::to_string(j));
    if (!infos.ok()) Die("list", infos.status());
  }
  double load_s = Seconds(Clock::now() - start);
  malloc_trim(0);
  double loaded = RssMiB();

  int64_t total = flags.rss_jobs * flags.rss_points * flags.rss_series;
  std::printf(
      "\n## rss: %d jobs x %lld steps x %d series (from train_loss), %lld "
      "points\n",
      static_cast<int>(flags.rss_jobs),
      static_cast<long long>(flags.rss_points),
      static_cast<int>(flags.rss_series), static_cast<long long>(total));
  std::printf("| stage | RSS MiB | note |\n|---|---:|---|\n");
  std::printf("| process start | %.1f | |\n", base);
  std::printf(
      "| Db opened (empty) | %.1f | block cache + memtables budget "
      "64+32 MiB, mostly untouched |\n",
      opened);
  std::printf(
      "| after ingest | %.1f | %.1f s, %.0f points/s; on disk %.1f "
      "MiB = %.1f bytes/point |\n",
      after_ingest, ingest_s, total / ingest_s, disk / 1048576.0,
      static_cast<double>(disk) / total);
  std::printf("| reopened (nothing loaded) | %.1f | |\n", reopened);
  std::printf(
      "| all jobs loaded | %.1f | lazy load of %d jobs: %.2f s "
      "(%.2f ms/job) |\n",
      loaded, static_cast<int>(flags.rss_jobs), load_s,
      load_s * 1000 / flags.rss_jobs);
}

// Ingests `points` points in batches of 1000 (125 steps x 8 series) into
// jobs `prefix`0..7, round-robin. Returns per-batch latencies in ms.
std::vector<double> IngestBatches(Bench& bench, const std::string& prefix,
                                  int64_t points, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> next_step(8, 0);
  std::vector<double> ms;
  // Prepared outside the timed loop: point generation is not the layer's.
  std::vector<std::vector<PointInput>> batches;
  for (int i = 0; i < 64; ++i) batches.push_back(Points(0, 125, 8, rng));
  for (int64_t done = 0, i = 0; done < points; done += 1000, ++i) {
    int j = static_cast<int>(i % 8);
    std::vector<PointInput>& batch = batches[i % batches.size()];
    for (size_t k = 0; k < batch.size(); ++k) {
      batch[k].step = next_step[j] + static_cast<int64_t>(k / 8);
    }
    next_step[j] += 125;
    auto t0 = Clock::now();
    bench.Write(prefix + std::to_string(j), batch);
    ms.push_back(Seconds(Clock::now() - t0) * 1000);
  }
  return ms;
}

// One ingest row: `threads` threads each returning the latencies (ms) of
// its writes.
struct IngestRow {
  std::vector<double> ms;  // every write's
  double seconds = 0;      // wall
  double cpu_ms = 0;       // the process's
};

IngestRow OnThreads(int threads,
                    const std::function<std::vector<double>(int)>& work) {
  std::vector<std::vector<double>> ms(threads);
  const double cpu0 = ProcessCpuMs();
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] { ms[t] = work(t); });
  }
  for (auto& w : workers) w.join();
  IngestRow row;
  row.seconds = Seconds(Clock::now() - start);
  row.cpu_ms = ProcessCpuMs() - cpu0;
  for (auto& v : ms) row.ms.insert(row.ms.end(), v.begin(), v.end());
  return row;
}

void RunIngest(const Flags& flags) {
  std::printf("\n## ingest (sync_writes=%s)\n",
              flags.sync_writes ? "true" : "false");
  std::printf(
      "| shape | threads | points | seconds | points/s | writes/s | p50 ms | "
      "p99 ms | CPU us/write |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int threads : {1, 2}) {
    Bench bench(flags, "ingest");
    const IngestRow row = OnThreads(threads, [&](int t) {
      return IngestBatches(bench, "t" + std::to_string(t) + "-job-",
                           flags.ingest_points / threads, 100 + t);
    });
    const size_t writes = row.ms.size();
    const Percentiles p = Summarize(row.ms);
    const double points = static_cast<double>(writes) * 1000;
    std::printf(
        "| 1000 points/write, 8 series | %d | %.0f | %.2f | %.0f | "
        "%.0f | %.3f | %.3f | %.0f |\n",
        threads, points, row.seconds, points / row.seconds,
        writes / row.seconds, p.p50, p.p99, row.cpu_ms * 1000 / writes);
  }
  for (int threads : {1, 2}) {
    // Webhook shape: one step of 8 series per write, over 100 jobs per
    // thread.
    Bench bench(flags, "webhook");
    const IngestRow row = OnThreads(threads, [&](int t) {
      std::mt19937_64 rng(7 + t);
      std::vector<PointInput> request = Points(0, 1, 8, rng);
      const int64_t n = flags.webhook_requests / threads;
      std::vector<double> ms;
      ms.reserve(n);
      for (int64_t i = 0; i < n; ++i) {
        for (PointInput& p : request) p.step = i / 100;
        std::string job =
            "hook-" + std::to_string(t) + "-" + std::to_string(i % 100);
        auto t0 = Clock::now();
        bench.Write(job, request);
        ms.push_back(Seconds(Clock::now() - t0) * 1000);
      }
      return ms;
    });
    const size_t writes = row.ms.size();
    const Percentiles p = Summarize(row.ms);
    std::printf(
        "| webhook: 8 points/write | %d | %zu | %.2f | %.0f | %.0f | "
        "%.3f | %.3f | %.1f |\n",
        threads, writes * 8, row.seconds, writes * 8 / row.seconds,
        writes / row.seconds, p.p50, p.p99, row.cpu_ms * 1000 / writes);
  }
}

struct QueryTimes {
  Percentiles wall;
  Percentiles cpu;
};

QueryTimes TimeQueries(SeriesStore& store, const std::string& job,
                       int64_t max_step, int n, bool random_ranges,
                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> ms, cpu;
  ms.reserve(n);
  cpu.reserve(n);
  for (int i = 0; i < n; ++i) {
    CurveQuery request;
    request.job_id = job;
    request.series = {"train_loss", "val_loss"};  // 1000 points by default
    if (random_ranges) {
      int64_t a = static_cast<int64_t>(rng() % max_step);
      int64_t b = static_cast<int64_t>(rng() % max_step);
      request.start_step = std::min(a, b);
      request.end_step = std::max(a, b);
    }
    auto t0 = Clock::now();
    double c0 = ThreadCpuMillis();
    auto curve = store.GetLossCurve(request);
    cpu.push_back(ThreadCpuMillis() - c0);
    ms.push_back(Seconds(Clock::now() - t0) * 1000);
    if (!curve.ok()) Die("query", curve.status());
    if (curve->series(0).points_size() > 1000) {
      std::fprintf(stderr, "too many points\n");
      std::exit(1);
    }
  }
  return {Summarize(ms), Summarize(cpu)};
}

// Loads `steps` steps of train_loss (and val_loss every 100 steps).
void LoadJob(Bench& bench, const std::string& job, int64_t steps) {
  std::mt19937_64 rng(3);
  for (int64_t s = 0; s < steps; s += 1000) {
    std::vector<PointInput> points =
        Points(s, std::min<int64_t>(1000, steps - s), 1, rng);
    for (int64_t v = (s + 99) / 100 * 100; v < s + 1000 && v < steps;
         v += 100) {
      points.push_back({"val_loss", v, 0.5, 1});
    }
    bench.Write(job, points);
  }
}

void RunQuery(const Flags& flags) {
  Bench bench(flags, "query");
  const int64_t small = 10'000;
  LoadJob(bench, "small", small);
  auto start = Clock::now();
  LoadJob(bench, "big", flags.big_points);
  double load_s = Seconds(Clock::now() - start);

  std::printf(
      "\n## query: GetLossCurve, train_loss + val_loss, max_points "
      "1000 (%d queries each; big job loaded in %.1f s)\n",
      static_cast<int>(flags.queries), load_s);
  std::printf(
      "| job | range | concurrent ingest | p50 ms | p99 ms | max ms | "
      "CPU p50 ms | CPU p99 ms |\n|---|---|---|---:|---:|---:|---:|---:|\n");
  auto row = [](const char* job, const char* range, const char* ingest,
                QueryTimes t) {
    std::printf("| %s | %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", job,
                range, ingest, t.wall.p50, t.wall.p99, t.wall.max, t.cpu.p50,
                t.cpu.p99);
  };
  std::string big_name = std::to_string(flags.big_points / 1000) + "K points";
  // Warm-up (block cache), not measured.
  TimeQueries(bench.store(), "big", flags.big_points, 50, false, 1);
  row("10K points", "full", "no",
      TimeQueries(bench.store(), "small", small, flags.queries, false, 1));
  row("10K points", "random", "no",
      TimeQueries(bench.store(), "small", small, flags.queries, true, 2));
  row(big_name.c_str(), "full", "no",
      TimeQueries(bench.store(), "big", flags.big_points, flags.queries, false,
                  3));
  row(big_name.c_str(), "random", "no",
      TimeQueries(bench.store(), "big", flags.big_points, flags.queries, true,
                  4));

  // Another thread appends to the same big job at background_rate points/s
  // (batches of 500 points every 500/rate s), so queries race with tail
  // folds of the series they read.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ingested{0};
  std::thread writer([&] {
    std::mt19937_64 rng(5);
    int64_t step = flags.big_points;
    const auto period = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(500.0 / flags.background_rate));
    auto next = Clock::now();
    while (!stop.load()) {
      bench.Write("big", Points(step, 500, 1, rng));
      step += 500;
      ingested += 500;
      next += period;
      std::this_thread::sleep_until(next);
    }
  });
  start = Clock::now();
  QueryTimes full = TimeQueries(bench.store(), "big", flags.big_points,
                                flags.queries, false, 6);
  QueryTimes random = TimeQueries(bench.store(), "big", flags.big_points,
                                  flags.queries, true, 7);
  double s = Seconds(Clock::now() - start);
  stop = true;
  writer.join();
  char ingest[64];
  std::snprintf(ingest, sizeof(ingest), "yes, %.0f points/s",
                ingested.load() / s);
  row(big_name.c_str(), "full", ingest, full);
  row(big_name.c_str(), "random", ingest, random);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  trainyard::config::FlagSet set("series_bench");
  AddFlags(set, &flags);
  std::printf("# series_bench\n\n");
  if (std::optional<int> exit = trainyard::bench::StartBench(set, argc, argv)) {
    return *exit;
  }
  std::printf("dir: %s, hardware threads: %u\n", flags.dir.c_str(),
              std::thread::hardware_concurrency());
  if (HasPhase(flags, "rss")) RunRss(flags);
  if (HasPhase(flags, "ingest")) RunIngest(flags);
  if (HasPhase(flags, "query")) RunQuery(flags);
  return 0;
}
