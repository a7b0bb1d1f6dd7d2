// Copyright 2026 Trainyard authors.
//
// gpusim --state_dir as a real process: a pod trains, gpusim is stopped
// (SIGTERM) and killed (SIGKILL) in the middle of training and started again
// on the same state directory; the pod is listed RUNNING again and its
// container trains on to completion. The pod's webhooks go to a receiver in
// this test that checks every signature and keeps the first body of each
// webhook-id, as metrics-ingest does: together they are the attempt's seq 1..N
// without a gap, and no webhook-id ever comes with two bodies.
//
// Suite time runs at 300x from a fixed origin (kept across the restarts, as
// `make run` does), so the whole run takes a few seconds; the test waits on
// gpusim's answers (polled, bounded), never for time to pass.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/status_matchers.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "common/webhook/signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace trainyard::gpusim {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::trainyard::testing::Subprocess;
using ::trainyard::testing::TempDir;

constexpr char kJob[] = "job-restart";
constexpr std::string_view kMasterKey = "gpusim-restart-test-master-key-32b";

// What a receiver that dedupes by webhook-id (metrics-ingest) stores.
class Receiver {
 public:
  Receiver() : secret_(webhook::DeriveJobSecret(kMasterKey, kJob)) {
    server_.Handle(http::Method::kPost, "/v1/webhooks/runpod/{job_id}",
                   [this](const http::HttpRequest& req) { return Take(req); });
  }
  ~Receiver() { server_.Stop(); }

  std::string Start() {
    absl::StatusOr<int> port = server_.Start();
    EXPECT_OK(port.status());
    return absl::StrCat("http://127.0.0.1:", port.value_or(0),
                        "/v1/webhooks/runpod/", kJob);
  }
  const std::string& secret() const { return secret_; }

  std::map<std::string, json> Stored() const {
    absl::MutexLock lock(&mu_);
    return stored_;
  }
  std::vector<std::string> Conflicts() const {
    absl::MutexLock lock(&mu_);
    return conflicts_;
  }
  int BadSignatures() const {
    absl::MutexLock lock(&mu_);
    return bad_signatures_;
  }

 private:
  http::HttpResponse Take(const http::HttpRequest& req) {
    const std::string id(req.Header("webhook-id"));
    absl::Status verified = webhook::Verify(
        *webhook::Secret::Parse(secret_), id, req.Header("webhook-timestamp"),
        req.Header("webhook-signature"), req.body, RealClock().Now());
    absl::MutexLock lock(&mu_);
    if (!verified.ok()) {
      ++bad_signatures_;
      return http::JsonError(401, std::string(verified.message()));
    }
    auto [it, inserted] = bodies_.emplace(id, req.body);
    if (inserted) {
      stored_[id] = json::parse(req.body);
    } else if (it->second != req.body) {
      conflicts_.push_back(id);
    }
    http::HttpResponse r;
    r.status = 204;
    return r;
  }

  const std::string secret_;
  http::HttpServer server_{http::HttpServerOptions{}};
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> bodies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, json> stored_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> conflicts_ ABSL_GUARDED_BY(mu_);
  int bad_signatures_ ABSL_GUARDED_BY(mu_) = 0;
};

class GpusimRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TRAINYARD_BINARY_DIR");
    ASSERT_NE(bin, nullptr) << "run under ctest";
    binary_ = absl::StrCat(bin, "/tools/gpusim/gpusim");
    origin_ = absl::StrCat(absl::ToUnixSeconds(RealClock().Now()));
    webhook_url_ = receiver_.Start();
  }

  // Starts gpusim on the test's state directory; its REST API's base URL.
  void StartGpusim() {
    const std::string ports = dir_.Sub("gpusim.ports");
    std::remove(ports.c_str());
    auto p = Subprocess::Start(
        {binary_, "--address=127.0.0.1:0", "--ports_file=" + ports, "--seed=7",
         "--time_scale=300", "--time_origin=" + origin_, "--provision_delay=2s",
         "--start_delay=2s", "--status_interval=10s",
         "--state_dir=" + dir_.Sub("state"), "--state_interval=20ms"},
        dir_.Sub(absl::StrCat("gpusim-", starts_++, ".log")));
    ASSERT_OK(p.status());
    gpusim_ = std::make_unique<Subprocess>(*std::move(p));
    for (int i = 0; i < 3000; ++i) {
      int port = 0;
      if (std::ifstream(ports) >> port) {
        client_ = std::make_unique<http::HttpClient>(
            absl::StrCat("http://127.0.0.1:", port));
        return;
      }
      ASSERT_FALSE(gpusim_->Wait(absl::ZeroDuration()).ok())
          << "gpusim exited:\n"
          << gpusim_->Log();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "gpusim did not start:\n" << gpusim_->Log();
  }

  void StopGpusim(int signal) {
    gpusim_->Signal(signal);
    absl::StatusOr<int> code = gpusim_->Wait(absl::Seconds(30));
    ASSERT_OK(code.status());
    EXPECT_EQ(*code, signal == SIGKILL ? 128 + SIGKILL : 0) << gpusim_->Log();
  }

  json Send(http::Method method, const std::string& path,
            const std::string& body = "") {
    auto r = client_->Send(method, path, {}, body,
                           body.empty() ? "" : "application/json");
    EXPECT_OK(r.status());
    if (!r.ok()) return json();
    EXPECT_LT(r->status, 300) << r->body;
    return json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  }

  json Pod() { return Send(http::Method::kGet, "/v2/pods/" + pod_id_); }

  // Polls the pod until `done` holds (bounded by a minute of wall time).
  json WaitFor(const std::function<bool(const json&)>& done) {
    for (int i = 0; i < 12000; ++i) {
      json pod = Pod();
      if (done(pod)) return pod;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "timed out; the pod: " << Pod().dump();
    return Pod();
  }

  static int64_t Step(const json& pod) {
    return pod.contains("simulation") ? pod["simulation"].value("step", 0) : 0;
  }

  TempDir dir_;
  Receiver receiver_;
  std::string binary_, origin_, webhook_url_, pod_id_;
  int starts_ = 0;
  std::unique_ptr<Subprocess> gpusim_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(GpusimRestartTest, RunningPodSurvivesStopAndKillAndCompletes) {
  ASSERT_NO_FATAL_FAILURE(StartGpusim());
  json spec = {{"name", "job-restart-a1"},
               {"image", "trainyard/lora-trainer:1"},
               {"gpu", {{"id", "NVIDIA H100 80GB HBM3"}, {"count", 1}}},
               {"interruptible", false},
               {"env",
                {{"TRAINYARD_JOB_ID", kJob},
                 {"TRAINYARD_WEBHOOK_URL", webhook_url_},
                 {"TRAINYARD_WEBHOOK_SECRET", receiver_.secret()},
                 {"TRAINYARD_DATASET_CONVERSATIONS", "1000"},
                 {"TRAINYARD_BATCH_SIZE", "4"},
                 {"TRAINYARD_GRAD_ACCUM", "2"},
                 {"TRAINYARD_EPOCHS", "2"},
                 {"TRAINYARD_CHECKPOINT_EVERY", "20"},
                 {"TRAINYARD_SIM_STEP_SECONDS", "6"},
                 {"TRAINYARD_SIM_STAGE_SECONDS", "60"}}}};
  json created = Send(http::Method::kPost, "/v2/pods", spec.dump());
  pod_id_ = created.value("id", "");
  ASSERT_FALSE(pod_id_.empty()) << created.dump();
  const int64_t total = 200;  // ceil(0.8 * 1000 / 8) * 2

  // SIGTERM in the middle of training: a clean stop saves the last state.
  json before = WaitFor([](const json& p) { return Step(p) >= 50; });
  ASSERT_NO_FATAL_FAILURE(StopGpusim(SIGTERM));
  ASSERT_NO_FATAL_FAILURE(StartGpusim());
  json after = Pod();
  EXPECT_EQ(after["status"], "RUNNING") << after.dump();
  EXPECT_EQ(after["simulation"]["attempt"], 1);
  EXPECT_EQ(after["simulation"]["totalSteps"], total);
  // Back at its last checkpoint (at most where it was), never at 0.
  EXPECT_GE(Step(after), 40) << after.dump();
  EXPECT_LE(Step(after), Step(before) + 20) << after.dump();

  // SIGKILL: only what the last periodic save holds survives.
  WaitFor([](const json& p) { return Step(p) >= 120; });
  ASSERT_NO_FATAL_FAILURE(StopGpusim(SIGKILL));
  ASSERT_NO_FATAL_FAILURE(StartGpusim());
  after = Pod();
  EXPECT_EQ(after["status"], "RUNNING") << after.dump();
  EXPECT_GE(Step(after), 100) << after.dump();
  json list = Send(http::Method::kGet, "/v2/pods?status=RUNNING");
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["id"], pod_id_);

  json done = WaitFor([](const json& p) { return p["status"] == "EXITED"; });
  EXPECT_EQ(done["exitReason"], "completed") << done.dump();
  EXPECT_EQ(Step(done), total);

  // What the receiver stored: seq 1..N of attempt 1, no gap, no conflict.
  std::map<std::string, json> stored = receiver_.Stored();
  EXPECT_THAT(receiver_.Conflicts(), ::testing::IsEmpty());
  EXPECT_EQ(receiver_.BadSignatures(), 0);
  std::map<int64_t, json> by_seq;
  for (const auto& [id, body] : stored) {
    EXPECT_EQ(body["attempt"], 1) << id;
    int64_t seq = body["seq"];
    EXPECT_EQ(id, absl::StrCat("evt_1_", seq));
    by_seq[seq] = body;
  }
  ASSERT_FALSE(by_seq.empty());
  EXPECT_EQ(by_seq.begin()->first, 1);
  EXPECT_EQ(by_seq.rbegin()->first, static_cast<int64_t>(by_seq.size()))
      << "a gap in seq";
  EXPECT_EQ(done["simulation"]["events"], static_cast<int64_t>(by_seq.size()));
  // Every step trained and reported; two restarts said so; the end is there.
  std::set<int64_t> steps;
  int restarts = 0;
  for (const auto& [seq, body] : by_seq) {
    if (body["type"] == "metrics" && body["metrics"].contains("trainLoss")) {
      steps.insert(body["metrics"]["step"].get<int64_t>());
    }
    if (body["type"] == "info" &&
        body["message"].get<std::string>().find("Container restarted") !=
            std::string::npos) {
      ++restarts;
    }
  }
  EXPECT_EQ(steps.size(), static_cast<size_t>(total));
  EXPECT_EQ(*steps.begin(), 1);
  EXPECT_EQ(*steps.rbegin(), total);
  EXPECT_EQ(restarts, 2);
  EXPECT_THAT(by_seq.rbegin()->second["message"].get<std::string>(),
              HasSubstr("Training complete"));
}

TEST_F(GpusimRestartTest, FinishedPodsStayAsTheyWere) {
  ASSERT_NO_FATAL_FAILURE(StartGpusim());
  json spec = {{"name", "job-restart-a1"},
               {"image", "trainyard/lora-trainer:1"},
               {"gpu", {{"id", "NVIDIA L40S"}}},
               {"env",
                {{"TRAINYARD_JOB_ID", kJob},
                 {"TRAINYARD_WEBHOOK_URL", webhook_url_},
                 {"TRAINYARD_WEBHOOK_SECRET", receiver_.secret()},
                 {"TRAINYARD_SIM_STEP_SECONDS", "6"},
                 {"TRAINYARD_SIM_STAGE_SECONDS", "60"}}}};
  json stopped = Send(http::Method::kPost, "/v2/pods", spec.dump());
  pod_id_ = stopped.value("id", "");
  Send(http::Method::kPost, "/v2/pods/" + pod_id_ + "/stop");
  json exited = WaitFor([](const json& p) { return p["status"] == "EXITED"; });
  std::string deleted =
      Send(http::Method::kPost, "/v2/pods", spec.dump()).value("id", "");
  ASSERT_OK(client_->Send(http::Method::kDelete, "/v2/pods/" + deleted));
  ASSERT_NO_FATAL_FAILURE(StopGpusim(SIGKILL));
  ASSERT_NO_FATAL_FAILURE(StartGpusim());
  EXPECT_EQ(Pod(), exited);
  json gone = Send(http::Method::kGet, "/v2/pods/" + deleted);
  EXPECT_EQ(gone["status"], "TERMINATED");
  EXPECT_EQ(gone["exitReason"], "stopped");
}

}  // namespace
}  // namespace trainyard::gpusim
