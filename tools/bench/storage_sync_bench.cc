// storage_sync_bench: how far RocksDB's own group commit takes durable writes.
//
// For each writer-thread count, opens a fresh Db with sync_writes=true and has
// the threads Put small values as fast as they can; prints writes/s, the WAL
// fsyncs RocksDB issued, and writes covered per fsync. A single thread gets
// one fsync per write; concurrent writers share them (write groups), which is
// what Options::sync_writes relies on. A sync_writes=false row gives the
// WAL-only ceiling.
//
// Usage: storage_sync_bench [--dir=DIR] [--writes=N] [--value_bytes=N]
//                           [--threads=1,2,4,...]
// DIR must be on the disk under test (not tmpfs); default $TMPDIR or /var/tmp.
//
// Wall time is read from std::chrono::steady_clock directly: this program is a
// measurement tool, not service code behind the injected Clock.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/flags.h"
#include "common/storage/db.h"
#include "common/strings/absl_view.h"
#include "rocksdb/statistics.h"
#include "tools/bench/bench_support.h"

namespace {

using trainyard::storage::Db;
using trainyard::storage::Options;

struct Flags {
  std::string dir = trainyard::bench::DefaultTempParent();
  int64_t writes = 20000;
  int64_t value_bytes = 200;
  std::vector<int> threads = {1, 2, 4, 8, 16, 32, 64};
};

void AddFlags(trainyard::config::FlagSet& flags, Flags* f) {
  trainyard::bench::AddDirFlag(flags, &f->dir);
  flags.AddInt("writes", "writes per configuration", &f->writes)
      .Range(1, 1000000000);
  flags.AddInt("value_bytes", "bytes of each value", &f->value_bytes)
      .Range(0, 100000000);
  flags.AddCustom(
      "threads", "writer-thread counts of the sync rows, comma-separated",
      "1,2,4,8,16,32,64", [f](std::string_view v) {
        f->threads.clear();
        for (absl::string_view n : absl::StrSplit(trainyard::ToAbsl(v), ',')) {
          int threads = 0;
          if (!absl::SimpleAtoi(n, &threads) || threads < 1) {
            return absl::InvalidArgumentError(
                absl::StrCat("\"", n, "\" is not a thread count"));
          }
          f->threads.push_back(threads);
        }
        return absl::OkStatus();
      });
}

// Runs one configuration in a fresh directory under `flags.dir`; returns
// false on error (printed).
bool Run(const Flags& flags, int threads, bool sync) {
  absl::StatusOr<std::string> dir =
      trainyard::bench::MakeTempDir(flags.dir, "storage_sync_bench");
  if (!dir.ok()) {
    std::fprintf(stderr, "%s\n", dir.status().ToString().c_str());
    return false;
  }
  bool ok = true;
  {
    Options options;
    options.path = *dir + "/db";
    options.name = "bench";
    options.column_families = {"records"};
    options.sync_writes = sync;
    absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(options);
    if (!db.ok()) {
      std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
      std::filesystem::remove_all(*dir);
      return false;
    }
    const std::string value(static_cast<size_t>(flags.value_bytes), 'v');
    const int64_t per_thread = flags.writes / threads;
    std::vector<std::thread> writers;
    std::vector<int> failures(static_cast<size_t>(threads), 0);
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t] {
        for (int64_t i = 0; i < per_thread; ++i) {
          std::string key = std::to_string(t) + ":" + std::to_string(i);
          if (!(*db)->PutRaw("records", key, value).ok()) ++failures[t];
        }
      });
    }
    for (std::thread& w : writers) w.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    int failed = 0;
    for (int f : failures) failed += f;
    const rocksdb::Statistics& stats = (*db)->statistics();
    const uint64_t done = static_cast<uint64_t>(per_thread) * threads;
    const uint64_t syncs = stats.getTickerCount(rocksdb::WAL_FILE_SYNCED);
    const uint64_t leaders = stats.getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
    std::printf(
        "%-5s %7d %9llu %11.0f %9llu %12.1f %13.1f %7d\n",
        sync ? "sync" : "wal", threads, static_cast<unsigned long long>(done),
        done / seconds, static_cast<unsigned long long>(syncs),
        syncs > 0 ? static_cast<double>(done) / syncs : 0.0,
        leaders > 0 ? static_cast<double>(done) / leaders : 0.0, failed);
    ok = failed == 0;
  }
  std::error_code ignored;
  std::filesystem::remove_all(*dir, ignored);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  trainyard::config::FlagSet set("storage_sync_bench");
  AddFlags(set, &flags);
  if (std::optional<int> exit = trainyard::bench::StartBench(set, argc, argv)) {
    return *exit;
  }
  std::printf("dir=%s writes=%lld value_bytes=%lld cores=%u\n",
              flags.dir.c_str(), static_cast<long long>(flags.writes),
              static_cast<long long>(flags.value_bytes),
              std::thread::hardware_concurrency());
  std::printf("%-5s %7s %9s %11s %9s %12s %13s %7s\n", "mode", "threads",
              "writes", "writes/s", "fsyncs", "writes/fsync", "writes/group",
              "errors");
  bool ok = Run(flags, 1, /*sync=*/false);
  for (int threads : flags.threads) {
    ok = Run(flags, threads, /*sync=*/true) && ok;
  }
  return ok ? 0 : 1;
}
