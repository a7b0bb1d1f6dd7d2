// Copyright 2026 Trainyard authors.
#include "tests/e2e/suite.h"

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/http/client.h"
#include "common/time/clock.h"

namespace trainyard::e2e {
namespace {

constexpr char kMasterKey[] =
    "dHJhaW55YXJkLWUyZS1tYXN0ZXIta2V5LTAxMjM0NTY3ODlhYmNkZWY=";
constexpr char kProviderKey[] = "rp_e2e_provider_key_0123456789";

std::string TokenOf(const std::string& role) {
  return absl::StrCat("ty_e2e_", role, "_0123456789abcdef");
}

std::string BinaryDir() {
  const char* d = std::getenv("TRAINYARD_BINARY_DIR");
  return d != nullptr ? d : "build";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

}  // namespace

Suite::Suite(SuiteOptions options) : options_(std::move(options)) {
  status_ = Start();
}

Suite::~Suite() {
  // Services first (they drain), gpusim with its fixture.
  for (auto& [name, s] : services_) {
    if (s.process) s.process->Signal(SIGTERM);
  }
  for (auto& [name, s] : services_) {
    if (s.process) (void)s.process->Wait(absl::Seconds(15));
  }
}

absl::Status Suite::Start() {
  {
    std::ofstream tokens(dir_.Sub("tokens"));
    for (const char* role :
         {"viewer", "engineer", "manager", "admin", "service"}) {
      tokens << TokenOf(role) << " " << role << "-e2e " << role << "\n";
    }
    tokens << TokenOf("manager2") << " manager2-e2e manager\n";
  }
  std::ofstream(dir_.Sub("service.token")) << TokenOf("service") << "\n";
  std::ofstream(dir_.Sub("master.key")) << kMasterKey << "\n";
  std::ofstream(dir_.Sub("provider.key")) << kProviderKey << "\n";

  const std::string scale = absl::StrCat("--time_scale=", options_.time_scale);
  const std::string origin = absl::StrCat(
      "--time_origin=", options_.time_origin != 0
                            ? options_.time_origin
                            : absl::ToUnixSeconds(RealClock().Now()));
  std::vector<std::string> gpusim_flags = {
      scale, origin, "--api_key_file=" + dir_.Sub("provider.key")};
  for (const auto& f : options_.flags["gpusim"]) gpusim_flags.push_back(f);
  auto sim = jobs::testing::GpusimProcess::Start(gpusim_flags);
  if (!sim.ok()) return sim.status();
  gpusim_ = std::make_unique<jobs::testing::GpusimProcess>(*std::move(sim));

  // Long domain timeouts: a loaded 2-core machine must not turn a slow
  // webhook into a stall or a start timeout at this time scale; the journeys
  // test the lifecycle, not those timers.
  std::vector<std::string> common = {"--tokens_file=" + dir_.Sub("tokens"),
                                     scale, origin, "--drain_timeout=2s"};
  std::vector<std::string> peer = {"--service_token_file=" +
                                   dir_.Sub("service.token")};
  auto declare = [&](const std::string& name, std::vector<std::string> extra) {
    Service& s = services_[name];
    s.name = name;
    s.argv = {
        absl::StrCat(BinaryDir(), "/services/", name, "/trainyard-", name),
        "--data_dir=" + dir_.Sub(name + "-data"),
        "--ports_file=" + dir_.Sub(name + ".ports")};
    for (auto* v : {&common, &extra, &options_.flags[name]}) {
      s.argv.insert(s.argv.end(), v->begin(), v->end());
    }
    return &s;
  };
  Service* metrics = declare(
      "metrics", {"--webhook_master_key_file=" + dir_.Sub("master.key"),
                  "--stall_timeout=100h", "--stall_min_metric_silence=100h"});
  if (absl::Status s = StartService(*metrics); !s.ok()) return s;
  const std::string metrics_address =
      absl::StrCat("--metrics_address=127.0.0.1:", metrics->grpc_port);
  peer.push_back(metrics_address);
  Service* scheduler = declare(
      "scheduler", {peer[0], peer[1],
                    "--notifications_file=" + dir_.Sub("notifications.jsonl")});
  Service* cost = declare("cost", {peer[0], peer[1]});
  for (Service* s : {scheduler, cost}) {
    if (absl::Status st = StartService(*s); !st.ok()) return st;
  }
  Service* jobs = declare(
      "jobs",
      {peer[0], peer[1],
       absl::StrCat("--scheduler_address=127.0.0.1:", scheduler->grpc_port),
       absl::StrCat("--cost_address=127.0.0.1:", cost->grpc_port),
       "--provider_base_url=" + gpusim_->base_url(),
       "--provider_api_key_file=" + dir_.Sub("provider.key"),
       absl::StrCat("--webhook_base_url=http://127.0.0.1:",
                    metrics->admin_port),
       "--webhook_master_key_file=" + dir_.Sub("master.key"),
       "--start_timeout=100h", "--provision_timeout=100h",
       "--pause_timeout=100h", "--stall_fail_after=100h",
       "--copy_refresh_interval=250ms"});
  if (absl::Status s = StartService(*jobs); !s.ok()) return s;

  std::ofstream conf(dir_.Sub("yardctl.conf"));
  conf << "endpoint = 127.0.0.1:" << jobs->grpc_port << "\n"
       << "scheduler_endpoint = 127.0.0.1:" << scheduler->grpc_port << "\n"
       << "metrics_endpoint = 127.0.0.1:" << metrics->grpc_port << "\n"
       << "cost_endpoint = 127.0.0.1:" << cost->grpc_port << "\n"
       << "tokens_file = " << dir_.Sub("tokens") << "\n";
  return absl::OkStatus();
}

absl::Status Suite::StartService(Service& s) {
  std::vector<std::string> argv = s.argv;
  // First start: ephemeral ports; a restart keeps them.
  argv.push_back(absl::StrCat("--grpc_address=127.0.0.1:", s.grpc_port));
  argv.push_back(absl::StrCat("--admin_address=127.0.0.1:", s.admin_port));
  const std::string ports = dir_.Sub(s.name + ".ports");
  std::remove(ports.c_str());
  auto p = testing::Subprocess::Start(argv, dir_.Sub(s.name + ".log"));
  if (!p.ok()) return p.status();
  s.process = std::make_unique<testing::Subprocess>(*std::move(p));
  // Ready = the ports file (bound), then /readyz 200 (warmed up), bounded.
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in(ports);
    int grpc = 0, admin = 0;
    if (in >> grpc >> admin) {
      s.grpc_port = grpc;
      s.admin_port = admin;
      http::HttpClient client(absl::StrCat("http://127.0.0.1:", admin));
      auto r = client.Send(http::Method::kGet, "/readyz");
      if (r.ok() && r->status == 200) return absl::OkStatus();
    }
    if (s.process->Wait(absl::ZeroDuration()).ok()) break;  // exited
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::UnavailableError(absl::StrCat(
      s.name, " did not become ready; its log:\n", s.process->Log()));
}

absl::Status Suite::KillAndRestart(const std::string& service) {
  Service& s = services_.at(service);
  s.process->Signal(SIGKILL);
  (void)s.process->Wait(absl::Seconds(10));
  return StartService(s);
}

CliResult Suite::Yardctl(const std::vector<std::string>& args,
                         const std::string& role, absl::Duration timeout) {
  static int run = 0;
  const std::string out = dir_.Sub(absl::StrCat("yardctl-", run, ".out"));
  const std::string err = dir_.Sub(absl::StrCat("yardctl-", run++, ".err"));
  std::string cmd =
      absl::StrCat("TRAINYARD_CONFIG=", ShellQuote(dir_.Sub("yardctl.conf")),
                   " TRAINYARD_TOKEN=", TokenOf(role), " timeout ",
                   absl::ToInt64Seconds(timeout), " ", BinaryDir(),
                   "/tools/yardctl/yardctl");
  for (const auto& a : args) absl::StrAppend(&cmd, " ", ShellQuote(a));
  absl::StrAppend(&cmd, " >", out, " 2>", err, " </dev/null");
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ReadFile(out), ReadFile(err)};
}

std::shared_ptr<grpc::Channel> Suite::Channel(const std::string& service) {
  return grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", services_.at(service).grpc_port),
      grpc::InsecureChannelCredentials());
}

void Suite::Authorize(grpc::ClientContext& ctx, const std::string& role) {
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", TokenOf(role)));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

std::string Suite::Gpusim(const std::string& method, const std::string& path,
                          const std::string& body) {
  http::HttpClientOptions o;
  o.bearer_token = kProviderKey;
  http::HttpClient client(gpusim_->base_url(), o);
  auto r =
      client.Send(method == "POST" ? http::Method::kPost : http::Method::kGet,
                  path, {}, body, body.empty() ? "" : "application/json");
  return r.ok() ? r->body : "";
}

std::string Suite::Logs() const {
  std::string out = absl::StrCat("--- gpusim\n", gpusim_ ? gpusim_->Log() : "");
  for (const auto& [name, s] : services_) {
    if (s.process) absl::StrAppend(&out, "--- ", name, "\n", s.process->Log());
  }
  return out;
}

}  // namespace trainyard::e2e
