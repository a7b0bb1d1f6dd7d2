// Copyright 2026 Trainyard authors.
//
// What the benchmarks of tools/bench share: the run's frame (flags, preamble,
// temp dir, load at the end), readers of /proc (CPU, RSS, load average),
// latency percentiles (also beside a trivial unary call), the wall and CPU
// split of a measured interval, a service binary as a process of its own
// (ServiceProcess) and a real `trainyard-metrics` on it (master key, tokens),
// a client of a service in process (TestServer), the METRICS payloads and
// IngestEvents call that ingest_bench and subscribe_bench both send, and the
// event-log mix of ingest_bench and events_bench.
//
// Wall time is read from std::chrono::steady_clock directly: these are
// measurement tools, not service code behind the injected Clock.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/config/flags.h"
#include "common/strings/absl_view.h"
#include "common/testing/service_process.h"
#include "common/testing/subprocess.h"
#include "common/testing/test_server.h"
#include "google/protobuf/timestamp.pb.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::bench {

using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

double SecondsSince(SteadyClock::time_point start);
double MillisSince(SteadyClock::time_point start);
double MillisBetween(SteadyClock::time_point a, SteadyClock::time_point b);

// The whole file as text ("" when unreadable).
std::string ReadFile(const std::string& path);

// "0.52 0.71 0.80": the 1, 5 and 15 minute load averages.
std::string LoadAverage();
// The 1-minute load average.
double LoadAverage1();

// CPU seconds (user + system) of process `pid`, from /proc/<pid>/stat.
double ProcessCpuSeconds(pid_t pid);
// User + system seconds of a getrusage / wait4 result.
double CpuSeconds(const rusage& usage);
// CPU seconds of this process (all threads).
double SelfCpuSeconds();
// CPU time of the calling thread: the work a call did, without the time the
// scheduler gave to other processes (on a busy 2-core machine, wall p99
// mostly measures preemption).
double ThreadCpuSeconds();
inline double ThreadCpuMillis() { return ThreadCpuSeconds() * 1e3; }

// A line of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"), or -1.
int64_t StatusKiB(pid_t pid, std::string_view key);
int ThreadCount(pid_t pid);
double MiB(int64_t kib);

// Latency samples in milliseconds.
struct Percentiles {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Percentiles Summarize(std::vector<double> ms);
std::string Describe(const Percentiles& p);

// A call's latency beside the floor of any call on this machine at that
// moment (the VM is noisy): `iterations` rounds of `call`, each followed by
// `trivial` (a unary call that does almost nothing), timed apart in ms into
// `ms` and `trivial_ms`. False as soon as either returns false.
bool TimeBesideTrivial(int64_t iterations, absl::FunctionRef<bool()> call,
                       absl::FunctionRef<bool()> trivial,
                       std::vector<double>* ms,
                       std::vector<double>* trivial_ms);

// Wall time and CPU of the server and of this process over one measured
// interval.
class Interval {
 public:
  explicit Interval(pid_t server) : server_(server) { Restart(); }
  void Restart();
  void Stop();
  double wall() const { return wall_; }
  double server_cpu() const { return server_cpu_; }
  double self_cpu() const { return self_cpu_; }
  double server_cores() const { return server_cpu_ / wall_; }
  double generator_cores() const { return self_cpu_ / wall_; }

  // "what: wall ... s; CPU server ... ; loadavg A -> B".
  void Print(const char* what) const;
  // For the RESULT line.
  std::string Fields() const;

 private:
  pid_t server_;
  SteadyClock::time_point start_;
  double server_cpu_ = 0, self_cpu_ = 0, wall_ = 0;
  std::string load_;
};

// Paces a loop at a fixed period: Wait() sleeps until the next tick. A tick
// already past counts as late, and more than a second behind, the schedule
// starts again from now (no burst to catch up).
class Pacer {
 public:
  explicit Pacer(SteadyClock::duration period)
      : period_(period), next_(SteadyClock::now()) {}
  // False when late.
  bool Wait();

 private:
  const SteadyClock::duration period_;
  SteadyClock::time_point next_;
};

// ---------------------------------------------------------------------------
// A run's frame
// ---------------------------------------------------------------------------

// Parses a bench's command line into `flags`; with --help prints the usage
// and sets *help (the program then exits 0).
absl::Status ParseBenchFlags(config::FlagSet& flags, int argc, char** argv,
                             bool* help);

// Prints "command: ..." and "machine: N cores online; loadavg ...".
void PrintPreamble(int argc, char** argv);

// The start of a bench's main(): ParseBenchFlags, then PrintPreamble. Returns
// the exit code when main is to return at once: 2 after a bad flag (printed),
// 0 after --help.
std::optional<int> StartBench(config::FlagSet& flags, int argc, char** argv);

// $TMPDIR, else /var/tmp.
std::string DefaultTempParent();

// --dir: the parent of a bench's temp data dir (DefaultTempParent() unless
// given); it must be on the disk under test, not tmpfs.
void AddDirFlag(config::FlagSet& flags, std::string* dir);

// A new directory `parent`/`prefix`.XXXXXX.
absl::StatusOr<std::string> MakeTempDir(const std::string& parent,
                                        const std::string& prefix);

// Runs `run` in a new directory `parent`/`name`.XXXXXX, prints the load at
// the end and removes the directory unless `keep`. Returns what `run`
// returned; 2 without a directory.
int RunInNewDir(const std::string& parent, const std::string& name, bool keep,
                absl::FunctionRef<int(const std::string& dir)> run);

// main() of a bench that works in a directory of its own: StartBench (2 on a
// bad flag, 0 after --help), then RunInNewDir. `parent` and `keep` are read
// after the flags are parsed (bind them to flags of `flags`).
int RunInTempDir(config::FlagSet& flags, int argc, char** argv,
                 const std::string& parent, const std::string& name,
                 absl::FunctionRef<int(const std::string& dir)> run,
                 const bool& keep = false);

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

struct ServerOptions {
  // trainyard-metrics; see FindServer.
  std::string binary;
  // Appended to the server's command line.
  std::vector<std::string> extra_flags;
  // Who is asking (a comment in the tokens file).
  std::string program = "bench";
};

// The flags every benchmark of a real trainyard-metrics takes:
// --server_binary, --dir, --keep and --server_flag (repeatable).
struct ServerFlags {
  std::string binary = "build/services/metrics/trainyard-metrics";
  std::vector<std::string> extra_flags;
  std::string dir = DefaultTempParent();  // parent of the temp data dir
  bool keep = false;                      // keep the data dir
};
void AddServerFlags(config::FlagSet& flags, ServerFlags* server);

// The server binary: `given` when it exists, else the one in the build tree
// this program runs from (tools/bench/../../services/metrics).
std::string FindServer(const std::string& given);

// A channel to `address` of its own (own TCP connection) when `id` differs,
// taking answers up to 64 MiB.
std::shared_ptr<grpc::Channel> BenchChannel(const std::string& address, int id);

// `binary` (a path) as a testing::ServiceProcess with its data in `dir`/db,
// its logs in `dir`/server.<n>.log and `flags` after --log_requests=false.
std::unique_ptr<trainyard::testing::ServiceProcess> BenchProcess(
    const std::string& dir, const std::string& binary,
    std::vector<std::string> flags);

// A real trainyard-metrics (a ServiceProcess), with its data, master key,
// tokens (a service and a viewer token) and logs under `dir`.
class MetricsServer {
 public:
  MetricsServer(ServerOptions options, std::string dir);

  // Writes the master key and tokens files (once) and starts the process on
  // dir/db; returns when health says SERVING. Prints the server's command
  // line on the first start.
  absl::Status Start();
  // SIGTERM, then waits for a clean exit (RocksDB closed).
  absl::Status Stop();
  // Stop, then Start on the same data; returns the seconds from the new
  // process's start to SERVING. Errors start with "stop: " or "restart: ".
  absl::StatusOr<double> Restart();

  // A channel of its own (own TCP connection) when `id` differs.
  std::shared_ptr<grpc::Channel> NewChannel(int id) const;

  // Bearer token and a 120 s deadline.
  void AuthorizeService(grpc::ClientContext& ctx) const;
  void AuthorizeViewer(grpc::ClientContext& ctx) const;
  // The viewer's bearer token with no deadline (for live streams).
  void AuthorizeViewerStream(grpc::ClientContext& ctx) const;

  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::string grpc_address() const { return process_->GrpcAddress(); }
  std::string admin_url() const { return process_->AdminUrl(); }
  int admin_port() const { return process_->AdminPort(); }
  const std::string& master_key() const { return master_key_; }
  trainyard::metrics::v1::MetricsService::Stub& stub() { return *stub_; }
  std::string db_dir() const { return dir_ + "/db"; }

 private:
  const ServerOptions options_;
  const std::string dir_;
  std::string master_key_;
  std::string service_token_;
  std::string viewer_token_;
  std::unique_ptr<trainyard::testing::ServiceProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<trainyard::metrics::v1::MetricsService::Stub> stub_;
};

// main() of a benchmark of a real trainyard-metrics: SIGPIPE ignored, stdout
// line by line (progress shows in a log file while it runs); `parse` reads
// the command line into the caller's flags (2 on an error, printed with the
// program's name; 0 after --help). Then the preamble, a temp dir
// `server.dir`/`program`.XXXXXX (removed at the end unless `server.keep`), a
// MetricsServer of FindServer(server.binary) with `server.extra_flags` started
// in it, `body` run against it, the server stopped cleanly (an unclean stop
// fails the run), and the load average at the end. Returns body's exit code;
// 1 when the server did not start, 2 without a temp dir. `server` is read
// after `parse`.
int MetricsBenchMain(int argc, char** argv, const std::string& program,
                     absl::FunctionRef<absl::Status(bool* help)> parse,
                     const ServerFlags& server,
                     absl::FunctionRef<int(MetricsServer&)> body);

// ---------------------------------------------------------------------------
// An in-process service (common/testing's TestServer)
// ---------------------------------------------------------------------------

// A client of `Service` on a TestServer's channel, e.g.
//   InProcessClient<JobService> client(server);
//   client.Call(&JobService::Stub::GetJob, req, &resp, auth::Role::kViewer);
template <typename Service>
class InProcessClient {
 public:
  using Stub = typename Service::Stub;

  explicit InProcessClient(testing::TestServer& server)
      : stub_(Service::NewStub(server.Channel())) {}

  // One unary call as `role` with a 60 s deadline; prints the error.
  template <typename Method, typename Request, typename Response>
  bool Call(Method method, const Request& req, Response* resp,
            auth::Role role) {
    grpc::ClientContext ctx;
    testing::TestServer::Authorize(ctx, role);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    grpc::Status s = ((*stub_).*method)(&ctx, req, resp);
    if (!s.ok()) std::fprintf(stderr, "call: %s\n", s.error_message().c_str());
    return s.ok();
  }

  Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<Stub> stub_;
};

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

// Throughput runs report many steps: a long run, so no step passes the total.
inline constexpr int64_t kTotalSteps = 100000000;

int64_t EpochOf(int64_t step);

// Loss-like values that fall with the step, with some wiggle.
double LossAt(int64_t step);

// The series a METRICS event of FillMetricsEvent with `values` values feeds,
// in order: train_loss, val_loss, learning_rate, grad_norm, gpu_utilization,
// tokens_per_second, perplexity, extra.reward.
std::vector<std::string> MetricsSeriesNames(int values);

// Fills `e` as a METRICS event of step `seq` carrying `values` (1..8) values.
void FillMetricsEvent(trainyard::metrics::v1::IngestEvent* e,
                      const std::string& job, int64_t seq, int values,
                      const google::protobuf::Timestamp& time,
                      bool with_message);

// One IngestEvents call with the service token; returns the number of
// ACCEPTED events, or an error (whole-call failure, or any event not
// ACCEPTED).
absl::StatusOr<int> Ingest(
    const MetricsServer& server,
    trainyard::metrics::v1::MetricsService::Stub& stub,
    const trainyard::metrics::v1::IngestEventsRequest& req);

// RFC 3339 with milliseconds, as containers send it.
std::string Rfc3339(absl::Time t);

// Event `seq` of a 3-epoch run (2,000 steps per epoch, a report per step), as
// a container would send it, with its webhook-style raw JSON: ~88% METRICS, a
// CHECKPOINT every 100, STATUS every 50, WARNING and INFO now and then, a
// rare ERROR (ingest_bench --mode=events and events_bench). Event is
// v1::IngestEvent or v1::Event (the stored form: the caller sets the rest).
template <typename Event>
void FillLogEvent(Event* e, std::string_view job, int64_t seq,
                  const google::protobuf::Timestamp& time) {
  e->Clear();
  e->set_job_id(std::string(job));
  e->set_event_id(absl::StrCat("evt_1_", seq));
  e->set_attempt(1);
  e->set_attempt_seq(seq);
  *e->mutable_occurred_time() = time;
  const int64_t step = seq % 2000;
  const int64_t epoch = (seq / 2000) % 3 + 1;
  const std::string head =
      absl::StrCat(R"({"attempt":1,"seq":)", seq, R"(,"time":")",
                   Rfc3339(absl::FromUnixSeconds(time.seconds()) +
                           absl::Nanoseconds(time.nanos())),
                   R"(",)");
  if (seq % 100 == 0) {
    e->set_type(trainyard::common::v1::EVENT_TYPE_CHECKPOINT);
    e->set_message(absl::StrCat("Checkpoint saved at step ", step));
    e->mutable_checkpoint()->set_step(step);
    e->mutable_checkpoint()->set_uri(
        absl::StrCat("s3://bucket/", ToAbsl(job), "/ckpt-", step));
    e->mutable_checkpoint()->set_size_bytes(167772160);
    e->set_raw_json(absl::StrCat(head, R"("type":"checkpoint","message":")",
                                 e->message(), R"(","checkpoint":{"step":)",
                                 step, R"(,"uri":")", e->checkpoint().uri(),
                                 R"(","sizeBytes":167772160}})"));
  } else if (seq % 50 == 0) {
    e->set_type(trainyard::common::v1::EVENT_TYPE_STATUS);
    e->set_message(
        absl::StrCat("Training epoch ", epoch, "/3 - Step ", step, "/2000..."));
    e->mutable_status()->set_stage(trainyard::common::v1::STAGE_TRAINING);
    e->mutable_status()->set_substatus(e->message());
    e->mutable_status()->set_stage_progress(step / 20.0);
    e->set_raw_json(
        absl::StrCat(head, R"("type":"status","message":")", e->message(),
                     R"(","status":{"stage":"training","substatus":")",
                     e->message(), R"(","stageProgress":)", step / 20.0, "}}"));
  } else if (seq % 97 == 0) {
    e->set_type(trainyard::common::v1::EVENT_TYPE_WARNING);
    e->set_message(
        seq % 2 == 0
            ? absl::StrCat("GPU utilization low: 43% at step ", step)
            : absl::StrCat("Loss spike at step ", step, ": 0.91 (was 0.34)"));
    e->set_raw_json(absl::StrCat(head, R"("type":"warning","message":")",
                                 e->message(), R"("})"));
  } else if (seq % 61 == 0) {
    e->set_type(trainyard::common::v1::EVENT_TYPE_INFO);
    e->set_message(
        absl::StrCat("Validation running on 2,000 conversations… ✓ ", step));
    e->set_raw_json(absl::StrCat(head, R"("type":"info","message":")",
                                 e->message(), R"("})"));
  } else if (seq % 4999 == 0) {
    e->set_type(trainyard::common::v1::EVENT_TYPE_ERROR);
    e->set_message("CUDA out of memory");
    e->mutable_error()->set_code("CUDA_OOM");
    e->mutable_error()->set_message("CUDA out of memory");
    e->mutable_error()->set_details(
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 "
        "GiB");
    e->set_raw_json(absl::StrCat(
        head, R"("type":"error","error":{"code":"CUDA_OOM","message":)",
        R"("CUDA out of memory","details":"torch.OutOfMemoryError"}})"));
  } else {
    e->set_type(trainyard::common::v1::EVENT_TYPE_METRICS);
    e->set_message(absl::StrCat("Training epoch ", epoch, "/3 - Step ", step,
                                "/2000... loss 0.", 300 + seq % 97));
    auto* m = e->mutable_metrics();
    // Steps keep rising across epochs so the series stays in order.
    m->set_step(seq);
    m->set_total_steps(kTotalSteps);
    m->set_epoch(static_cast<int32_t>(epoch));
    m->set_total_epochs(3);
    m->set_train_loss(0.3 + (seq % 97) / 1000.0);
    m->set_learning_rate(0.000182);
    m->set_lr_schedule("cosine");
    m->set_gpu_utilization(0.87);
    m->set_tokens_per_second(1247);
    e->set_raw_json(
        absl::StrCat(head, R"("type":"metrics","message":")", e->message(),
                     R"(","metrics":{"step":)", seq, R"(,"totalSteps":)",
                     kTotalSteps, R"(,"epoch":)", epoch,
                     R"(,"totalEpochs":3,"trainLoss":)", m->train_loss(),
                     R"(,"learningRate":0.000182,"lrSchedule":"cosine",)"
                     R"("gpuUtilization":0.87,"tokensPerSecond":1247}})"));
  }
}

}  // namespace trainyard::bench
