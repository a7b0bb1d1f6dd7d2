// Copyright 2026 Trainyard authors.
//
// The backup procedure of deploy/README.md, end to end on the real binary:
// signed webhooks stream into trainyard-metrics while an operator takes a
// backup (POST /admin/checkpoint); the service is stopped, the checkpoint is
// copied into a fresh data dir, and a new process started on it. Every event
// acknowledged (200) before the backup was asked for is present, each job's
// log is an unbroken prefix of what its sender sent (no gap, no stranger, no
// altered body), replays are still recognised as duplicates, and the restored
// service takes new writes. (Issue 17: "a backup taken during ingest restores
// to a state where every event acknowledged before the backup is present".)
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/http/client.h"
#include "common/testing/status_matchers.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "common/webhook/base64.h"
#include "common/webhook/signature.h"
#include "gtest/gtest.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard {
namespace {

using ::trainyard::testing::Subprocess;
using ::trainyard::testing::TempDir;

// Any 32 bytes; base64 as the master key file holds them.
constexpr char kMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";
constexpr int kSenders = 3;
// Events acknowledged before the backup is asked for, and after it.
constexpr int kBeforeBackup = 300;
constexpr int kAfterBackup = 150;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Polls `done` every 50 ms until it is true or a generous deadline passes
// (the machine may be loaded); never waits for time itself to pass.
bool PollUntil(const std::function<bool()>& done) {
  RealClock clock;
  absl::Time end = clock.Now() + absl::Minutes(3);
  while (!done()) {
    if (clock.Now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// trainyard-metrics on ephemeral ports, open mode (loopback), checkpoints
// enabled.
class MetricsProcess {
 public:
  MetricsProcess(const TempDir& dir, const std::string& data_dir,
                 const std::string& tag) {
    std::string ports = dir.Sub(tag + ".ports");
    auto p = Subprocess::Start(
        {absl::StrCat(Env("TRAINYARD_BINARY_DIR"),
                      "/services/metrics/trainyard-metrics"),
         "--grpc_address=127.0.0.1:0", "--admin_address=127.0.0.1:0",
         "--data_dir=" + data_dir, "--ports_file=" + ports,
         "--checkpoint_dir=" + dir.Sub("checkpoints"),
         "--webhook_master_key_file=" + dir.Sub("master.key"),
         "--log_requests=false"},
        dir.Sub(tag + ".log"));
    EXPECT_OK(p.status());
    if (!p.ok()) return;
    process_.emplace(std::move(*p));
    EXPECT_TRUE(PollUntil([&] {
      std::ifstream in(ports);
      return static_cast<bool>(in >> grpc_port_ >> admin_port_);
    })) << process_->Log();
    EXPECT_TRUE(PollUntil([&] {
      auto r = Admin().Send(http::Method::kGet, "/readyz");
      return r.ok() && r->status == 200;
    })) << process_->Log();
    stub_ = metrics::v1::MetricsService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                            grpc::InsecureChannelCredentials()));
  }

  // SIGTERM: drain, close RocksDB, exit 0.
  void Stop() {
    process_->Signal(SIGTERM);
    absl::StatusOr<int> code = process_->Wait(absl::Minutes(1));
    ASSERT_OK(code.status());
    EXPECT_EQ(*code, 0) << process_->Log();
  }

  http::HttpClient Admin() const {
    return http::HttpClient(absl::StrCat("http://127.0.0.1:", admin_port_));
  }
  metrics::v1::MetricsService::Stub& stub() { return *stub_; }
  std::string Log() const { return process_->Log(); }

 private:
  std::optional<Subprocess> process_;
  int grpc_port_ = 0;
  int admin_port_ = 0;
  std::unique_ptr<metrics::v1::MetricsService::Stub> stub_;
};

struct Sent {
  std::string id;
  std::string body;
};

// What one pod sends: metrics events of one job, in order, one at a time.
std::vector<Sent> PodEvents(int count) {
  std::vector<Sent> out;
  for (int seq = 1; seq <= count; ++seq) {
    out.push_back(
        {absl::StrCat("evt_1_", seq),
         absl::StrFormat(
             R"({"type":"metrics","attempt":1,"seq":%d,)"
             R"("time":"2026-11-29T%02d:%02d:%02dZ","metrics":{"step":%d,)"
             R"("totalSteps":100000,"trainLoss":%.4f,"gpuUtilization":0.9}})",
             seq, 3 + seq / 3600, (seq / 60) % 60, seq % 60, seq * 10,
             2.0 / seq)});
  }
  return out;
}

// Every event of `job` in log order (the log's own paging).
std::vector<metrics::v1::Event> ListAll(metrics::v1::MetricsService::Stub& stub,
                                        const std::string& job) {
  std::vector<metrics::v1::Event> out;
  metrics::v1::ListEventsRequest req;
  req.set_job_id(job);
  req.set_page_size(100);
  while (true) {
    grpc::ClientContext ctx;
    metrics::v1::ListEventsResponse resp;
    grpc::Status s = stub.ListEvents(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << job << ": " << s.error_message();
    if (!s.ok()) return out;
    for (const auto& m : resp.events()) out.push_back(m.event());
    if (resp.next_page_token().empty()) return out;
    req.set_page_token(resp.next_page_token());
  }
}

TEST(Restore, R_X_01_BackupDuringIngestHoldsEveryEventAcknowledgedBeforeIt) {
  TempDir dir;
  std::ofstream(dir.Sub("master.key")) << kMasterKey << "\n";
  const std::string master_key = *webhook::Base64Decode(kMasterKey);
  MetricsProcess live(dir, dir.Sub("data"), "live");
  ASSERT_FALSE(HasFailure());

  // Senders: one pod (job) each, in order, one delivery at a time.
  absl::Mutex mu;
  std::vector<std::pair<int, int>> acked;  // (sender, index), in ack order
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::vector<Sent>> pods(kSenders);
  // More than the senders reach before `stop`, even when a loaded machine
  // lets them run far ahead of the polls (with 2 x (before + after) they
  // once sent everything before the checkpoint answered, and no event was
  // left to send after it).
  for (auto& pod : pods) pod = PodEvents(20 * (kBeforeBackup + kAfterBackup));
  std::vector<std::thread> senders;
  for (int p = 0; p < kSenders; ++p) {
    senders.emplace_back([&, p] {
      http::HttpClient client = live.Admin();
      const std::string job = absl::StrCat("job-restore-", p);
      webhook::Secret secret = webhook::DeriveJobSecretKey(master_key, job);
      RealClock wall;
      for (size_t i = 0; i < pods[p].size() && !stop.load(); ++i) {
        const Sent& e = pods[p][i];
        int64_t ts = absl::ToUnixSeconds(wall.Now());
        auto r = client.Send(
            http::Method::kPost, "/v1/webhooks/runpod/" + job,
            {{"webhook-id", e.id},
             {"webhook-timestamp", absl::StrCat(ts)},
             {"webhook-signature", webhook::Sign(secret, e.id, ts, e.body)}},
            e.body, "application/json");
        if (!r.ok() || r->status != 200) {
          ++errors;  // a sender would retry; this one stops
          return;
        }
        absl::MutexLock lock(&mu);
        acked.emplace_back(p, static_cast<int>(i));
      }
    });
  }
  auto acked_count = [&] {
    absl::MutexLock lock(&mu);
    return static_cast<int>(acked.size());
  };

  ASSERT_TRUE(PollUntil([&] { return acked_count() >= kBeforeBackup; }))
      << live.Log();
  // Everything acknowledged up to here must be in the backup.
  std::vector<std::pair<int, int>> before;
  {
    absl::MutexLock lock(&mu);
    before = acked;
  }
  auto backup = live.Admin().Send(http::Method::kPost,
                                  "/admin/checkpoint?name=during-ingest");
  ASSERT_OK(backup.status());
  ASSERT_EQ(backup->status, 201) << backup->body;
  const int at_backup = acked_count();
  EXPECT_TRUE(PollUntil([&] {
    return acked_count() >= at_backup + kAfterBackup || errors > 0;
  })) << live.Log();
  stop = true;
  for (auto& t : senders) t.join();
  ASSERT_EQ(errors.load(), 0) << live.Log();
  live.Stop();

  // Restore into a fresh data dir, as deploy/README.md says.
  const std::string restored = dir.Sub("restored");
  std::filesystem::copy(dir.Sub("checkpoints/during-ingest"), restored,
                        std::filesystem::copy_options::recursive);
  MetricsProcess back(dir, restored, "restored");
  ASSERT_FALSE(HasFailure());

  std::map<int, int> must_have;  // sender -> events acknowledged before
  for (const auto& [p, i] : before) {
    must_have[p] = std::max(must_have[p], i + 1);
  }
  int total_before = 0;
  int total_restored = 0;
  for (int p = 0; p < kSenders; ++p) {
    const std::string job = absl::StrCat("job-restore-", p);
    std::vector<metrics::v1::Event> log = ListAll(back.stub(), job);
    // A prefix of what the pod sent, in order, gapless, bodies intact.
    ASSERT_GE(static_cast<int>(log.size()), std::max(must_have[p], 1)) << job;
    ASSERT_LE(log.size(), pods[p].size()) << job;
    for (size_t i = 0; i < log.size(); ++i) {
      EXPECT_EQ(log[i].job_seq(), i + 1) << job;
      EXPECT_EQ(log[i].event_id(), pods[p][i].id) << job;
      EXPECT_EQ(log[i].raw_json(), pods[p][i].body) << job;
      EXPECT_EQ(log[i].metrics().step(), static_cast<int64_t>(i + 1) * 10)
          << job;
    }
    // Derived state came back with the log: progress is at the last event.
    grpc::ClientContext ctx;
    metrics::v1::GetProgressRequest req;
    req.set_job_id(job);
    metrics::v1::GetProgressResponse progress;
    ASSERT_TRUE(back.stub().GetProgress(&ctx, req, &progress).ok());
    EXPECT_EQ(progress.progress().step(), static_cast<int64_t>(log.size()) * 10)
        << job;
    total_before += must_have[p];
    total_restored += static_cast<int>(log.size());

    // A replay of an event the backup holds is still a duplicate; the next
    // event of the pod is stored.
    http::HttpClient client = back.Admin();
    webhook::Secret secret = webhook::DeriveJobSecretKey(master_key, job);
    RealClock wall;
    for (size_t i : {log.size() - 1, log.size()}) {
      int64_t ts = absl::ToUnixSeconds(wall.Now());
      auto r = client.Send(
          http::Method::kPost, "/v1/webhooks/runpod/" + job,
          {{"webhook-id", pods[p][i].id},
           {"webhook-timestamp", absl::StrCat(ts)},
           {"webhook-signature",
            webhook::Sign(secret, pods[p][i].id, ts, pods[p][i].body)}},
          pods[p][i].body, "application/json");
      ASSERT_OK(r.status());
      EXPECT_EQ(r->status, 200) << r->body;
      EXPECT_EQ(r->body.find("\"duplicate\":true") != std::string::npos,
                i < log.size())
          << r->body;
    }
  }
  back.Stop();
  std::printf(
      "acknowledged before the backup: %d; in the restored backup: %d; "
      "acknowledged in all: %d\n",
      total_before, total_restored, acked_count());
}

}  // namespace
}  // namespace trainyard
