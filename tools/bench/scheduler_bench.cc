// scheduler_bench: queue-scheduler figures (R-Q-01, R-Q-03), in process over
// real loopback gRPC and a real RocksDB:
//   - the Enqueue -> WatchAssignments round trip (a free slot: enqueue, wait
//     for the assignment on the stream, release it), latency and jobs/s;
//   - Enqueue throughput while the queue fills to --queued jobs (limit 1);
//   - with --queued jobs waiting: ListQueueEntries first page (50) latency,
//     goal p99 <= 5 ms, beside GetQueueSettings (a trivial unary call)
//     interleaved in the same run;
//   - a full estimate recompute over --queued jobs, in CPU time of the
//     calling thread (goal <= 10 ms), on the Scheduler itself.
//
// Usage: scheduler_bench [--dir=DIR] [--queued=N] [--round_trips=N]
//                        [--iterations=N]
//
// Wall time is read from std::chrono::steady_clock directly: this program is a
// measurement tool, not service code behind the injected Clock.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/config/flags.h"
#include "common/storage/db.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "services/scheduler/app/scheduler.h"
#include "services/scheduler/scheduler_module.h"
#include "tools/bench/bench_support.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace {

namespace v1 = ::trainyard::scheduler::v1;
using ::trainyard::auth::Role;
using ::trainyard::bench::Describe;
using ::trainyard::bench::MillisSince;
using ::trainyard::bench::SteadyClock;
using ::trainyard::bench::Summarize;
using ::trainyard::bench::ThreadCpuMillis;
using ::trainyard::testing::TestServer;

struct Flags {
  std::string dir = trainyard::bench::DefaultTempParent();
  int64_t queued = 10000;
  int64_t round_trips = 2000;
  int64_t iterations = 1000;
};

v1::EnqueueRequest Job(int64_t i) {
  v1::EnqueueRequest r;
  r.set_job_id(absl::StrCat("job-", i));
  r.set_request_id(absl::StrCat("job-", i, "/1/enqueue"));
  r.set_display_name(absl::StrCat("bench job ", i));
  r.mutable_created_by()->set_user_id("bench");
  *r.mutable_create_time() =
      trainyard::ToProto(absl::FromUnixSeconds(1764300000) + absl::Seconds(i));
  *r.mutable_estimated_duration() =
      trainyard::ToProto(absl::Minutes(30 + i % 600));
  r.set_attempt(1);
  return r;
}

using Client = trainyard::bench::InProcessClient<v1::SchedulerService>;

bool SetLimit(Client& client, int limit) {
  v1::GetQueueSettingsResponse current;
  if (!client.Call(&Client::Stub::GetQueueSettings,
                   v1::GetQueueSettingsRequest(), &current, Role::kViewer)) {
    return false;
  }
  v1::UpdateQueueSettingsRequest req;
  req.mutable_settings()->set_concurrency_limit(limit);
  req.mutable_settings()->set_etag(current.settings().etag());
  req.mutable_update_mask()->add_paths("concurrency_limit");
  v1::UpdateQueueSettingsResponse resp;
  return client.Call(&Client::Stub::UpdateQueueSettings, req, &resp,
                     Role::kAdmin);
}

// Assignments seen on one WatchAssignments stream.
class Watcher {
 public:
  explicit Watcher(Client& client) {
    TestServer::Authorize(ctx_, Role::kService);
    reader_ = client.stub().WatchAssignments(&ctx_, {});
    thread_ = std::thread([this] {
      v1::WatchAssignmentsResponse msg;
      while (reader_->Read(&msg)) {
        absl::MutexLock lock(&mu_);
        for (const auto& a : msg.assignments()) seen_[a.job_id()] = a;
      }
    });
  }
  ~Watcher() {
    ctx_.TryCancel();
    thread_.join();
    reader_->Finish();
  }
  v1::Assignment WaitFor(const std::string& job) {
    absl::MutexLock lock(&mu_);
    auto seen = [this, &job]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return seen_.contains(job);
    };
    mu_.Await(absl::Condition(&seen));
    return seen_[job];
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::WatchAssignmentsResponse>> reader_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::Assignment> seen_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

bool RoundTrips(Client& client, int64_t n) {
  if (!SetLimit(client, 100)) return false;
  Watcher watcher(client);
  std::vector<double> ms;
  auto start = SteadyClock::now();
  for (int64_t i = 0; i < n; ++i) {
    v1::EnqueueRequest job = Job(1000000 + i);
    auto t0 = SteadyClock::now();
    v1::EnqueueResponse entry;
    if (!client.Call(&Client::Stub::Enqueue, job, &entry, Role::kService)) {
      return false;
    }
    v1::Assignment a = watcher.WaitFor(job.job_id());
    ms.push_back(MillisSince(t0));
    v1::ReleaseSlotRequest release;
    release.set_job_id(job.job_id());
    release.set_assignment_id(a.assignment_id());
    release.set_outcome(v1::SLOT_OUTCOME_COMPLETED);
    v1::ReleaseSlotResponse released;
    if (!client.Call(&Client::Stub::ReleaseSlot, release, &released,
                     Role::kService)) {
      return false;
    }
  }
  double seconds = MillisSince(start) / 1e3;
  std::printf(
      "enqueue -> assignment on the stream (then release), %lld "
      "jobs one at a time: %s; %.0f jobs/s\n",
      static_cast<long long>(n), Describe(Summarize(ms)).c_str(), n / seconds);
  return true;
}

bool Fill(Client& client, int64_t n) {
  if (!SetLimit(client, 1)) return false;
  auto start = SteadyClock::now();
  std::vector<double> ms;
  for (int64_t i = 0; i < n; ++i) {
    auto t0 = SteadyClock::now();
    v1::EnqueueResponse entry;
    if (!client.Call(&Client::Stub::Enqueue, Job(i), &entry, Role::kService)) {
      return false;
    }
    ms.push_back(MillisSince(t0));
  }
  std::printf("enqueue %lld jobs (queue grows to %lld): %s; %.0f jobs/s\n",
              static_cast<long long>(n), static_cast<long long>(n - 1),
              Describe(Summarize(ms)).c_str(), n / (MillisSince(start) / 1e3));
  return true;
}

bool ListFirstPage(Client& client, int64_t iterations) {
  std::vector<double> list_ms, trivial_ms;
  v1::ListQueueEntriesRequest list;
  list.set_page_size(50);
  int32_t total = 0;
  const bool ok = trainyard::bench::TimeBesideTrivial(
      iterations,
      [&] {
        v1::ListQueueEntriesResponse page;
        if (!client.Call(&Client::Stub::ListQueueEntries, list, &page,
                         Role::kViewer)) {
          return false;
        }
        total = page.total_size();
        return true;
      },
      [&] {
        v1::GetQueueSettingsResponse settings;
        return client.Call(&Client::Stub::GetQueueSettings,
                           v1::GetQueueSettingsRequest(), &settings,
                           Role::kViewer);
      },
      &list_ms, &trivial_ms);
  if (!ok) return false;
  std::printf("ListQueueEntries first page of 50 (%d queued): %s\n", total,
              Describe(Summarize(list_ms)).c_str());
  std::printf("GetQueueSettings (trivial unary, interleaved): %s\n",
              Describe(Summarize(trivial_ms)).c_str());
  return true;
}

// The recompute itself, on a Scheduler of its own: Tick() marks the
// estimates stale, the next read rebuilds them.
bool Recompute(const Flags& flags, const std::string& dir) {
  trainyard::storage::Options options;
  options.path = dir + "/recompute";
  options.name = "scheduler";
  options.column_families = trainyard::scheduler::SchedulerColumnFamilies();
  auto db = trainyard::storage::Db::Open(options);
  if (!db.ok()) return false;
  trainyard::FakeClock clock;
  trainyard::scheduler::SchedulerStore store(**db);
  trainyard::scheduler::Scheduler scheduler(store, clock, nullptr, nullptr,
                                            nullptr);
  if (!scheduler.Load().ok()) return false;
  for (int64_t i = 0; i < flags.queued; ++i) {
    v1::EnqueueRequest r = Job(i);
    trainyard::scheduler::EnqueueCommand cmd;
    cmd.entry.set_job_id(r.job_id());
    *cmd.entry.mutable_create_time() = r.create_time();
    *cmd.entry.mutable_estimated_duration() = r.estimated_duration();
    cmd.entry.set_attempt(1);
    if (!scheduler.Enqueue(cmd).ok()) return false;
  }
  const std::string last = absl::StrCat("job-", flags.queued - 1);
  std::vector<double> cpu;
  for (int i = 0; i < 200; ++i) {
    scheduler.Tick();
    double c0 = ThreadCpuMillis();
    if (!scheduler.GetEntry(last).ok()) return false;
    cpu.push_back(ThreadCpuMillis() - c0);
  }
  std::printf(
      "full estimate recompute over %lld queued (3 slots, thread "
      "CPU): %s\n",
      static_cast<long long>(flags.queued), Describe(Summarize(cpu)).c_str());
  return (*db)->Close().ok();
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  trainyard::config::FlagSet set("scheduler_bench");
  trainyard::bench::AddDirFlag(set, &flags.dir);
  set.AddInt("queued", "jobs waiting during the list and recompute figures",
             &flags.queued)
      .Range(2, 1000000);
  set.AddInt("round_trips", "enqueue -> assignment round trips",
             &flags.round_trips)
      .Range(1, 1000000);
  set.AddInt("iterations", "timed list calls", &flags.iterations)
      .Range(1, 1000000);
  return trainyard::bench::RunInTempDir(
      set, argc, argv, flags.dir, "scheduler_bench",
      [&](const std::string& dir) {
        bool ok = Recompute(flags, dir);
        TestServer server(trainyard::scheduler::SchedulerColumnFamilies(),
                          [&](trainyard::server::ServerConfig& c) {
                            c.data_dir = dir + "/grpc";
                          });
        trainyard::scheduler::SchedulerConfig config;
        config.estimate_interval = absl::ZeroDuration();
        trainyard::server::ServiceContext ctx = server.Context();
        auto module = trainyard::scheduler::BuildScheduler(ctx, config);
        ok = ok && module.ok() && (*module)->Warmup().ok() &&
             server.Start().ok();
        if (ok) {
          server.host().MarkServing();
          Client client(server);
          ok = RoundTrips(client, flags.round_trips) &&
               Fill(client, flags.queued) &&
               ListFirstPage(client, flags.iterations);
        }
        server.Shutdown();
        return ok ? 0 : 1;
      });
}
