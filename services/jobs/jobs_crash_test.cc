// Copyright 2026 Trainyard authors.
//
// The crash test (orchestration.md, "Durability: transition + outbox"):
// trainyard-jobs runs as a real process beside real metrics-ingest,
// queue-scheduler, cost and gpusim processes at 100x, and is killed with
// SIGKILL at random moments and right after the moments that matter (a job
// provisioning, a pause, a cancel, a resume), then restarted on its data
// directory, at least 30 times. Six jobs go through: completion, a spot
// interruption and its recovery, cancel while provisioning, while training
// and while queued, pause and resume on another GPU. At the end:
//   - every job is in the state its story and gpusim's pods justify;
//   - no pod leaked (every pod of the suite is TERMINATED);
//   - no pod was created twice for one attempt (pod names are unique);
//   - the event log of each job holds its lifecycle events jc_1..jc_N once
//     each, and each (attempt, state) once;
//   - the cost ledger's compute time of each attempt equals its pod's run
//     time at gpusim (created → exited or terminated, whichever first).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/http/client.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/testing/suite_processes.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::jobs {
namespace {

using common::v1::JobState;
using trainyard::testing::TestServer;
using namespace trainyard::jobs::testing;

constexpr int kMinKills = 30;

bool Terminal(JobState s) {
  return s == common::v1::JOB_STATE_COMPLETED ||
         s == common::v1::JOB_STATE_FAILED ||
         s == common::v1::JOB_STATE_CANCELLED;
}

// A pod as gpusim lists it.
struct SimPod {
  std::string id;
  std::string name;
  std::string status;
  std::string exit_reason;
  absl::Time created;
  std::optional<absl::Time> ended;  // min(exitedAt, terminatedAt)
};

std::optional<absl::Time> TimeField(const google::protobuf::Struct& s,
                                    const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_string_value()) {
    return std::nullopt;
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, it->second.string_value(), &t,
                       &err)) {
    return std::nullopt;
  }
  return t;
}

std::string StringField(const google::protobuf::Struct& s,
                        const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

class JobsCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SuiteOptions o;
    o.time_scale = 100;
    // Provisioning lasts 0.9 s of wall time: long enough to cancel in it.
    o.gpusim_flags = {"--provision_delay=60s", "--start_delay=30s",
                      "--flush_timeout=60s"};
    o.jobs_flags = {"--pod_poll_interval=10s"};
    auto suite = SuiteProcesses::Start(o);
    ASSERT_OK(suite.status());
    suite_ = *std::move(suite);
    Connect();
  }

  void Connect() {
    stub_ = v1::JobService::NewStub(grpc::CreateChannel(
        suite_->jobs().GrpcAddress(), grpc::InsecureChannelCredentials()));
  }

  // SIGKILL, then restart on the same data directory.
  void Crash(const std::string& why) {
    suite_->jobs().Kill();
    ++kills_[why];
    ++total_kills_;
    ASSERT_OK(suite_->jobs().Start());
    Connect();
  }

  template <typename Req, typename Resp, typename Method>
  grpc::Status Call(Method method, const Req& req, Resp* resp,
                    auth::Role role = auth::Role::kEngineer) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    TestServer::Authorize(ctx, role);
    return (stub_.get()->*method)(&ctx, req, resp);
  }

  // 2,000 conversations: 100 steps.
  std::string Submit(const std::string& name, common::v1::Pricing pricing,
                     int conversations = 2000) {
    v1::CreateJobRequest req;
    req.set_request_id("crash-" + name);
    auto* s = req.mutable_spec();
    s->set_display_name(name);
    auto* c = s->mutable_config();
    c->set_base_model("meta-llama/Meta-Llama-3-8B");
    c->mutable_dataset()->set_uri("s3://data/" + name + ".jsonl");
    c->mutable_dataset()->set_conversations(conversations);
    c->mutable_hyperparameters()->set_epochs(1);
    c->set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
    c->set_pricing(pricing);
    v1::CreateJobResponse resp;
    // Retried across the kills; request_id makes it one job.
    for (int i = 0; i < 100; ++i) {
      if (Call(&v1::JobService::Stub::CreateJob, req, &resp).ok()) {
        return resp.job().job_id();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "CreateJob never succeeded";
    return "";
  }

  std::optional<v1::Job> Get(const std::string& id) {
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::GetJobResponse resp;
    if (!Call(&v1::JobService::Stub::GetJob, req, &resp, auth::Role::kViewer)
             .ok()) {
      return std::nullopt;
    }
    return resp.job();
  }

  grpc::Status Cancel(const std::string& id) {
    v1::CancelJobRequest req;
    req.set_job_id(id);
    req.set_reason(v1::CANCEL_REASON_TESTING);
    v1::CancelJobResponse resp;
    return Call(&v1::JobService::Stub::CancelJob, req, &resp);
  }

  grpc::Status Pause(const std::string& id) {
    v1::PauseJobRequest req;
    req.set_job_id(id);
    v1::PauseJobResponse resp;
    return Call(&v1::JobService::Stub::PauseJob, req, &resp);
  }

  grpc::Status Resume(const std::string& id) {
    v1::ResumeJobRequest req;
    req.set_job_id(id);
    req.set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
    v1::ResumeJobResponse resp;
    return Call(&v1::JobService::Stub::ResumeJob, req, &resp);
  }

  std::vector<SimPod> Pods() {
    http::HttpClient http(suite_->gpusim_url());
    auto r = http.Send(http::Method::kGet, "/v2/pods");
    EXPECT_OK(r.status());
    std::vector<SimPod> out;
    if (!r.ok()) return out;
    google::protobuf::Value v;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &v).ok());
    for (const auto& item : v.list_value().values()) {
      const google::protobuf::Struct& s = item.struct_value();
      SimPod p;
      p.id = StringField(s, "id");
      p.name = StringField(s, "name");
      p.status = StringField(s, "status");
      p.exit_reason = StringField(s, "exitReason");
      p.created = TimeField(s, "createdAt").value_or(absl::InfinitePast());
      for (const char* key : {"exitedAt", "terminatedAt"}) {
        std::optional<absl::Time> t = TimeField(s, key);
        if (t && (!p.ended || *t < *p.ended)) p.ended = t;
      }
      out.push_back(p);
    }
    return out;
  }

  void Interrupt(const std::string& pod_id) {
    http::HttpClient http(suite_->gpusim_url());
    auto r = http.Send(http::Method::kPost,
                       absl::StrCat("/admin/pods/", pod_id, "/interrupt"));
    EXPECT_OK(r.status());
  }

  std::vector<metrics::v1::Event> LifecycleEvents(const std::string& id) {
    auto stub = metrics::v1::MetricsService::NewStub(grpc::CreateChannel(
        suite_->metrics().GrpcAddress(), grpc::InsecureChannelCredentials()));
    std::vector<metrics::v1::Event> out;
    std::string token;
    do {
      metrics::v1::ListEventsRequest req;
      req.set_job_id(id);
      req.set_page_size(100);
      req.set_page_token(token);
      metrics::v1::ListEventsResponse resp;
      grpc::ClientContext ctx;
      TestServer::Authorize(ctx, auth::Role::kAdmin);
      grpc::Status s = stub->ListEvents(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& m : resp.events()) {
        if (m.event().source() == common::v1::EVENT_SOURCE_CONTROL_PLANE &&
            m.event().event_id().rfind("jc_", 0) == 0) {
          out.push_back(m.event());
        }
      }
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }

  std::vector<cost::v1::LedgerEntry> Ledger(const std::string& id) {
    auto stub = cost::v1::CostService::NewStub(grpc::CreateChannel(
        suite_->cost().GrpcAddress(), grpc::InsecureChannelCredentials()));
    std::vector<cost::v1::LedgerEntry> out;
    std::string token;
    do {
      cost::v1::ListLedgerEntriesRequest req;
      req.set_job_id(id);
      req.set_page_size(1000);
      req.set_page_token(token);
      cost::v1::ListLedgerEntriesResponse resp;
      grpc::ClientContext ctx;
      TestServer::Authorize(ctx, auth::Role::kAdmin);
      grpc::Status s = stub->ListLedgerEntries(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      out.insert(out.end(), resp.entries().begin(), resp.entries().end());
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }

  std::unique_ptr<SuiteProcesses> suite_;
  std::unique_ptr<v1::JobService::Stub> stub_;
  std::map<std::string, int> kills_;
  int total_kills_ = 0;
};

TEST_F(JobsCrashTest, SigkillAtRandomPointsLosesAndDuplicatesNothing) {
  RealClock wall;
  std::mt19937 rng(20261205);
  auto gap = [&rng] {
    return absl::Milliseconds(
        std::uniform_int_distribution<int>(150, 700)(rng));
  };
  // The concurrency limit is 3: the first three start at once.
  const std::string provisioning =
      Submit("cancel-provisioning", common::v1::PRICING_ON_DEMAND);
  const std::string training =
      Submit("cancel-training", common::v1::PRICING_ON_DEMAND);
  // Trains 4x longer, so that the loop sees it training between the kills
  // and restarts even on a loaded machine (it once went from provisioning
  // to completed while job-control was down, and was never paused).
  const std::string paused =
      Submit("pause-resume", common::v1::PRICING_SPOT, 8000);
  const std::string completes =
      Submit("completes", common::v1::PRICING_ON_DEMAND);
  const std::string spot = Submit("spot-recovers", common::v1::PRICING_SPOT);
  const std::string queued =
      Submit("cancel-queued", common::v1::PRICING_ON_DEMAND);
  const std::vector<std::string> all = {provisioning, training, paused,
                                        completes,    spot,     queued};
  for (const auto& id : all) ASSERT_FALSE(id.empty());

  // Cancel while queued, killed right after.
  ASSERT_TRUE(Cancel(queued).ok());
  Crash("cancel");

  enum Step { kWaiting, kAsked, kDone };
  Step cancel_provisioning = kWaiting, cancel_training = kWaiting;
  Step pause = kWaiting, resume = kWaiting, interrupt = kWaiting;
  absl::Time next_kill = wall.Now() + gap();
  const absl::Time deadline = wall.Now() + absl::Minutes(4);
  std::map<std::string, v1::Job> last;
  while (wall.Now() < deadline) {
    bool all_done = true;
    for (const auto& id : all) {
      std::optional<v1::Job> j = Get(id);
      if (j) last[id] = *j;
      if (!last.count(id) || !Terminal(last[id].state())) all_done = false;
    }
    if (all_done && pause == kDone && resume == kDone) break;
    auto state = [&](const std::string& id) {
      return last.count(id) ? last[id].state()
                            : common::v1::JOB_STATE_UNSPECIFIED;
    };
    // The moments that matter, each followed by a kill at once.
    if (cancel_provisioning == kWaiting &&
        state(provisioning) == common::v1::JOB_STATE_PROVISIONING) {
      if (Cancel(provisioning).ok()) {
        cancel_provisioning = kDone;
        Crash("cancel while provisioning");
        continue;
      }
    }
    if (state(completes) == common::v1::JOB_STATE_PROVISIONING &&
        kills_["provisioning"] < 3) {
      Crash("provisioning");
      continue;
    }
    if (cancel_training == kWaiting &&
        state(training) == common::v1::JOB_STATE_TRAINING) {
      if (Cancel(training).ok()) {
        cancel_training = kDone;
        Crash("cancel while training");
        continue;
      }
    }
    if (pause == kWaiting && state(paused) == common::v1::JOB_STATE_TRAINING &&
        last[paused].attempt() == 1) {
      if (Pause(paused).ok()) {
        pause = kDone;
        Crash("pause");
        continue;
      }
    }
    if (pause == kDone && resume == kWaiting &&
        state(paused) == common::v1::JOB_STATE_PAUSED) {
      if (Resume(paused).ok()) {
        resume = kDone;
        Crash("resume");
        continue;
      }
    }
    if (interrupt == kWaiting &&
        state(spot) == common::v1::JOB_STATE_TRAINING) {
      for (const SimPod& p : Pods()) {
        if (p.name == PodName(spot, 1) && p.status == "RUNNING") {
          Interrupt(p.id);
          interrupt = kDone;
        }
      }
    }
    // Random kills until there are enough.
    if (total_kills_ < kMinKills + 6 && wall.Now() >= next_kill) {
      Crash("random");
      next_kill = wall.Now() + gap();
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string kills;
  for (const auto& [why, n] : kills_) absl::StrAppend(&kills, why, "=", n, " ");
  SCOPED_TRACE(kills);
  EXPECT_GE(total_kills_, kMinKills);
  EXPECT_GE(kills_["cancel while provisioning"], 1);
  EXPECT_GE(kills_["cancel while training"], 1);
  EXPECT_GE(kills_["pause"], 1);
  EXPECT_GE(kills_["provisioning"], 1);

  // Every job ended where its story leads.
  auto expect_state = [&](const std::string& id, JobState want) {
    ASSERT_TRUE(last.count(id));
    EXPECT_EQ(last[id].state(), want) << last[id].spec().display_name() << "\n"
                                      << last[id].DebugString();
  };
  expect_state(completes, common::v1::JOB_STATE_COMPLETED);
  expect_state(spot, common::v1::JOB_STATE_COMPLETED);
  expect_state(paused, common::v1::JOB_STATE_COMPLETED);
  expect_state(provisioning, common::v1::JOB_STATE_CANCELLED);
  expect_state(training, common::v1::JOB_STATE_CANCELLED);
  expect_state(queued, common::v1::JOB_STATE_CANCELLED);
  EXPECT_GE(last[spot].attempt(), 2);
  EXPECT_EQ(last[paused].attempt(), 2);
  EXPECT_EQ(last[paused].spec().config().gpu_type(),
            common::v1::GPU_TYPE_A100_80GB);
  EXPECT_EQ(last[queued].cancellation().termination_status(),
            v1::TERMINATION_STATUS_NOT_NEEDED);
  EXPECT_EQ(last[training].cancellation().termination_status(),
            v1::TERMINATION_STATUS_TERMINATED);

  // gpusim's pods: none leaked, none twice for one attempt, and each one's
  // end agrees with its job.
  std::vector<SimPod> pods = Pods();
  std::map<std::string, SimPod> by_name;
  for (const SimPod& p : pods) {
    EXPECT_EQ(p.status, "TERMINATED") << p.name << " leaked";
    EXPECT_TRUE(by_name.emplace(p.name, p).second)
        << p.name << " created twice";
  }
  EXPECT_EQ(by_name.count(PodName(queued, 1)), 0u);
  EXPECT_EQ(by_name[PodName(completes, 1)].exit_reason, "completed");
  EXPECT_EQ(by_name[PodName(spot, 1)].exit_reason, "interrupted");
  EXPECT_EQ(by_name[PodName(spot, last[spot].attempt())].exit_reason,
            "completed");
  EXPECT_EQ(by_name[PodName(paused, 1)].exit_reason, "stopped");
  EXPECT_EQ(by_name[PodName(paused, 2)].exit_reason, "completed");
  EXPECT_NE(by_name[PodName(training, 1)].exit_reason, "completed");

  // The event log: jc_1..jc_N once each; each (attempt, state) once.
  for (const auto& id : all) {
    SCOPED_TRACE(last[id].spec().display_name());
    std::vector<metrics::v1::Event> events = LifecycleEvents(id);
    std::set<std::string> ids;
    std::set<std::pair<int, int>> states;
    for (const auto& e : events) {
      EXPECT_TRUE(ids.insert(e.event_id()).second) << e.event_id();
      if (e.has_lifecycle()) {
        EXPECT_TRUE(
            states.emplace(e.attempt(), e.lifecycle().job_state()).second)
            << e.DebugString();
      }
    }
    for (size_t n = 1; n <= ids.size(); ++n) {
      EXPECT_TRUE(ids.count(absl::StrCat("jc_", n))) << "jc_" << n;
    }
    ASSERT_FALSE(events.empty());
  }

  // The ledger: compute time per attempt = the pod's run time. Meters close
  // through the outbox: wait (bounded) until none is provisional.
  for (const auto& id : all) {
    SCOPED_TRACE(last[id].spec().display_name());
    std::vector<cost::v1::LedgerEntry> ledger;
    for (int i = 0; i < 500; ++i) {
      ledger = Ledger(id);
      bool open = false;
      for (const auto& e : ledger) open = open || e.provisional();
      if (!open) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::map<int, absl::Duration> billed;
    for (const auto& e : ledger) {
      EXPECT_FALSE(e.provisional()) << e.DebugString();
      // GPU time: wasted steps are the tail of an interrupted compute meter.
      if (e.phase() == common::v1::COST_PHASE_ACTIVE_COMPUTE ||
          e.phase() == common::v1::COST_PHASE_RECOVERY_OVERHEAD ||
          e.phase() == common::v1::COST_PHASE_WASTED_STEPS) {
        billed[e.attempt()] += FromProto(e.duration());
      }
    }
    for (int a = 1; a <= last[id].attempt(); ++a) {
      auto pod = by_name.find(PodName(id, a));
      if (pod == by_name.end() || !pod->second.ended) {
        EXPECT_EQ(billed[a], absl::ZeroDuration()) << "attempt " << a;
        continue;
      }
      const absl::Duration ran = *pod->second.ended - pod->second.created;
      EXPECT_LE(absl::AbsDuration(billed[a] - ran), absl::Seconds(2))
          << "attempt " << a << ": billed " << billed[a] << ", pod ran " << ran;
    }
  }
  if (HasFailure()) ADD_FAILURE() << suite_->Logs().substr(0, 200000);
}

}  // namespace
}  // namespace trainyard::jobs
