// Copyright 2026 Trainyard authors.
#include "tools/bench/bench_support.h"

#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/webhook/master_key.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::bench {

namespace common = ::trainyard::common::v1;
namespace v1 = ::trainyard::metrics::v1;

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double MillisSince(SteadyClock::time_point start) {
  return MillisBetween(start, SteadyClock::now());
}

double MillisBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LoadAverage() {
  std::string text = ReadFile("/proc/loadavg");
  std::istringstream in(text);
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

double LoadAverage1() { return atof(ReadFile("/proc/loadavg").c_str()); }

double ProcessCpuSeconds(pid_t pid) {
  std::string text = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(text.substr(paren + 1));
  // After the command: state (field 3) ... utime (14), stime (15).
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) utime = atof(field.c_str());
    if (i == 15) stime = atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double CpuSeconds(const rusage& u) {
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

double SelfCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return CpuSeconds(u);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

int64_t StatusKiB(pid_t pid, std::string_view key) {
  std::istringstream in(ReadFile(absl::StrCat("/proc/", pid, "/status")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key) && line.size() > key.size() &&
        line[key.size()] == ':') {
      return atoll(line.c_str() + key.size() + 1);
    }
  }
  return -1;
}

int ThreadCount(pid_t pid) {
  return static_cast<int>(StatusKiB(pid, "Threads"));
}

double MiB(int64_t kib) { return kib / 1024.0; }

Percentiles Summarize(std::vector<double> ms) {
  Percentiles p;
  p.n = ms.size();
  if (ms.empty()) return p;
  std::sort(ms.begin(), ms.end());
  auto at = [&ms](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * ms.size()));
    return ms[std::clamp<size_t>(rank, 1, ms.size()) - 1];
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  p.mean = sum / ms.size();
  return p;
}

std::string Describe(const Percentiles& p) {
  return absl::StrFormat(
      "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (mean %.3f, n=%d)",
      p.p50, p.p90, p.p99, p.max, p.mean, p.n);
}

bool TimeBesideTrivial(int64_t iterations, absl::FunctionRef<bool()> call,
                       absl::FunctionRef<bool()> trivial,
                       std::vector<double>* ms,
                       std::vector<double>* trivial_ms) {
  for (int64_t i = 0; i < iterations; ++i) {
    auto start = SteadyClock::now();
    if (!call()) return false;
    ms->push_back(MillisSince(start));
    start = SteadyClock::now();
    if (!trivial()) return false;
    trivial_ms->push_back(MillisSince(start));
  }
  return true;
}

void Interval::Restart() {
  start_ = SteadyClock::now();
  server_cpu_ = ProcessCpuSeconds(server_);
  self_cpu_ = SelfCpuSeconds();
  load_ = LoadAverage();
}

void Interval::Stop() {
  wall_ = SecondsSince(start_);
  server_cpu_ = ProcessCpuSeconds(server_) - server_cpu_;
  self_cpu_ = SelfCpuSeconds() - self_cpu_;
}

void Interval::Print(const char* what) const {
  std::printf(
      "%s: wall %.2f s; CPU server %.2f s (%.2f cores), generator %.2f s "
      "(%.2f cores), idle/other %.2f cores of %ld; loadavg %s -> %s\n",
      what, wall_, server_cpu_, server_cores(), self_cpu_, generator_cores(),
      std::max(0.0, static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)) -
                        server_cores() - generator_cores()),
      sysconf(_SC_NPROCESSORS_ONLN), load_.c_str(), LoadAverage().c_str());
}

std::string Interval::Fields() const {
  return absl::StrFormat("wall_s=%.2f server_cores=%.2f gen_cores=%.2f", wall_,
                         server_cores(), generator_cores());
}

bool Pacer::Wait() {
  next_ += period_;
  const auto now = SteadyClock::now();
  if (next_ > now) {
    std::this_thread::sleep_until(next_);
    return true;
  }
  if (now - next_ > std::chrono::seconds(1)) next_ = now;
  return false;
}

// ---------------------------------------------------------------------------
// A run's frame
// ---------------------------------------------------------------------------

absl::Status ParseBenchFlags(config::FlagSet& flags, int argc, char** argv,
                             bool* help) {
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) return s;
  *help = flags.help_requested();
  if (*help) std::printf("%s", flags.Usage().c_str());
  return absl::OkStatus();
}

void PrintPreamble(int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i)
    absl::StrAppend(&command, i ? " " : "", argv[i]);
  std::printf("command: %s\n", command.c_str());
  std::printf("machine: %ld cores online; loadavg %s (1/5/15 min)\n",
              sysconf(_SC_NPROCESSORS_ONLN), LoadAverage().c_str());
}

std::optional<int> StartBench(config::FlagSet& flags, int argc, char** argv) {
  bool help = false;
  if (absl::Status s = ParseBenchFlags(flags, argc, argv, &help); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  if (help) return 0;
  PrintPreamble(argc, argv);
  return std::nullopt;
}

std::string DefaultTempParent() {
  const char* tmp = getenv("TMPDIR");
  return (tmp != nullptr && tmp[0] != '\0') ? tmp : "/var/tmp";
}

void AddDirFlag(config::FlagSet& flags, std::string* dir) {
  flags.AddString("dir", "parent of the temp data dir (a disk, not tmpfs)",
                  dir);
}

absl::StatusOr<std::string> MakeTempDir(const std::string& parent,
                                        const std::string& prefix) {
  std::string tmpl = absl::StrCat(parent, "/", prefix, ".XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a directory under ", parent));
  }
  return tmpl;
}

int RunInNewDir(const std::string& parent, const std::string& name, bool keep,
                absl::FunctionRef<int(const std::string& dir)> run) {
  absl::StatusOr<std::string> dir = MakeTempDir(parent, name);
  if (!dir.ok()) {
    std::fprintf(stderr, "%s\n", dir.status().ToString().c_str());
    return 2;
  }
  const int rc = run(*dir);
  std::printf("\nload at the end: %s\n", LoadAverage().c_str());
  if (!keep) {
    std::error_code ignored;
    std::filesystem::remove_all(*dir, ignored);
  }
  return rc;
}

int RunInTempDir(config::FlagSet& flags, int argc, char** argv,
                 const std::string& parent, const std::string& name,
                 absl::FunctionRef<int(const std::string& dir)> run,
                 const bool& keep) {
  if (std::optional<int> exit = StartBench(flags, argc, argv)) return *exit;
  return RunInNewDir(parent, name, keep, run);
}

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

namespace {

std::string RandomHex(int bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  urandom.read(raw.data(), bytes);
  std::string out;
  for (unsigned char c : raw) absl::StrAppendFormat(&out, "%02x", c);
  return out;
}

}  // namespace

void AddServerFlags(config::FlagSet& flags, ServerFlags* server) {
  flags.AddString("server_binary",
                  "trainyard-metrics (else the one of this build tree)",
                  &server->binary);
  AddDirFlag(flags, &server->dir);
  flags.AddBool("keep", "keep the data dir", &server->keep);
  flags.AddCustom("server_flag", "extra flag for the server (repeatable)", "",
                  [server](std::string_view v) {
                    server->extra_flags.emplace_back(v);
                    return absl::OkStatus();
                  });
}

std::string FindServer(const std::string& given) {
  std::error_code ec;
  if (std::filesystem::exists(given, ec)) return given;
  std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path sibling = self.parent_path().parent_path() /
                                    "../services/metrics/trainyard-metrics";
    if (std::filesystem::exists(sibling, ec)) {
      return std::filesystem::weakly_canonical(sibling, ec).string();
    }
  }
  return given;
}

std::shared_ptr<grpc::Channel> BenchChannel(const std::string& address,
                                            int id) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("trainyard.bench_channel", id);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

std::unique_ptr<trainyard::testing::ServiceProcess> BenchProcess(
    const std::string& dir, const std::string& binary,
    std::vector<std::string> flags) {
  flags.insert(flags.begin(), "--log_requests=false");
  return std::make_unique<trainyard::testing::ServiceProcess>(
      "server", dir + "/db", dir, std::move(flags), binary);
}

MetricsServer::MetricsServer(ServerOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

absl::Status MetricsServer::Start() {
  if (master_key_.empty()) {
    const std::string key_file = dir_ + "/master.key";
    if (absl::Status s = webhook::CreateMasterKeyFile(key_file); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::string> key = webhook::LoadMasterKey(key_file);
    if (!key.ok()) return key.status();
    master_key_ = *std::move(key);
    service_token_ = absl::StrCat("ty_bench_svc_", RandomHex(16));
    viewer_token_ = absl::StrCat("ty_bench_view_", RandomHex(16));
    // The service token's user: the program's name with dashes.
    std::string user = options_.program;
    std::replace(user.begin(), user.end(), '_', '-');
    std::ofstream(dir_ + "/tokens")
        << "# " << options_.program << "\n"
        << service_token_ << " " << user << " service\n"
        << viewer_token_ << " bench-viewer viewer\n";
  }
  if (process_ == nullptr) {
    std::vector<std::string> flags = {
        "--webhook_master_key_file=" + dir_ + "/master.key",
        "--tokens_file=" + dir_ + "/tokens"};
    flags.insert(flags.end(), options_.extra_flags.begin(),
                 options_.extra_flags.end());
    process_ = BenchProcess(dir_, options_.binary, std::move(flags));
  }
  const bool first = !process_->running() && process_->CommandLine().empty();
  if (absl::Status s = process_->Start(); !s.ok()) return s;
  if (first) std::printf("server: %s\n", process_->CommandLine().c_str());
  channel_ = NewChannel(0);
  stub_ = v1::MetricsService::NewStub(channel_);
  return absl::OkStatus();
}

absl::Status MetricsServer::Stop() {
  stub_.reset();
  channel_.reset();
  return process_ != nullptr ? process_->Stop() : absl::OkStatus();
}

absl::StatusOr<double> MetricsServer::Restart() {
  if (absl::Status s = Stop(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("stop: ", s.message()));
  }
  const auto start = SteadyClock::now();
  if (absl::Status s = Start(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("restart: ", s.message()));
  }
  return SecondsSince(start);
}

std::shared_ptr<grpc::Channel> MetricsServer::NewChannel(int id) const {
  return BenchChannel(process_->GrpcAddress(), id);
}

void MetricsServer::AuthorizeService(grpc::ClientContext& ctx) const {
  ctx.AddMetadata("authorization", "Bearer " + service_token_);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(120));
}

void MetricsServer::AuthorizeViewer(grpc::ClientContext& ctx) const {
  AuthorizeViewerStream(ctx);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(120));
}

void MetricsServer::AuthorizeViewerStream(grpc::ClientContext& ctx) const {
  ctx.AddMetadata("authorization", "Bearer " + viewer_token_);
}

namespace {

int RunAgainstServer(int argc, char** argv, ServerOptions options,
                     const std::string& parent, bool keep,
                     absl::FunctionRef<int(MetricsServer&)> body) {
  options.binary = FindServer(options.binary);
  PrintPreamble(argc, argv);
  const std::string program = options.program;
  return RunInNewDir(parent, program, keep, [&](const std::string& dir) {
    std::printf("data: %s%s\n", dir.c_str(), keep ? " (kept)" : "");
    std::fflush(stdout);
    MetricsServer server(std::move(options), dir);
    if (absl::Status s = server.Start(); !s.ok()) {
      std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("server pid %d\n", static_cast<int>(server.pid()));
    std::fflush(stdout);
    int rc = body(server);
    if (absl::Status s = server.Stop(); !s.ok()) {
      std::fprintf(stderr, "stop: %s\n", s.ToString().c_str());
      rc = rc == 0 ? 1 : rc;
    }
    return rc;
  });
}

}  // namespace

int MetricsBenchMain(int argc, char** argv, const std::string& program,
                     absl::FunctionRef<absl::Status(bool* help)> parse,
                     const ServerFlags& server,
                     absl::FunctionRef<int(MetricsServer&)> body) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  bool help = false;
  if (absl::Status s = parse(&help); !s.ok()) {
    std::fprintf(stderr, "%s: %s (--help lists the flags)\n", program.c_str(),
                 std::string(s.message()).c_str());
    return 2;
  }
  if (help) return 0;
  return RunAgainstServer(argc, argv,
                          {.binary = server.binary,
                           .extra_flags = server.extra_flags,
                           .program = program},
                          server.dir, server.keep, body);
}

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

int64_t EpochOf(int64_t step) { return 1 + step * 3 / kTotalSteps; }

double LossAt(int64_t step) {
  return 0.3 + 1.7 / (1.0 + step / 500.0) + 0.01 * ((step * 7919) % 13) / 13;
}

std::vector<std::string> MetricsSeriesNames(int values) {
  static const char* const kNames[] = {
      "train_loss",      "val_loss",          "learning_rate", "grad_norm",
      "gpu_utilization", "tokens_per_second", "perplexity",    "extra.reward"};
  std::vector<std::string> out;
  for (int i = 0; i < values && i < 8; ++i) out.push_back(kNames[i]);
  return out;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

void FillMetricsEvent(v1::IngestEvent* e, const std::string& job, int64_t seq,
                      int values, const google::protobuf::Timestamp& time,
                      bool with_message) {
  e->set_job_id(job);
  e->set_event_id(absl::StrCat("evt_1_", seq));
  e->set_type(common::EVENT_TYPE_METRICS);
  e->set_attempt(1);
  e->set_attempt_seq(seq);
  *e->mutable_occurred_time() = time;
  const int64_t step = seq;
  if (with_message) {
    e->set_message(absl::StrCat("Training epoch ", EpochOf(step), "/3 - Step ",
                                step, "/", kTotalSteps, "..."));
  } else {
    e->clear_message();
  }
  v1::MetricsPayload* m = e->mutable_metrics();
  m->Clear();
  m->set_step(step);
  m->set_train_loss(LossAt(step));
  if (values >= 2) m->set_val_loss(LossAt(step) + 0.02);
  if (values >= 3) m->set_learning_rate(0.000182);
  if (values >= 4) m->set_grad_norm(0.81);
  if (values >= 5) m->set_gpu_utilization(0.87);
  if (values >= 6) m->set_tokens_per_second(1247);
  if (values >= 7) m->set_perplexity(1.43);
  if (values >= 8) (*m->mutable_extra())["reward"] = 0.12;
  if (with_message) {
    m->set_total_steps(kTotalSteps);
    m->set_epoch(static_cast<int32_t>(EpochOf(step)));
    m->set_total_epochs(3);
    m->set_lr_schedule("cosine");
  }
}

absl::StatusOr<int> Ingest(const MetricsServer& server,
                           v1::MetricsService::Stub& stub,
                           const v1::IngestEventsRequest& req) {
  grpc::ClientContext ctx;
  server.AuthorizeService(ctx);
  v1::IngestEventsResponse resp;
  grpc::Status s = stub.IngestEvents(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("IngestEvents: ", s.error_message()));
  }
  int accepted = 0;
  for (const v1::IngestResult& r : resp.results()) {
    if (r.outcome() == v1::INGEST_OUTCOME_ACCEPTED) {
      ++accepted;
    } else {
      return absl::InternalError(
          absl::StrCat("event ", r.event_id(), " of ", r.job_id(), ": outcome ",
                       v1::IngestOutcome_Name(r.outcome()), " ", r.field(), " ",
                       r.reason()));
    }
  }
  return accepted;
}

}  // namespace trainyard::bench
