// gpusim_bench: can one gpusim process run 1,000 training pods, each posting
// at least one webhook a second, without falling behind?
//
// The parent runs gpusim's real machinery (Cloud, Scheduler loop thread,
// WebhookSender pool, HttpTransport) on a ScaledClock, with pods created
// through the Cloud, spread over --ramp as jobs would arrive (pods created in
// the same instant with fixed step times would post in lockstep bursts). A
// forked child (its own process, so CPU is accounted apart) is the receiver: a
// common/http HttpServer that verifies every Standard Webhooks signature and
// measures each event's lag: receive time minus the event's own "time" (when
// the container produced it), both on the same suite clock, reported in wall
// time.
//
// Usage: gpusim_bench [--pods=1000] [--duration=30s] [--warmup=10s] [--ramp=2s]
//                     [--time_scale=20] [--step_seconds=10]
//                     [--sender_threads=4] [--sink_threads=8]
//
// Prints: events produced and delivered per second (total and per pod), lag
// p50/p99/max, the scheduler's timer lag, queued webhooks at the end, and the
// CPU of gpusim and of the receiver (cores = CPU seconds / wall seconds).
// Wall time comes from RealClock: this is a measurement tool.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/config/flags.h"
#include "common/http/server.h"
#include "common/strings/absl_view.h"
#include "common/time/clock.h"
#include "common/webhook/signature.h"
#include "tools/bench/bench_support.h"
#include "tools/gpusim/cloud/cloud.h"
#include "tools/gpusim/delivery/transport.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/latency_histogram.h"
#include "tools/gpusim/sim/scheduler.h"

namespace trainyard::gpusim {
namespace {

constexpr char kMasterKey[] = "gpusim-bench-master-key";

struct Flags {
  int64_t pods = 1000;
  absl::Duration duration = absl::Seconds(30);
  absl::Duration warmup = absl::Seconds(10);
  absl::Duration ramp = absl::Seconds(2);
  double time_scale = 20;
  double step_seconds = 10;
  int64_t sender_threads = 4;
  int64_t sink_threads = 8;
};

using ::trainyard::bench::CpuSeconds;
using ::trainyard::bench::StartBench;

// What the receiver reports back through a pipe, as text.
struct SinkReport {
  int64_t received = 0;  // after warmup
  int64_t bad = 0;       // failed verification
  int64_t total = 0;     // all requests
  double lag_p50_ms = 0, lag_p99_ms = 0, lag_max_ms = 0;
};

// The receiver (child process). Writes its port to `port_fd`, serves until
// `stop_fd` reaches EOF, then writes its report to `report_fd`.
[[noreturn]] void RunSink(const Flags& flags, absl::Time origin, int port_fd,
                          int stop_fd, int report_fd) {
  RealClock wall;
  ScaledClock clock(wall, origin, flags.time_scale);
  absl::Time measure_from = wall.Now() + flags.warmup;
  absl::Mutex mu;
  LatencyHistogram lag;
  std::atomic<int64_t> received{0}, bad{0}, total{0};
  http::HttpServer server(http::HttpServerOptions{
      .worker_threads = static_cast<int>(flags.sink_threads)});
  server.Handle(
      http::Method::kPost, "/v1/webhooks/runpod/{job_id}",
      [&](const http::HttpRequest& req) {
        ++total;
        absl::Time now = clock.Now();
        absl::Status ok = webhook::Verify(  // webhook-timestamp: real time
            webhook::DeriveJobSecretKey(kMasterKey, req.PathParam("job_id")),
            req.Header("webhook-id"), req.Header("webhook-timestamp"),
            req.Header("webhook-signature"), req.body, wall.Now());
        if (!ok.ok()) {
          ++bad;
          return http::JsonError(401, ToStd(ok.message()));
        }
        size_t at = req.body.find("\"time\":\"");
        absl::Time event_time;
        std::string err;
        if (wall.Now() >= measure_from && at != std::string::npos &&
            absl::ParseTime(absl::RFC3339_full, req.body.substr(at + 8, 24),
                            &event_time, &err)) {
          ++received;
          absl::MutexLock lock(&mu);
          lag.Add((now - event_time) / flags.time_scale);
        }
        return http::HttpResponse{.status = 204};
      });
  absl::StatusOr<int> port = server.Start();
  int p = port.ok() ? *port : -1;
  (void)!write(port_fd, &p, sizeof p);
  char c;
  while (read(stop_fd, &c, 1) > 0) {
  }
  server.Stop();
  std::string report;
  {
    absl::MutexLock lock(&mu);
    report = absl::StrFormat("%d %d %d %.3f %.3f %.3f", received.load(),
                             bad.load(), total.load(),
                             absl::ToDoubleMilliseconds(lag.Percentile(0.5)),
                             absl::ToDoubleMilliseconds(lag.Percentile(0.99)),
                             absl::ToDoubleMilliseconds(lag.max()));
  }
  (void)!write(report_fd, report.data(), report.size());
  _exit(0);
}

int Run(int argc, char** argv) {
  Flags f;
  config::FlagSet flags("gpusim_bench");
  flags.AddInt("pods", "pods to run", &f.pods).Range(1, 100000);
  flags.AddDuration("duration", "measured wall time", &f.duration);
  flags.AddDuration("warmup", "wall time before measuring", &f.warmup);
  flags.AddDuration("ramp", "pods are created evenly over this wall time",
                    &f.ramp);
  flags
      .AddDouble("time_scale", "simulated seconds per wall second",
                 &f.time_scale)
      .Range(1, 1e6);
  flags
      .AddDouble("step_seconds", "simulated seconds per training step",
                 &f.step_seconds)
      .Range(0.001, 1e6);
  flags.AddInt("sender_threads", "webhook sender threads", &f.sender_threads)
      .Range(1, 256);
  flags.AddInt("sink_threads", "receiver threads", &f.sink_threads)
      .Range(1, 256);
  if (std::optional<int> exit = StartBench(flags, argc, argv)) return *exit;

  RealClock wall;
  absl::Time origin = wall.Now();
  int port_pipe[2], stop_pipe[2], report_pipe[2];
  if (pipe(port_pipe) != 0 || pipe(stop_pipe) != 0 || pipe(report_pipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  pid_t child = fork();  // before any thread exists
  if (child == 0) {
    close(stop_pipe[1]);
    RunSink(f, origin, port_pipe[1], stop_pipe[0], report_pipe[1]);
  }
  close(stop_pipe[0]);
  close(report_pipe[1]);
  int port = -1;
  if (read(port_pipe[0], &port, sizeof port) != sizeof port || port <= 0) {
    std::fprintf(stderr, "receiver did not start\n");
    return 1;
  }

  ScaledClock clock(wall, origin, f.time_scale);
  Scheduler scheduler(clock);
  HttpTransport transport;
  WebhookSender sender(
      clock, wall, scheduler, transport,
      SenderOptions{.threads = static_cast<int>(f.sender_threads)});
  CloudOptions options;
  options.max_pods = f.pods;
  options.provision_delay = absl::Seconds(1);
  options.start_delay = absl::Seconds(1);
  // At least one event per wall second in every stage.
  options.container.status_interval =
      absl::Seconds(std::min(30.0, f.time_scale / 2));
  options.seed = 1;
  Cloud cloud(clock, scheduler, sender, options);
  sender.Start();
  scheduler.Start(f.time_scale);

  std::string base = absl::StrCat("http://127.0.0.1:", port);
  for (int64_t i = 0; i < f.pods; ++i) {
    std::string job = absl::StrCat("bench-", i);
    PodSpec spec;
    spec.name = job;
    spec.image = "trainyard/lora-trainer:bench";
    spec.gpu_type_ids = {"NVIDIA H100 80GB HBM3"};
    spec.env = {
        {"TRAINYARD_JOB_ID", job},
        {"TRAINYARD_WEBHOOK_URL",
         absl::StrCat(base, "/v1/webhooks/runpod/", job)},
        {"TRAINYARD_WEBHOOK_SECRET", webhook::DeriveJobSecret(kMasterKey, job)},
        {"TRAINYARD_DATASET_CONVERSATIONS", "1000000"},
        {"TRAINYARD_SIM_STEP_SECONDS", absl::StrCat(f.step_seconds)},
        {"TRAINYARD_SIM_STAGE_SECONDS", "60"}};
    absl::SleepFor(f.ramp / f.pods);  // jobs arrive at different times
    absl::StatusOr<PodView> pod = cloud.Create(std::move(spec));
    if (!pod.ok()) {
      std::fprintf(stderr, "create: %s\n",
                   std::string(pod.status().message()).c_str());
      return 1;
    }
  }

  absl::SleepFor(f.warmup);
  rusage r0;
  getrusage(RUSAGE_SELF, &r0);
  SenderStats s0 = sender.Stats();
  LatencyHistogram lag0 = scheduler.Lag();
  absl::Time t0 = wall.Now();
  absl::SleepFor(f.duration);
  rusage r1;
  getrusage(RUSAGE_SELF, &r1);
  SenderStats s1 = sender.Stats();
  absl::Time t1 = wall.Now();
  CloudCounts counts = cloud.Counts();
  LatencyHistogram timer_lag = scheduler.Lag().Since(lag0);

  scheduler.Stop();
  sender.Stop();
  close(stop_pipe[1]);
  std::string report(256, '\0');
  ssize_t n = read(report_pipe[0], report.data(), report.size());
  int status = 0;
  rusage child_usage;
  wait4(child, &status, 0, &child_usage);
  SinkReport sink;
  if (n > 0) {
    report.resize(n);
    std::sscanf(report.c_str(), "%ld %ld %ld %lf %lf %lf", &sink.received,
                &sink.bad, &sink.total, &sink.lag_p50_ms, &sink.lag_p99_ms,
                &sink.lag_max_ms);
  }

  double secs = absl::ToDoubleSeconds(t1 - t0);
  double produced = static_cast<double>(s1.enqueued - s0.enqueued) / secs;
  double delivered = static_cast<double>(s1.delivered - s0.delivered) / secs;
  std::printf(
      "gpusim_bench: %ld pods, time scale %.0fx, %.0f s steps "
      "(simulated), %ld sender threads, %.1f s measured after "
      "%.0f s warmup\n",
      f.pods, f.time_scale, f.step_seconds, f.sender_threads, secs,
      absl::ToDoubleSeconds(f.warmup));
  std::printf("  pods running          %ld\n",
              counts.by_status[PodStatus::kRunning]);
  std::printf("  events produced       %.0f/s (%.2f per pod per s)\n", produced,
              produced / static_cast<double>(f.pods));
  std::printf(
      "  events delivered      %.0f/s (%.2f per pod per s), %ld "
      "retries, %ld rejected by receiver\n",
      delivered, delivered / static_cast<double>(f.pods),
      s1.retries - s0.retries, sink.bad);
  std::printf("  queued at end         %ld webhooks\n", s1.queued);
  std::printf(
      "  lag event->received   p50 %.1f ms, p99 %.1f ms, max %.1f ms "
      "(wall)\n",
      sink.lag_p50_ms, sink.lag_p99_ms, sink.lag_max_ms);
  std::printf(
      "  scheduler timer lag   p99 %.2f ms (wall)\n",
      absl::ToDoubleMilliseconds(timer_lag.Percentile(0.99)) / f.time_scale);
  std::printf("  CPU gpusim            %.2f cores\n",
              (CpuSeconds(r1) - CpuSeconds(r0)) / secs);
  std::printf("  CPU receiver          %.2f cores (whole run, %.1f s)\n",
              CpuSeconds(child_usage) / absl::ToDoubleSeconds(t1 - origin),
              absl::ToDoubleSeconds(t1 - origin));
  return sink.bad == 0 ? 0 : 1;
}

}  // namespace
}  // namespace trainyard::gpusim

int main(int argc, char** argv) { return trainyard::gpusim::Run(argc, argv); }
