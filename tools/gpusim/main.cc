// Copyright 2026 Trainyard authors.
//
// gpusim: wiring only. A local GPU cloud speaking a RunPod REST subset
// (api/pods_api.h) whose pods play simulated LoRA training runs and post
// signed webhooks (tools/gpusim/README.md).
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/config/flags.h"
#include "common/http/server.h"
#include "common/logging/logger.h"
#include "common/process/process_flags.h"
#include "common/server/server_config.h"
#include "common/server/signals.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "common/time/clock.h"
#include "tools/gpusim/api/pods_api.h"
#include "tools/gpusim/cloud/cloud.h"
#include "tools/gpusim/cloud/pod_state.h"
#include "tools/gpusim/delivery/transport.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/scheduler.h"

namespace trainyard::gpusim {
namespace {

constexpr int kExitBadConfig = 2;
constexpr int kExitFailed = 1;

struct Settings {
  std::string address = "127.0.0.1:7120";
  std::string ports_file;
  std::string api_key;
  std::string api_key_file;
  int64_t seed = 0;
  process::ProcessFlags process;  // logging and the suite clock
  int64_t max_pods = 1000;
  int64_t http_threads = 16;
  int64_t sender_threads = 4;
  absl::Duration provision_delay = absl::Seconds(20);
  absl::Duration start_delay = absl::Seconds(30);
  absl::Duration flush_timeout = absl::Minutes(10);
  absl::Duration spot_grace = absl::Seconds(5);
  absl::Duration status_interval = absl::Seconds(30);
  int64_t status_every_steps = 10;
  absl::Duration retry_initial = absl::Seconds(1);
  absl::Duration retry_max = absl::Minutes(5);
  std::string state_dir;
  absl::Duration state_interval = absl::Milliseconds(200);
  FaultPlan faults;
};

void AddFlags(config::FlagSet& flags, Settings* s) {
  flags.AddString("address", "host:port of the REST API; port 0 picks one",
                  &s->address);
  flags.AddString("ports_file", "write the bound port here once listening",
                  &s->ports_file);
  flags.AddString("api_key", "accepted bearer API key", &s->api_key);
  flags.AddString("api_key_file",
                  "file of accepted API keys, one a line ('#' comments); "
                  "with neither, no key is needed (loopback only)",
                  &s->api_key_file);
  flags.AddInt("seed", "randomness seed; 0: from the clock (logged)", &s->seed);
  process::AddProcessFlags(flags, &s->process);
  flags
      .AddInt("max_pods", "pods provisioning or running at once; more: 429",
              &s->max_pods)
      .Range(1, 1e6);
  flags.AddInt("http_threads", "REST API worker threads", &s->http_threads)
      .Range(1, 256);
  flags
      .AddInt("sender_threads", "threads delivering webhooks",
              &s->sender_threads)
      .Range(1, 256);
  flags.AddDuration("provision_delay", "simulated PROVISIONING time",
                    &s->provision_delay);
  flags.AddDuration("start_delay", "simulated STARTING time (image pull)",
                    &s->start_delay);
  flags.AddDuration("flush_timeout",
                    "how long an ended container waits for its webhooks",
                    &s->flush_timeout);
  flags.AddDuration("spot_grace",
                    "notice before a spot-interrupted pod is killed",
                    &s->spot_grace);
  flags.AddDuration("status_interval",
                    "status updates within non-training stages",
                    &s->status_interval);
  flags
      .AddInt("status_every_steps", "training status update every N steps",
              &s->status_every_steps)
      .Range(1, 1e9);
  flags.AddDuration("retry_initial", "first webhook retry delay (simulated)",
                    &s->retry_initial);
  flags.AddDuration("retry_max", "longest webhook retry delay (simulated)",
                    &s->retry_max);
  flags.AddString("state_dir",
                  "keep the pods in this directory (pods.json) and bring them "
                  "back on start; empty: in memory only",
                  &s->state_dir);
  flags.AddDuration("state_interval",
                    "with --state_dir: how often the pods' progress is saved "
                    "(real time; webhooks wait for the save that holds them)",
                    &s->state_interval);
  for (std::string_view key : FaultPlan::Keys()) {
    flags.AddCustom(absl::StrCat("fault_", ToAbsl(key)),
                    absl::StrCat("default fault setting ", ToAbsl(key),
                                 " of every pod (see README: Faults)"),
                    "", [s, key](std::string_view value) {
                      absl::Status status = s->faults.Set(key, value);
                      if (status.ok()) return status;
                      std::vector<FieldViolation> v = FieldViolations(status);
                      return absl::InvalidArgumentError(
                          v.empty() ? status.message() : v[0].description);
                    });
  }
}

absl::StatusOr<std::vector<std::string>> ApiKeys(const Settings& s) {
  std::vector<std::string> keys;
  if (!s.api_key.empty()) keys.push_back(s.api_key);
  if (!s.api_key_file.empty()) {
    std::ifstream in(s.api_key_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--api_key_file: cannot read ", s.api_key_file));
    }
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view key = absl::StripAsciiWhitespace(line);
      if (!key.empty() && key[0] != '#') keys.emplace_back(key);
    }
    if (keys.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--api_key_file: no key in ", s.api_key_file));
    }
  }
  return keys;
}

absl::Status SplitAddress(const std::string& address, std::string* host,
                          int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--address: \"", address, "\" is not host:port"));
  }
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

int Run(int argc, char** argv) {
  server::BlockTerminationSignals();
  Settings s;
  config::FlagSet flags("gpusim");
  AddFlags(flags, &s);
  absl::Status status = flags.Parse(argc, argv);
  if (status.ok() && flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  absl::StatusOr<std::vector<std::string>> keys =
      status.ok() ? ApiKeys(s)
                  : absl::StatusOr<std::vector<std::string>>(status);
  std::string host;
  int port = 0;
  if (keys.ok()) status = SplitAddress(s.address, &host, &port);
  if (keys.ok() && status.ok() && keys->empty() &&
      !server::IsLoopbackAddress(s.address)) {
    status = absl::InvalidArgumentError(
        "--api_key: required when listening beyond loopback");
  }
  for (const absl::Status& st :
       {keys.status(), status, process::ValidateProcessFlags(s.process)}) {
    if (!st.ok()) {
      std::cerr << "gpusim: " << st.message() << "\n";
      return kExitBadConfig;
    }
  }

  RealClock wall_clock;
  ScaledClock clock(wall_clock,
                    process::SuiteTimeOrigin(s.process, wall_clock.Now()),
                    s.process.time_scale);
  std::unique_ptr<Logger> owned_logger =
      process::MakeLogger(s.process, wall_clock);
  Logger& logger = *owned_logger;
  uint64_t seed = s.seed != 0
                      ? static_cast<uint64_t>(s.seed)
                      : static_cast<uint64_t>(
                            absl::ToUnixNanos(wall_clock.Now()) & 0x7fffffff);

  Scheduler scheduler(clock);
  HttpTransport transport;
  WebhookSender sender(
      clock, wall_clock, scheduler, transport,
      SenderOptions{.threads = static_cast<int>(s.sender_threads),
                    .backoff = {.initial = s.retry_initial, .max = s.retry_max},
                    .seed = seed});
  CloudOptions options;
  options.max_pods = s.max_pods;
  options.provision_delay = s.provision_delay;
  options.start_delay = s.start_delay;
  options.flush_timeout = s.flush_timeout;
  options.spot_grace = s.spot_grace;
  options.faults = s.faults;
  options.container = {.status_interval = s.status_interval,
                       .status_every_steps = s.status_every_steps};
  options.seed = seed;
  std::unique_ptr<StateFile> state;
  if (!s.state_dir.empty()) {
    state = std::make_unique<StateFile>(s.state_dir);
    options.state = state.get();
  }
  Cloud cloud(clock, scheduler, sender, options);
  if (state != nullptr) {
    absl::StatusOr<std::vector<PodRecord>> saved = state->Load();
    size_t pods = saved.ok() ? saved->size() : 0;
    absl::Status restored =
        saved.ok() ? cloud.Restore(*std::move(saved)) : saved.status();
    if (restored.ok()) restored = cloud.Persist();
    if (!restored.ok()) {
      std::cerr << "gpusim: " << restored.message() << "\n";
      return kExitFailed;
    }
    logger.Info("gpusim.restored",
                {{"state", state->path()}, {"pods", absl::StrCat(pods)}});
  }
  PodsApi api(
      cloud, sender, scheduler,
      ApiOptions{.api_keys = *keys, .time_scale = s.process.time_scale});
  http::HttpServer server(http::HttpServerOptions{
      .host = host,
      .port = port,
      .worker_threads = static_cast<int>(s.http_threads)});
  api.Register(server);
  absl::StatusOr<int> bound = server.Start();
  if (!bound.ok()) {
    std::cerr << "gpusim: " << bound.status().message() << "\n";
    return kExitFailed;
  }
  if (!s.ports_file.empty()) {
    std::ofstream(s.ports_file) << *bound << "\n";
  }
  sender.Start();
  scheduler.Start(s.process.time_scale);
  // The training progress between pod changes, every state_interval.
  absl::Notification stop_saving;
  std::thread saver;
  if (state != nullptr) {
    saver = std::thread([&] {
      while (!stop_saving.WaitForNotificationWithTimeout(s.state_interval)) {
        if (absl::Status st = cloud.Persist(/*only_if_changed=*/true);
            !st.ok()) {
          logger.Warning("gpusim.save_failed",
                         {{"error", ToStd(st.message())}});
        }
      }
    });
  }
  logger.Info("gpusim.start",
              {{"address", absl::StrCat(host, ":", *bound)},
               {"auth", keys->empty() ? "open (loopback)" : "api keys"},
               {"time_scale", absl::StrCat(s.process.time_scale)},
               {"seed", absl::StrCat(seed)},
               {"max_pods", absl::StrCat(s.max_pods)}});
  int signal = server::WaitForTerminationSignal();
  logger.Info("gpusim.signal", {{"signal", absl::StrCat(signal)}});
  server.Stop();
  scheduler.Stop();
  sender.Stop();
  if (saver.joinable()) {
    stop_saving.Notify();
    saver.join();
    // The last progress; the restarted containers go on from it.
    if (absl::Status st = cloud.Persist(); !st.ok()) {
      logger.Warning("gpusim.save_failed", {{"error", ToStd(st.message())}});
    }
  }
  SenderStats stats = sender.Stats();
  logger.Info("gpusim.stopped",
              {{"webhooks_delivered", absl::StrCat(stats.delivered)},
               {"webhooks_queued", absl::StrCat(stats.queued)}});
  return 0;
}

}  // namespace
}  // namespace trainyard::gpusim

int main(int argc, char** argv) { return trainyard::gpusim::Run(argc, argv); }
