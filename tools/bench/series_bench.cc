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
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "services/metrics/series/series_store.h"

namespace {

using trainyard::metrics::CurveQuery;
using trainyard::metrics::PointInput;
using trainyard::metrics::SeriesStore;
using trainyard::metrics::SeriesUpdate;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string dir;
  std::vector<std::string> phases = {"rss", "ingest", "query"};
  int64_t ingest_points = 4'000'000;
  int64_t webhook_requests = 100'000;
  int64_t big_points = 1'000'000;
  int queries = 2000;
  int rss_jobs = 1000;
  int64_t rss_points = 10'000;
  int rss_series = 1;
  int64_t background_rate = 50'000;
  bool sync_writes = false;
};

const char* const kSeries[8] = {"train_loss",        "val_loss",
                                "learning_rate",     "grad_norm",
                                "gpu_utilization",   "gpu_memory_used_bytes",
                                "tokens_per_second", "perplexity"};

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
    } else if (const char* v = value("--phases=")) {
      flags->phases.clear();
      for (std::string_view rest = v; !rest.empty();) {
        size_t comma = rest.find(',');
        flags->phases.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      }
    } else if (const char* v = value("--ingest_points=")) {
      flags->ingest_points = atoll(v);
    } else if (const char* v = value("--webhook_requests=")) {
      flags->webhook_requests = atoll(v);
    } else if (const char* v = value("--big_points=")) {
      flags->big_points = atoll(v);
    } else if (const char* v = value("--queries=")) {
      flags->queries = atoi(v);
    } else if (const char* v = value("--rss_jobs=")) {
      flags->rss_jobs = atoi(v);
    } else if (const char* v = value("--rss_points=")) {
      flags->rss_points = atoll(v);
    } else if (const char* v = value("--rss_series=")) {
      flags->rss_series = std::clamp(atoi(v), 1, 8);
    } else if (const char* v = value("--background_rate=")) {
      flags->background_rate = atoll(v);
    } else if (arg == "--sync_writes") {
      flags->sync_writes = true;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return false;
    }
  }
  return flags->ingest_points > 0 && flags->big_points > 0 &&
         flags->queries > 0 && flags->rss_jobs > 0 && flags->rss_points > 0;
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

double RssMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::atof(line.c_str() + 6) / 1024;
  }
  return -1;
}

// CPU time of the calling thread, in ms: what a query costs, apart from
// the time it waited for a core (this machine has 2, shared).
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// CPU time of the whole process (RocksDB's background threads included), ms.
double ProcessCpuMs() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct Percentiles {
  double p50_ms, p99_ms, max_ms;
};

Percentiles Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&ms](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  return {at(0.50), at(0.99), ms.back()};
}

// A database in a fresh directory, removed by the destructor.
class Bench {
 public:
  Bench(const Flags& flags, const char* name) : flags_(flags) {
    std::string pattern = flags.dir + "/series_bench_" + name + "_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = pattern;
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

  int64_t total = int64_t{flags.rss_jobs} * flags.rss_points * flags.rss_series;
  std::printf(
      "\n## rss: %d jobs x %lld steps x %d series (from train_loss), %lld "
      "points\n",
      flags.rss_jobs, static_cast<long long>(flags.rss_points),
      flags.rss_series, static_cast<long long>(total));
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
      loaded, flags.rss_jobs, load_s, load_s * 1000 / flags.rss_jobs);
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

void RunIngest(const Flags& flags) {
  std::printf("\n## ingest (sync_writes=%s)\n",
              flags.sync_writes ? "true" : "false");
  std::printf(
      "| shape | threads | points | seconds | points/s | writes/s | p50 ms | "
      "p99 ms | CPU us/write |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int threads : {1, 2}) {
    Bench bench(flags, "ingest");
    std::vector<std::vector<double>> ms(threads);
    const double cpu0 = ProcessCpuMs();
    auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        ms[t] = IngestBatches(bench, "t" + std::to_string(t) + "-job-",
                              flags.ingest_points / threads, 100 + t);
      });
    }
    for (auto& w : workers) w.join();
    double s = Seconds(Clock::now() - start);
    const double cpu_ms = ProcessCpuMs() - cpu0;
    std::vector<double> all;
    for (auto& v : ms) all.insert(all.end(), v.begin(), v.end());
    Percentiles p = Summarize(all);
    double points = static_cast<double>(all.size()) * 1000;
    std::printf(
        "| 1000 points/write, 8 series | %d | %.0f | %.2f | %.0f | "
        "%.0f | %.3f | %.3f | %.0f |\n",
        threads, points, s, points / s, all.size() / s, p.p50_ms, p.p99_ms,
        cpu_ms * 1000 / all.size());
  }
  for (int threads : {1, 2}) {
    // Webhook shape: one step of 8 series per write, over 100 jobs per
    // thread.
    Bench bench(flags, "webhook");
    std::vector<std::vector<double>> ms(threads);
    const double cpu0 = ProcessCpuMs();
    auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::mt19937_64 rng(7 + t);
        std::vector<PointInput> request = Points(0, 1, 8, rng);
        int64_t n = flags.webhook_requests / threads;
        ms[t].reserve(n);
        for (int64_t i = 0; i < n; ++i) {
          for (PointInput& p : request) p.step = i / 100;
          std::string job =
              "hook-" + std::to_string(t) + "-" + std::to_string(i % 100);
          auto t0 = Clock::now();
          bench.Write(job, request);
          ms[t].push_back(Seconds(Clock::now() - t0) * 1000);
        }
      });
    }
    for (auto& w : workers) w.join();
    double s = Seconds(Clock::now() - start);
    const double cpu_ms = ProcessCpuMs() - cpu0;
    std::vector<double> all;
    for (auto& v : ms) all.insert(all.end(), v.begin(), v.end());
    Percentiles p = Summarize(all);
    std::printf(
        "| webhook: 8 points/write | %d | %zu | %.2f | %.0f | %.0f | "
        "%.3f | %.3f | %.1f |\n",
        threads, all.size() * 8, s, all.size() * 8 / s, all.size() / s,
        p.p50_ms, p.p99_ms, cpu_ms * 1000 / all.size());
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
    double c0 = ThreadCpuMs();
    auto curve = store.GetLossCurve(request);
    cpu.push_back(ThreadCpuMs() - c0);
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
      flags.queries, load_s);
  std::printf(
      "| job | range | concurrent ingest | p50 ms | p99 ms | max ms | "
      "CPU p50 ms | CPU p99 ms |\n|---|---|---|---:|---:|---:|---:|---:|\n");
  auto row = [](const char* job, const char* range, const char* ingest,
                QueryTimes t) {
    std::printf("| %s | %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", job,
                range, ingest, t.wall.p50_ms, t.wall.p99_ms, t.wall.max_ms,
                t.cpu.p50_ms, t.cpu.p99_ms);
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
  if (!ParseFlags(argc, argv, &flags)) return 2;
  std::printf("# series_bench\n\ncommand:");
  for (int i = 0; i < argc; ++i) std::printf(" %s", argv[i]);
  std::printf("\ndir: %s, hardware threads: %u\n", flags.dir.c_str(),
              std::thread::hardware_concurrency());
  if (HasPhase(flags, "rss")) RunRss(flags);
  if (HasPhase(flags, "ingest")) RunIngest(flags);
  if (HasPhase(flags, "query")) RunQuery(flags);
  return 0;
}
