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

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config/flags.h"
#include "common/storage/db.h"
#include "common/strings/absl_view.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/grpc/requests.h"
#include "tools/bench/bench_support.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace {

namespace common = ::trainyard::common::v1;
using ::trainyard::bench::Percentiles;
using ::trainyard::bench::Summarize;
using ::trainyard::bench::ThreadCpuMillis;
using ::trainyard::metrics::EventExportQuery;
using ::trainyard::metrics::EventListQuery;
using ::trainyard::metrics::EventPage;
using ::trainyard::metrics::EventStore;
using ::trainyard::metrics::EventUpdate;
using ::trainyard::metrics::ListEventsPageToken;
using ::trainyard::metrics::ParseExportEvents;
using ::trainyard::metrics::ParseListEvents;
using ::trainyard::metrics::v1::Event;
using ::trainyard::metrics::v1::ListEventsRequest;
using ::trainyard::metrics::v1::ListEventsResponse;
using ::trainyard::storage::Db;
using ::trainyard::storage::WriteBatch;
using Clock = std::chrono::steady_clock;

constexpr char kJob[] = "job-bench-1";
constexpr int64_t kStartSeconds = 1764385200;

struct Flags {
  std::string dir = trainyard::bench::DefaultTempParent();
  int64_t events = 100000;
  int64_t iterations = 300;
  int64_t ingest = 20000;
  int64_t sync_ingest = 2000;
};

void AddFlags(trainyard::config::FlagSet& flags, Flags* f) {
  trainyard::bench::AddDirFlag(flags, &f->dir);
  flags.AddInt("events", "events of the queried job", &f->events)
      .Range(1, 100000000);
  flags.AddInt("iterations", "timed calls per query", &f->iterations)
      .Range(1, 1000000);
  flags.AddInt("ingest", "events ingested one per batch, WAL only", &f->ingest)
      .Range(0, 100000000);
  flags
      .AddInt("sync_ingest", "events ingested one per batch, fsynced",
              &f->sync_ingest)
      .Range(0, 100000000);
}

double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Event `seq` of the job as stored: the event-log mix of bench_support.
Event MakeEvent(std::string_view job, uint64_t seq) {
  Event e;
  google::protobuf::Timestamp time;
  time.set_seconds(kStartSeconds + static_cast<int64_t>(seq) * 3);
  trainyard::bench::FillLogEvent(&e, job, static_cast<int64_t>(seq), time);
  e.set_source(common::EVENT_SOURCE_CONTAINER);
  e.set_job_seq(seq);
  e.mutable_receive_time()->set_seconds(time.seconds() + 1);
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

// ListEvents as the handler runs it: the request parsed and its token decoded
// (grpc/requests.h), the page read, the next token encoded.
absl::StatusOr<ListEventsResponse> List(EventStore& store,
                                        const ListEventsRequest& request) {
  const absl::Time now = absl::Now();
  absl::StatusOr<EventListQuery> query = ParseListEvents(request, now);
  if (!query.ok()) return query.status();
  absl::StatusOr<EventPage> page = store.List(*query);
  if (!page.ok()) return page.status();
  if (page->next) {
    page->response.set_next_page_token(
        ListEventsPageToken(*query, *page->next, now));
  }
  return std::move(page->response);
}

// Times `iterations` calls of List(request) after 20 warm-up calls.
bool TimeList(EventStore& store, const char* name,
              const ListEventsRequest& request, int iterations) {
  std::vector<double> ms, cpu;
  ListEventsResponse last;
  for (int i = -20; i < iterations; ++i) {
    const double cpu_start = ThreadCpuMillis();
    const auto start = Clock::now();
    absl::StatusOr<ListEventsResponse> r = List(store, request);
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
  Percentiles l = Summarize(ms);
  Percentiles c = Summarize(cpu);
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
  std::unique_ptr<Db> db = OpenDb(dir + "/db", /*sync=*/false);
  if (db == nullptr) return false;
  auto store = std::make_unique<EventStore>(*db);

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
                static_cast<int>(flags.events), ms, flags.events / ms * 1000);
  }

  // ---- Cold: first query after a restart ------------------------------------
  store.reset();
  if (absl::Status s = db->Close(); !s.ok()) return false;
  db = OpenDb(dir + "/db", /*sync=*/false);
  if (db == nullptr) return false;
  store = std::make_unique<EventStore>(*db);
  std::printf("\nafter restart (new Db + EventStore; OS page cache warm):\n");
  {
    const auto start = Clock::now();
    absl::StatusOr<ListEventsResponse> r = List(*store, TwoTypesKeyword());
    const double cold = Millis(Clock::now() - start);
    const auto start2 = Clock::now();
    absl::StatusOr<ListEventsResponse> r2 = List(*store, TwoTypesKeyword());
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
              static_cast<int>(flags.events),
              static_cast<int>(flags.iterations));
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
      absl::StatusOr<ListEventsResponse> r = List(*store, req);
      if (!r.ok() || r->next_page_token().empty()) break;
      req.set_page_token(r->next_page_token());
    }
    ok = ok && TimeList(*store, "25, page 20 of {WARNING,STATUS} + \"step\"",
                        req, flags.iterations);
  }
  if (!ok) return false;

  // ---- Export ------------------------------------------------------------
  std::printf("\nExportEvents of all %d events:\n",
              static_cast<int>(flags.events));
  for (auto format : {common::EXPORT_FORMAT_CSV, common::EXPORT_FORMAT_JSONL}) {
    trainyard::metrics::v1::ExportEventsRequest req;
    req.set_job_id(kJob);
    req.set_format(format);
    size_t bytes = 0, chunks = 0;
    const auto start = Clock::now();
    absl::StatusOr<EventExportQuery> query = ParseExportEvents(req);
    if (!query.ok()) return false;
    absl::Status s = store->Export(
        *query, absl::FromUnixSeconds(kStartSeconds),
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
      if (!List(events, req).ok()) return false;
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
    EventStore sync_store(*sync_db);
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
  trainyard::config::FlagSet set("events_bench");
  AddFlags(set, &flags);
  return trainyard::bench::RunInTempDir(
      set, argc, argv, flags.dir, "events_bench", [&](const std::string& dir) {
        std::printf(
            "dir=%s events=%lld iterations=%lld ingest=%lld "
            "sync_ingest=%lld\n\n",
            flags.dir.c_str(), static_cast<long long>(flags.events),
            static_cast<long long>(flags.iterations),
            static_cast<long long>(flags.ingest),
            static_cast<long long>(flags.sync_ingest));
        return Run(flags, dir) ? 0 : 1;
      });
}
