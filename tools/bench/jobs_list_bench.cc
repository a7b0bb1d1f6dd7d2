// Copyright 2026 Trainyard authors.
//
// jobs_list_bench: figures of job-control's read side at --jobs (100,000)
// jobs (issue 15, R-LIST-01..07), in process over real loopback gRPC and a
// real RocksDB (the jobs module as the tests build it: TestServer, fakes
// behind the engine, which runs no effects here):
//   - seeds --jobs job records with a realistic spread (states mostly
//     terminal, a skewed spread of --creators creators, presets, GPU types,
//     log-normal costs, names, notes and tags from small vocabularies)
//     straight into the store, then measures the module's start (the index
//     rebuild from RocksDB) and the process's RSS before and after it, and a
//     second JobIndex::Build alone;
//   - ListJobs first pages of 50, each interleaved with GetJob on a known id
//     (the trivial unary call) in the same run: no filter; two statuses +
//     creator + cost bucket sorted by cost (goal p99 <= 5 ms); keyword
//     searches of a common and of a rare word and across words (goal p99 <=
//     20 ms); a cost bucket alone; the index's slow path (the duration
//     order); also the CPU of the process (server and client) per call;
//   - ExportJobs of every job as CSV: rows/s and the process's peak RSS
//     during the export (VmHWM reset before it);
//   - GetJobDashboard of a job with --dashboard_points (10,000) training
//     steps (METRICS events of train and validation loss) in a real
//     metrics-ingest in process (its own loopback server and RocksDB; cost
//     is not running, so the cost card is listed unavailable), default
//     request (the curve downsampled to the API's default points), beside
//     GetJob (goal p99 <= 10 ms at 10K points, <= 30 ms at 1M);
//   - WatchJobs: --watchers (1,000) streams on the whole list (callback
//     client API, spread over 8 channels, min_update_interval 250 ms, the
//     smallest) while --changes (1,000) jobs change (cost and progress, one
//     write each, paced over --change_seconds): deliveries/s and the
//     write -> receive latency of every delivery.
//
// Usage: jobs_list_bench [--jobs=N] [--iterations=N] [--dir=DIR]
//                        [--dashboard_points=N] [--watchers=N] [--changes=N]
//                        [--change_seconds=S]
//
// Wall time is read from std::chrono::steady_clock directly: this program is a
// measurement tool, not service code behind the injected Clock.
#include <grpcpp/grpcpp.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/config/flags.h"
#include "common/storage/write_batch.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/jobs_module.h"
#include "services/jobs/storage/job_store.h"
#include "services/jobs/views/job_index.h"
#include "services/metrics/metrics_module.h"
#include "tools/bench/bench_support.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace {

namespace v1 = ::trainyard::jobs::v1;
namespace common_v1 = ::trainyard::common::v1;
using ::trainyard::auth::Role;
using ::trainyard::bench::Describe;
using ::trainyard::bench::MiB;
using ::trainyard::bench::MillisSince;
using ::trainyard::bench::StatusKiB;
using ::trainyard::bench::SteadyClock;
using ::trainyard::bench::Summarize;
using ::trainyard::bench::ThreadCpuMillis;
using ::trainyard::testing::TestServer;

constexpr char kMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

struct Flags {
  std::string dir = trainyard::bench::DefaultTempParent();
  int64_t jobs = 100000;
  int64_t creators = 300;
  int64_t iterations = 300;
  int64_t dashboard_points = 10000;
  int64_t watchers = 1000;
  int64_t changes = 1000;
  double change_seconds = 5;
};

int64_t RssKiB() { return StatusKiB(getpid(), "VmRSS"); }

std::string JobId(int64_t i) { return absl::StrFormat("job-%07d", i); }

// ---------------------------------------------------------------------------
// The seeded jobs
// ---------------------------------------------------------------------------

constexpr const char* kDomains[] = {
    "support",  "legal",   "medical", "finance", "retail", "code",
    "sql",      "summary", "chat",    "recipes", "travel", "insurance",
    "security", "hr",      "sales",   "gaming",  "news",   "science"};
constexpr const char* kModels[] = {
    "meta-llama/Meta-Llama-3-8B", "mistralai/Mistral-7B-v0.3",
    "Qwen/Qwen2.5-7B", "google/gemma-2-9b", "meta-llama/Llama-3.2-3B"};
constexpr const char* kWords[] = {
    "baseline", "retry",     "ablation",  "sweep",     "longer",    "context",
    "cleaned",  "dataset",   "dedup",     "filtered",  "warmup",    "higher",
    "lower",    "rank",      "alpha",     "learning",  "rate",      "epochs",
    "compare",  "previous",  "run",       "customer",  "tickets",   "french",
    "german",   "spanish",   "japanese",  "tone",      "formal",    "casual",
    "eval",     "benchmark", "holdout",   "synthetic", "augmented", "v2",
    "quick",    "overnight", "candidate", "release",   "ship",      "blocked",
    "noisy",    "labels",    "fixed",     "tokenizer", "padding",   "packing"};
// Rare: in about 1 job in 1,000.
constexpr char kRareWord[] = "zeppelin";
constexpr const char* kTags[] = {
    "prod",     "exp",      "nightly",  "team-a",   "team-b", "team-c",
    "urgent",   "lora-r8",  "lora-r16", "lora-r64", "eu",     "us",
    "ablation", "baseline", "rerun",    "demo",     "q3",     "q4"};

template <size_t N>
const char* Pick(const char* const (&list)[N], std::mt19937_64& rng) {
  return list[rng() % N];
}

common_v1::JobState PickState(std::mt19937_64& rng) {
  using enum common_v1::JobState;
  const int p = static_cast<int>(rng() % 1000);
  if (p < 600) return JOB_STATE_COMPLETED;
  if (p < 720) return JOB_STATE_FAILED;
  if (p < 820) return JOB_STATE_CANCELLED;
  if (p < 880) return JOB_STATE_QUEUED;
  if (p < 940) return JOB_STATE_TRAINING;
  if (p < 955) return JOB_STATE_PROVISIONING;
  if (p < 965) return JOB_STATE_PREPROCESSING;
  if (p < 975) return JOB_STATE_MODEL_LOADING;
  if (p < 985) return JOB_STATE_FINALIZING;
  return JOB_STATE_PAUSED;
}

bool Terminal(common_v1::JobState s) {
  return s == common_v1::JOB_STATE_COMPLETED ||
         s == common_v1::JOB_STATE_FAILED ||
         s == common_v1::JOB_STATE_CANCELLED;
}

// Job i of n: created over a year, in id order.
trainyard::jobs::internal::JobRecord SeedRecord(int64_t i, int64_t n,
                                                int64_t creators,
                                                std::mt19937_64& rng) {
  trainyard::jobs::internal::JobRecord r;
  v1::Job* job = r.mutable_job();
  job->set_job_id(JobId(i));
  const common_v1::JobState state = PickState(rng);
  job->set_state(state);
  // A few heavy users: the square of a uniform draw skews to low numbers.
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  const int64_t creator = static_cast<int64_t>(u * u * creators);
  job->mutable_created_by()->set_user_id(absl::StrCat("user-", creator));
  job->mutable_created_by()->set_display_name(
      absl::StrCat("User ", creator, " Ñandú"));
  v1::JobSpec* spec = job->mutable_spec();
  spec->set_display_name(absl::StrCat(Pick(kDomains, rng), "-",
                                      Pick(kWords, rng), "-v", rng() % 40));
  std::string notes;
  const int words = static_cast<int>(rng() % 12);
  for (int w = 0; w < words; ++w) {
    absl::StrAppend(&notes, w == 0 ? "" : " ", Pick(kWords, rng));
  }
  if (rng() % 1000 == 0) absl::StrAppend(&notes, " ", kRareWord);
  spec->set_notes(notes);
  const int tags = static_cast<int>(rng() % 4);
  for (int t = 0; t < tags; ++t) spec->add_tags(Pick(kTags, rng));
  common_v1::TrainingConfig* c = spec->mutable_config();
  c->set_base_model(Pick(kModels, rng));
  c->mutable_dataset()->set_uri(absl::StrCat("s3://data/", i, ".jsonl"));
  c->mutable_dataset()->set_conversations(1000 + rng() % 50000);
  const int preset = static_cast<int>(rng() % 20);
  c->set_preset(preset < 10   ? common_v1::PRESET_BALANCED
                : preset < 15 ? common_v1::PRESET_CONSERVATIVE
                : preset < 19 ? common_v1::PRESET_AGGRESSIVE
                              : common_v1::PRESET_CUSTOM);
  c->set_gpu_type(static_cast<common_v1::GpuType>(1 + rng() % 5));
  c->set_pricing(rng() % 5 < 3 ? common_v1::PRICING_SPOT
                               : common_v1::PRICING_ON_DEMAND);
  const absl::Time origin = absl::FromUnixSeconds(1733000000);
  const absl::Time created =
      origin + absl::Seconds(i * (365 * 86400 / std::max<int64_t>(n, 1)));
  *job->mutable_create_time() = trainyard::ToProto(created);
  absl::Time updated = created;
  if (state != common_v1::JOB_STATE_QUEUED) {
    const absl::Time started = created + absl::Seconds(60 + rng() % 3600);
    *job->mutable_start_time() = trainyard::ToProto(started);
    updated = started;
    // Log-normal spend around $20.
    const double dollars =
        std::exp(std::normal_distribution<double>(3.0, 1.2)(rng));
    job->mutable_cost()->mutable_spend()->set_micros(
        static_cast<int64_t>(dollars * 1e6));
    job->mutable_cost()->mutable_spend()->set_currency_code("USD");
    *job->mutable_cost()->mutable_as_of() = trainyard::ToProto(started);
    job->mutable_progress()->set_percent(Terminal(state) ? 100 : rng() % 100);
    job->mutable_progress()->set_step(rng() % 6000);
    job->mutable_progress()->set_stage(common_v1::STAGE_TRAINING);
    if (Terminal(state)) {
      updated = started + absl::Seconds(600 + rng() % 20000);
      *job->mutable_end_time() = trainyard::ToProto(updated);
    }
  }
  *job->mutable_update_time() = trainyard::ToProto(updated);
  job->set_etag(absl::StrCat("e", i));
  return r;
}

bool Seed(trainyard::storage::Db& db, const Flags& flags) {
  auto store = trainyard::jobs::JobStore::Open(db);
  if (!store.ok()) {
    std::fprintf(stderr, "open store: %s\n", store.status().ToString().c_str());
    return false;
  }
  std::mt19937_64 rng(42);
  auto start = SteadyClock::now();
  trainyard::storage::WriteBatch batch;
  for (int64_t i = 0; i < flags.jobs; ++i) {
    trainyard::jobs::Commit c;
    c.record = SeedRecord(i, flags.jobs, flags.creators, rng);
    (*store)->Stage(c, batch);
    if ((i + 1) % 1000 == 0 || i + 1 == flags.jobs) {
      absl::Status s = db.Write(batch);
      if (!s.ok()) {
        std::fprintf(stderr, "seed: %s\n", s.ToString().c_str());
        return false;
      }
      batch = trainyard::storage::WriteBatch();
    }
  }
  std::printf("seeded %lld jobs (%lld creators) into RocksDB in %.1f s\n",
              static_cast<long long>(flags.jobs),
              static_cast<long long>(flags.creators), MillisSince(start) / 1e3);
  return true;
}

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

using Client = trainyard::bench::InProcessClient<v1::JobService>;

// `iterations` rounds of `call`, each followed by GetJob on a known id (the
// trivial unary call); then prints "<describe()>: <latency>", GetJob's
// latency and "<cpu_of>: <the process's CPU per pair>".
bool MeasureBesideGetJob(Client& client, int64_t iterations,
                         absl::FunctionRef<bool()> call,
                         absl::FunctionRef<std::string()> describe,
                         const char* cpu_of) {
  v1::GetJobRequest get;
  get.set_job_id(JobId(7));
  std::vector<double> ms, trivial_ms;
  const double cpu0 = trainyard::bench::SelfCpuSeconds();
  if (!trainyard::bench::TimeBesideTrivial(
          iterations, call,
          [&] {
            v1::GetJobResponse job;
            return client.Call(&v1::JobService::Stub::GetJob, get, &job,
                               Role::kViewer);
          },
          &ms, &trivial_ms)) {
    return false;
  }
  const double cpu_ms =
      (trainyard::bench::SelfCpuSeconds() - cpu0) * 1e3 / iterations;
  std::printf("%s: %s\n  beside GetJob: %s\n  %s: %.2f ms\n",
              describe().c_str(), Describe(Summarize(ms)).c_str(),
              Describe(Summarize(trivial_ms)).c_str(), cpu_of, cpu_ms);
  return true;
}

// `iterations` first pages of `list`, each followed by GetJob on a known id.
bool MeasureList(Client& client, const char* what,
                 const v1::ListJobsRequest& list, int64_t iterations) {
  int32_t total = 0;
  int rows = 0;
  return MeasureBesideGetJob(
      client, iterations,
      [&] {
        v1::ListJobsResponse resp;
        if (!client.Call(&v1::JobService::Stub::ListJobs, list, &resp,
                         Role::kViewer)) {
          return false;
        }
        total = resp.total_size();
        rows = resp.jobs_size();
        return true;
      },
      [&] {
        return absl::StrFormat(
            "ListJobs %s (filter '%s', keyword '%s', order_by '%s'; %d rows "
            "of total_size %d)",
            what, list.filter(), list.keyword(), list.order_by(), rows, total);
      },
      "process CPU (server + client) per ListJobs+GetJob pair");
}

bool MeasureLists(Client& client, const Flags& flags) {
  v1::ListJobsRequest plain;
  plain.set_page_size(50);
  v1::ListJobsRequest filtered = plain;
  filtered.set_filter(
      "(state = COMPLETED OR state = FAILED) AND created_by = \"user-3\" AND "
      "cost >= 10 AND cost < 50");
  filtered.set_order_by("cost desc");
  v1::ListJobsRequest common_word = plain;
  common_word.set_keyword("Tickets");
  v1::ListJobsRequest rare_word = plain;
  rare_word.set_keyword(kRareWord);
  v1::ListJobsRequest substring = plain;
  substring.set_keyword("upport-ret");
  // A filter no posting answers (a range of the cost ordering), and the
  // index's slow path: the duration order (not kept: sorted per query).
  v1::ListJobsRequest range_only = plain;
  range_only.set_filter("cost >= 10 AND cost < 50");
  range_only.set_order_by("cost desc");
  v1::ListJobsRequest by_duration = plain;
  by_duration.set_order_by("duration desc");
  // Warm-up: connections, first-touch of pages.
  for (int i = 0; i < 20; ++i) {
    v1::ListJobsResponse resp;
    if (!client.Call(&v1::JobService::Stub::ListJobs, plain, &resp,
                     Role::kViewer)) {
      return false;
    }
  }
  return MeasureList(client, "no filter, first page", plain,
                     flags.iterations) &&
         MeasureList(client, "2 statuses + creator + cost bucket by cost",
                     filtered, flags.iterations) &&
         MeasureList(client, "keyword, common word", common_word,
                     flags.iterations) &&
         MeasureList(client, "keyword, rare word", rare_word,
                     flags.iterations) &&
         MeasureList(client, "keyword, substring across words", substring,
                     flags.iterations) &&
         MeasureList(client, "cost bucket alone", range_only,
                     flags.iterations) &&
         MeasureList(client, "no filter, by duration (no ordering)",
                     by_duration, flags.iterations);
}

bool MeasureExport(Client& client) {
  // Resets VmHWM to the current RSS (Linux 4.0+).
  std::ofstream("/proc/self/clear_refs") << "5";
  const int64_t rss0 = RssKiB();
  v1::ExportJobsRequest req;
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, Role::kViewer);
  const double cpu0 = trainyard::bench::SelfCpuSeconds();
  auto start = SteadyClock::now();
  auto reader = client.stub().ExportJobs(&ctx, req);
  v1::ExportJobsResponse chunk;
  int64_t bytes = 0, chunks = 0;
  int32_t count = 0;
  while (reader->Read(&chunk)) {
    bytes += static_cast<int64_t>(chunk.chunk().size());
    ++chunks;
    if (chunk.job_count() > 0) count = chunk.job_count();
  }
  grpc::Status s = reader->Finish();
  const double seconds = MillisSince(start) / 1e3;
  const double cpu = trainyard::bench::SelfCpuSeconds() - cpu0;
  if (!s.ok()) {
    std::fprintf(stderr, "export: %s\n", s.error_message().c_str());
    return false;
  }
  std::printf(
      "ExportJobs CSV of all jobs: %d rows, %.1f MB in %lld chunks, %.2f s: "
      "%.0f rows/s; process CPU %.2f s (%.1f us/row); RSS %.1f MiB before, "
      "peak (VmHWM) %.1f MiB during\n",
      count, bytes / 1e6, static_cast<long long>(chunks), seconds,
      count / seconds, cpu, cpu * 1e6 / std::max(count, 1), MiB(rss0),
      MiB(StatusKiB(getpid(), "VmHWM")));
  return true;
}

// ---------------------------------------------------------------------------
// GetJobDashboard
// ---------------------------------------------------------------------------

// A real metrics-ingest in process, with `points` steps of `job`.
class Metrics {
 public:
  Metrics() : server_(trainyard::metrics::MetricsColumnFamilies()) {}
  ~Metrics() { server_.Shutdown(); }

  bool Start() {
    trainyard::metrics::MetricsConfig config;
    config.master_key_file = server_.dir().Sub("master.key");
    std::ofstream(config.master_key_file) << kMasterKey << "\n";
    config.stall_check_interval = absl::ZeroDuration();
    trainyard::server::ServiceContext ctx = server_.Context();
    auto module = trainyard::metrics::BuildMetrics(ctx, config);
    if (!module.ok()) {
      std::fprintf(stderr, "metrics: %s\n", module.status().ToString().c_str());
      return false;
    }
    module_ = *std::move(module);
    if (!module_->Warmup().ok() || !server_.Start().ok()) return false;
    server_.host().MarkServing();
    return true;
  }

  std::string address() {
    return absl::StrCat("127.0.0.1:", server_.host().grpc_port());
  }

  bool Ingest(const std::string& job, int64_t points) {
    auto stub =
        trainyard::metrics::v1::MetricsService::NewStub(server_.Channel());
    const absl::Time origin = server_.clock().Now() - absl::Seconds(points);
    auto start = SteadyClock::now();
    constexpr int64_t kPerCall = 1000;
    for (int64_t seq = 1; seq <= points; seq += kPerCall) {
      trainyard::metrics::v1::IngestEventsRequest req;
      for (int64_t s = seq; s < seq + kPerCall && s <= points; ++s) {
        trainyard::bench::FillMetricsEvent(
            req.add_events(), job, s, 2,
            trainyard::ToProto(origin + absl::Seconds(s)), false);
      }
      grpc::ClientContext ctx;
      TestServer::Authorize(ctx, Role::kService);
      trainyard::metrics::v1::IngestEventsResponse resp;
      grpc::Status st = stub->IngestEvents(&ctx, req, &resp);
      if (!st.ok()) {
        std::fprintf(stderr, "ingest: %s\n", st.error_message().c_str());
        return false;
      }
    }
    std::printf("metrics: %lld steps of %s ingested in %.1f s\n",
                static_cast<long long>(points), job.c_str(),
                MillisSince(start) / 1e3);
    return true;
  }

 private:
  TestServer server_;
  std::unique_ptr<trainyard::server::ServiceModule> module_;
};

bool MeasureDashboard(Client& client, int64_t points, int64_t iterations) {
  v1::GetJobDashboardRequest req;
  req.set_job_id(JobId(7));
  v1::GetJobDashboardResponse resp;
  return MeasureBesideGetJob(
      client, iterations,
      [&] {
        resp.Clear();
        return client.Call(&v1::JobService::Stub::GetJobDashboard, req, &resp,
                           Role::kViewer);
      },
      [&] {
        int curve_points = 0;
        for (const auto& series : resp.loss_curve().series()) {
          curve_points += series.points_size();
        }
        std::string unavailable;
        for (const auto& part : resp.unavailable_parts()) {
          absl::StrAppend(
              &unavailable, unavailable.empty() ? "" : ", ",
              v1::DashboardPart_Name(static_cast<v1::DashboardPart>(part)));
        }
        return absl::StrFormat(
            "GetJobDashboard of a job with %d steps (%d curve points in %d "
            "series returned; unavailable: %s)",
            points, curve_points, resp.loss_curve().series_size(),
            unavailable.empty() ? "none" : unavailable);
      },
      "process CPU (jobs + metrics + client) per GetJobDashboard+GetJob "
      "pair");
}

// ---------------------------------------------------------------------------
// WatchJobs
// ---------------------------------------------------------------------------

// When each changed job was written (steady clock, ns since epoch; 0: not
// yet), by job number.
class ChangeTimes {
 public:
  explicit ChangeTimes(int64_t jobs) : at_(jobs) {}
  void Set(int64_t job, SteadyClock::time_point t) {
    at_[job].store(t.time_since_epoch().count(), std::memory_order_release);
  }
  // -1 when not changed yet.
  double MillisSince(const std::string& job_id, SteadyClock::time_point now) {
    const int64_t job = std::strtoll(job_id.c_str() + 4, nullptr, 10);
    if (job < 0 || job >= static_cast<int64_t>(at_.size())) return -1;
    const int64_t t = at_[job].load(std::memory_order_acquire);
    if (t == 0) return -1;
    return (now.time_since_epoch().count() - t) / 1e6;
  }

 private:
  std::vector<std::atomic<int64_t>> at_;
};

class WatchReader final
    : public grpc::ClientReadReactor<v1::WatchJobsResponse> {
 public:
  WatchReader(v1::JobService::Stub& stub, ChangeTimes& times,
              std::atomic<int64_t>& deliveries)
      : times_(times), deliveries_(deliveries) {
    TestServer::Authorize(ctx_, Role::kViewer);
    v1::WatchJobsRequest req;
    req.mutable_min_update_interval()->set_nanos(250000000);
    stub.async()->WatchJobs(&ctx_, &req, this);
    StartRead(&msg_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (msg_.has_change()) {
      const double ms =
          times_.MillisSince(msg_.change().job().job_id(), SteadyClock::now());
      if (ms >= 0) {
        latencies_.push_back(ms);
        deliveries_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    StartRead(&msg_);
  }
  void OnDone(const grpc::Status&) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  void Cancel() { ctx_.TryCancel(); }
  void AwaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }
  // Read after AwaitDone.
  const std::vector<double>& latencies() const { return latencies_; }

 private:
  grpc::ClientContext ctx_;
  v1::WatchJobsResponse msg_;
  ChangeTimes& times_;
  std::atomic<int64_t>& deliveries_;
  std::vector<double> latencies_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

bool MeasureWatch(TestServer& server, trainyard::jobs::Engine& engine,
                  const Flags& flags) {
  std::vector<std::unique_ptr<v1::JobService::Stub>> stubs;
  for (int c = 0; c < 8; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", c);  // a connection of its own
    stubs.push_back(v1::JobService::NewStub(server.Channel(args)));
  }
  ChangeTimes times(flags.jobs);
  std::atomic<int64_t> deliveries{0};
  std::vector<std::unique_ptr<WatchReader>> readers;
  auto open = SteadyClock::now();
  for (int64_t w = 0; w < flags.watchers; ++w) {
    readers.push_back(std::make_unique<WatchReader>(*stubs[w % stubs.size()],
                                                    times, deliveries));
  }
  // Let the streams open (no way to know but a first message; heartbeats
  // come every 15 s).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::printf("WatchJobs: %lld watchers of the whole list opened in %.0f ms\n",
              static_cast<long long>(flags.watchers), MillisSince(open));
  const int64_t expected = flags.watchers * flags.changes;
  const auto period = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(flags.change_seconds / flags.changes));
  const double cpu0 = trainyard::bench::SelfCpuSeconds();
  const std::string load0 = trainyard::bench::LoadAverage();
  trainyard::bench::Pacer pacer(period);
  auto start = SteadyClock::now();
  std::vector<double> write_ms;
  for (int64_t c = 0; c < flags.changes; ++c) {
    pacer.Wait();
    const int64_t job = c * (flags.jobs / flags.changes);
    absl::StatusOr<trainyard::jobs::internal::JobRecord> r =
        engine.store().Get(JobId(job));
    if (!r.ok()) {
      std::fprintf(stderr, "get: %s\n", r.status().ToString().c_str());
      return false;
    }
    v1::Job* j = r->mutable_job();
    j->mutable_cost()->mutable_spend()->set_micros(j->cost().spend().micros() +
                                                   1000000);
    j->mutable_progress()->set_percent(j->progress().percent() + 0.5);
    trainyard::jobs::Commit commit;
    commit.record = *std::move(r);
    auto t0 = SteadyClock::now();
    times.Set(job, t0);
    absl::Status s = engine.store().Write(commit);
    write_ms.push_back(MillisSince(t0));
    if (!s.ok()) {
      std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
      return false;
    }
  }
  const double write_seconds = MillisSince(start) / 1e3;
  auto deadline = SteadyClock::now() + std::chrono::seconds(120);
  while (deliveries.load() < expected && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double seconds = MillisSince(start) / 1e3;
  const double cpu = trainyard::bench::SelfCpuSeconds() - cpu0;
  const int64_t got = deliveries.load();
  for (auto& r : readers) r->Cancel();
  std::vector<double> latencies;
  latencies.reserve(got);
  for (auto& r : readers) {
    r->AwaitDone();
    latencies.insert(latencies.end(), r->latencies().begin(),
                     r->latencies().end());
  }
  std::printf(
      "WatchJobs: %lld changes written in %.2f s (store write with index "
      "update: %s)\n  %lld of %lld deliveries in %.2f s: %.0f deliveries/s\n"
      "  change -> receive: %s\n",
      static_cast<long long>(flags.changes), write_seconds,
      Describe(Summarize(write_ms)).c_str(), static_cast<long long>(got),
      static_cast<long long>(expected), seconds, got / seconds,
      Describe(Summarize(latencies)).c_str());
  std::printf(
      "  process CPU (server + watchers + writer) %.1f s = %.2f cores, %.1f "
      "us per delivery; loadavg %s -> %s\n",
      cpu, cpu / seconds, cpu * 1e6 / std::max<int64_t>(got, 1), load0.c_str(),
      trainyard::bench::LoadAverage().c_str());
  return got == expected;
}

// ---------------------------------------------------------------------------

int Run(const Flags& flags) {
  setenv("TEST_TMPDIR", flags.dir.c_str(), 1);
  TestServer server(trainyard::jobs::JobsColumnFamilies());
  std::printf("data dir: %s\n", server.dir().path().c_str());
  if (!Seed(server.db(), flags)) return 1;

  trainyard::jobs::JobsConfig config;
  config.webhook_master_key_file = server.dir().Sub("master.key");
  std::ofstream(config.webhook_master_key_file) << kMasterKey << "\n";
  config.service_token_file = server.dir().Sub("service.token");
  std::ofstream(config.service_token_file)
      << TestServer::TokenFor(Role::kService) << "\n";
  Metrics metrics_service;
  if (!metrics_service.Start() ||
      !metrics_service.Ingest(JobId(7), flags.dashboard_points)) {
    return 1;
  }
  config.metrics_address = metrics_service.address();
  config.cost_address = "127.0.0.1:1";  // not running
  trainyard::jobs::testing::FakeProvider provider;
  trainyard::jobs::testing::FakeScheduler scheduler;
  trainyard::jobs::testing::FakeCost cost;
  trainyard::jobs::testing::FakeMetrics metrics;
  trainyard::jobs::Engine* engine = nullptr;
  trainyard::jobs::JobsOverrides o{&provider, &scheduler, &cost,
                                   &metrics,  true,       true};
  o.on_engine = [&engine](trainyard::jobs::Engine& e) { engine = &e; };
  const int64_t rss0 = RssKiB();
  auto start = SteadyClock::now();
  const double cpu0 = ThreadCpuMillis();
  trainyard::server::ServiceContext ctx = server.Context();
  auto module = trainyard::jobs::BuildJobs(ctx, config, o);
  if (!module.ok()) {
    std::fprintf(stderr, "build: %s\n", module.status().ToString().c_str());
    return 1;
  }
  const double build_ms = MillisSince(start);
  const double build_cpu_ms = ThreadCpuMillis() - cpu0;
  const int64_t rss1 = RssKiB();
  std::printf(
      "jobs module start with %lld jobs (index rebuilt from RocksDB): %.0f ms "
      "wall, %.0f ms CPU; process RSS %.1f MiB before, %.1f MiB after (+%.1f "
      "MiB)\n",
      static_cast<long long>(flags.jobs), build_ms, build_cpu_ms, MiB(rss0),
      MiB(rss1), MiB(rss1 - rss0));
  {
    auto store = trainyard::jobs::JobStore::Open(server.db());
    auto t0 = SteadyClock::now();
    const double c0 = ThreadCpuMillis();
    auto index = trainyard::jobs::JobIndex::Build(**store, 1);
    std::printf(
        "JobIndex::Build alone (warm block cache): %.0f ms wall, %.0f ms CPU, "
        "%zu jobs\n",
        MillisSince(t0), ThreadCpuMillis() - c0, (*index)->size());
  }
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  server.host().MarkServing();
  Client client(server);
  bool ok =
      MeasureLists(client, flags) && MeasureExport(client) &&
      MeasureDashboard(client, flags.dashboard_points, flags.iterations) &&
      MeasureWatch(server, *engine, flags);
  std::printf("process RSS at the end: %.1f MiB; loadavg %s\n", MiB(RssKiB()),
              trainyard::bench::LoadAverage().c_str());
  server.Shutdown();
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  trainyard::config::FlagSet set("jobs_list_bench");
  trainyard::bench::AddDirFlag(set, &flags.dir);
  set.AddInt("jobs", "jobs seeded", &flags.jobs).Range(1, 10000000);
  set.AddInt("creators", "distinct creators", &flags.creators)
      .Range(1, 1000000);
  set.AddInt("iterations", "calls per list latency figure", &flags.iterations)
      .Range(1, 1000000);
  set.AddInt("dashboard_points", "steps of the dashboard's job in metrics",
             &flags.dashboard_points)
      .Range(1, 100000000);
  set.AddInt("watchers", "WatchJobs streams", &flags.watchers).Range(1, 100000);
  set.AddInt("changes", "jobs changed while they watch", &flags.changes)
      .Range(1, 10000000);
  set.AddDouble("change_seconds", "wall time the changes are spread over",
                &flags.change_seconds);
  if (std::optional<int> exit = trainyard::bench::StartBench(set, argc, argv)) {
    return *exit;
  }
  if (flags.changes > flags.jobs) {
    std::fprintf(stderr, "need changes <= jobs\n");
    return 2;
  }
  return Run(flags);
}
