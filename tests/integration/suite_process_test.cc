// Copyright 2026 Trainyard authors.
//
// The four service binaries as real processes: each starts on ephemeral
// ports, answers health SERVING, lists its services by reflection (buf curl),
// exports metrics promtool accepts, drains and closes RocksDB on SIGTERM, and
// refuses a bad setting with a message naming it.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/http/client.h"
#include "common/testing/silent_listener.h"
#include "common/testing/status_matchers.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::SilentListener;
using ::trainyard::testing::Subprocess;
using ::trainyard::testing::TempDir;

struct ServiceUnderTest {
  std::string name;
  std::string full_service;
  bool needs_master_key = false;  // derives the pods' webhook secrets
};

const ServiceUnderTest kServices[] = {
    {"jobs", "trainyard.jobs.v1.JobService", true},
    {"scheduler", "trainyard.scheduler.v1.SchedulerService"},
    {"metrics", "trainyard.metrics.v1.MetricsService"},
    {"cost", "trainyard.cost.v1.CostService"},
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string Binary(const std::string& name) {
  return absl::StrCat(Env("TRAINYARD_BINARY_DIR"), "/services/", name,
                      "/trainyard-", name);
}

// Runs a shell command; returns its exit code and output.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  return {WEXITSTATUS(rc), out};
}

class RunningService {
 public:
  RunningService(const ServiceUnderTest& svc, const TempDir& dir)
      : svc_(svc), dir_(dir) {}

  void Start() {
    std::string ports = dir_.Sub(svc_.name + ".ports");
    std::remove(ports.c_str());
    std::vector<std::string> argv = {Binary(svc_.name),
                                     "--grpc_address=127.0.0.1:0",
                                     "--admin_address=127.0.0.1:0",
                                     "--data_dir=" + dir_.Sub(svc_.name),
                                     "--ports_file=" + ports,
                                     "--drain_timeout=5s"};
    if (svc_.needs_master_key) {
      std::string key = dir_.Sub("master.key");
      std::ofstream(key) << "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n";
      argv.push_back("--webhook_master_key_file=" + key);
    }
    auto p = Subprocess::Start(argv, dir_.Sub(svc_.name + ".log"));
    ASSERT_OK(p.status());
    process_.emplace(std::move(*p));
    // Wait for the ports file (the event of binding), not for a time.
    for (int i = 0; i < 2000 && !ReadPorts(ports); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GT(grpc_port_, 0) << process_->Log();
  }

  bool ReadPorts(const std::string& path) {
    std::ifstream in(path);
    return static_cast<bool>(in >> grpc_port_ >> admin_port_);
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Health() {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                       grpc::InsecureChannelCredentials());
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::health::v1::HealthCheckResponse resp;
    // Serving follows binding after warm-up: retry until it says SERVING.
    for (int i = 0; i < 200; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
      grpc::health::v1::HealthCheckRequest req;
      req.set_service(svc_.full_service);
      if (stub->Check(&ctx, req, &resp).ok() &&
          resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return resp.status();
  }

  std::string Metrics() {
    http::HttpClient client(absl::StrCat("http://127.0.0.1:", admin_port_));
    auto r = client.Send(http::Method::kGet, "/metrics");
    EXPECT_OK(r.status());
    return r.ok() ? r->body : "";
  }

  Subprocess& process() { return *process_; }
  int grpc_port() const { return grpc_port_; }

 private:
  const ServiceUnderTest& svc_;
  const TempDir& dir_;
  std::optional<Subprocess> process_;
  int grpc_port_ = 0;
  int admin_port_ = 0;
};

TEST(SuiteProcessTest, EachServiceServesHealthReflectionMetricsAndDrains) {
  TempDir dir;
  std::vector<std::unique_ptr<RunningService>> services;
  for (const auto& svc : kServices) {
    services.push_back(std::make_unique<RunningService>(svc, dir));
    services.back()->Start();
  }
  std::string buf =
      absl::StrCat(Env("TRAINYARD_SOURCE_DIR"), "/node_modules/.bin/buf");
  bool have_buf = std::ifstream(buf).good();
  bool have_promtool = Shell("command -v promtool").first == 0;
  for (size_t i = 0; i < services.size(); ++i) {
    RunningService& s = *services[i];
    SCOPED_TRACE(kServices[i].name);
    EXPECT_EQ(s.Health(), grpc::health::v1::HealthCheckResponse::SERVING);
    if (have_buf) {
      auto [rc, out] = Shell(absl::StrCat(
          buf,
          " curl --protocol grpc --http2-prior-knowledge --list-methods "
          "http://127.0.0.1:",
          s.grpc_port()));
      EXPECT_EQ(rc, 0) << out;
      EXPECT_THAT(out, HasSubstr("grpc.health.v1.Health/Check"));
      EXPECT_THAT(out, HasSubstr(kServices[i].full_service + "/"));
    }
    if (have_promtool) {
      std::string path = dir.Sub(kServices[i].name + ".metrics");
      std::ofstream(path) << s.Metrics();
      auto [rc, out] = Shell("promtool check metrics < " + path);
      EXPECT_EQ(rc, 0) << out;
      EXPECT_EQ(out, "");
    }
  }
  for (auto& s : services) s->process().Signal(SIGTERM);
  for (size_t i = 0; i < services.size(); ++i) {
    SCOPED_TRACE(kServices[i].name);
    absl::StatusOr<int> code = services[i]->process().Wait(absl::Seconds(30));
    ASSERT_OK(code.status());
    EXPECT_EQ(*code, 0) << services[i]->process().Log();
    EXPECT_THAT(services[i]->process().Log(), HasSubstr("storage.closed"));
  }
  // The data directories reopen cleanly after the drain.
  RunningService again(kServices[0], dir);
  again.Start();
  EXPECT_EQ(again.Health(), grpc::health::v1::HealthCheckResponse::SERVING);
  again.process().Signal(SIGTERM);
  EXPECT_THAT(again.process().Wait(absl::Seconds(30)),
              ::trainyard::testing::IsOkAndHolds(0));
}

TEST(SuiteProcessTest, BadSettingStopsTheStartNamingIt) {
  TempDir dir;
  for (const auto& svc : kServices) {
    SCOPED_TRACE(svc.name);
    auto p = Subprocess::Start({Binary(svc.name), "--unary_timeout=soon",
                                "--data_dir=" + dir.Sub(svc.name)},
                               dir.Sub(svc.name + ".log"));
    ASSERT_OK(p.status());
    EXPECT_THAT(p->Wait(absl::Seconds(30)),
                ::trainyard::testing::IsOkAndHolds(2));
    EXPECT_THAT(p->Log(),
                HasSubstr("--unary_timeout: \"soon\" is not a duration"));
  }
  auto p = Subprocess::Start({Binary("jobs"), "--grpc_address=0.0.0.0:0",
                              "--data_dir=" + dir.Sub("open")},
                             dir.Sub("open.log"));
  ASSERT_OK(p.status());
  EXPECT_THAT(p->Wait(absl::Seconds(30)),
              ::trainyard::testing::IsOkAndHolds(2));
  EXPECT_THAT(p->Log(), HasSubstr("--tokens_file: required"));
}

// A port someone else listens on: the start fails with a message naming the
// flag, exit 1, and the half-built service tears down without a crash (jobs
// once dereferenced its freed module from the host's drain callback here).
TEST(SuiteProcessTest, BusyAdminPortFailsTheStartCleanly) {
  SilentListener taken;
  std::string busy = taken.address();
  TempDir dir;
  std::string key = dir.Sub("master.key");
  std::ofstream(key) << "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n";
  for (const auto& svc : kServices) {
    SCOPED_TRACE(svc.name);
    std::vector<std::string> argv = {
        Binary(svc.name), "--grpc_address=127.0.0.1:0",
        "--admin_address=" + busy, "--data_dir=" + dir.Sub(svc.name)};
    if (svc.needs_master_key) {
      argv.push_back("--webhook_master_key_file=" + key);
    }
    auto p = Subprocess::Start(argv, dir.Sub(svc.name + ".log"));
    ASSERT_OK(p.status());
    EXPECT_THAT(p->Wait(absl::Seconds(30)),
                ::trainyard::testing::IsOkAndHolds(1))
        << p->Log();
    EXPECT_THAT(p->Log(), HasSubstr("--admin_address: cannot listen on " +
                                    busy + ": Address already in use"));
  }
}

}  // namespace
}  // namespace trainyard
