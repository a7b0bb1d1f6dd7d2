// Copyright 2026 Trainyard authors.
//
// metrics-ingest as two shards (--shard=0/2, --shard=1/2) beside the real
// job-control, scheduler, cost and gpusim processes (issue 17): jobs spread
// over both shards by the hash of their id, each pod reports to its job's
// shard, job-control follows both WatchEvents streams and resumes each from
// its own cursor after a SIGKILL, and every read through job-control (the
// job's progress copy, its dashboard) comes from the right shard. No shard
// ever answers WRONG_SHARD to the suite; a direct call to the wrong shard
// does.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/http/client.h"
#include "common/shard/shard.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/testing/status_matchers.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"
#include "common/testing/test_server.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/testing/suite_processes.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard {
namespace {

using common::v1::JobState;
using ::testing::HasSubstr;
using ::testing::Not;
using trainyard::testing::TestServer;
using namespace trainyard::jobs::testing;

constexpr int kShards = 2;

class MetricsShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SuiteOptions o;
    o.time_scale = 300;
    o.metrics_shards = kShards;
    // The lifecycle, not its timers: a loaded 2-core machine must not turn
    // a slow webhook into a stall or a timeout at this time scale.
    o.metrics_flags = {"--stall_timeout=100h",
                       "--stall_min_metric_silence=100h"};
    o.jobs_flags = {"--start_timeout=100h", "--provision_timeout=100h",
                    "--stall_fail_after=100h", "--copy_refresh_interval=250ms"};
    auto suite = SuiteProcesses::Start(o);
    ASSERT_OK(suite.status());
    suite_ = *std::move(suite);
    Connect();
  }

  void Connect() {
    jobs_ = jobs::v1::JobService::NewStub(grpc::CreateChannel(
        suite_->jobs().GrpcAddress(), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<metrics::v1::MetricsService::Stub> Metrics(int shard) {
    return metrics::v1::MetricsService::NewStub(
        grpc::CreateChannel(suite_->metrics(shard).GrpcAddress(),
                            grpc::InsecureChannelCredentials()));
  }

  static void Prepare(grpc::ClientContext& ctx, auth::Role role) {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    TestServer::Authorize(ctx, role);
  }

  // 400 conversations, one epoch: 20 steps.
  std::string Submit(int n) {
    jobs::v1::CreateJobRequest req;
    req.set_request_id(absl::StrCat("shards-", n));
    auto* s = req.mutable_spec();
    s->set_display_name(absl::StrCat("shards-", n));
    auto* c = s->mutable_config();
    c->set_base_model("meta-llama/Meta-Llama-3-8B");
    c->mutable_dataset()->set_uri("s3://data/shards.jsonl");
    c->mutable_dataset()->set_conversations(400);
    c->mutable_hyperparameters()->set_epochs(1);
    c->set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
    c->set_pricing(common::v1::PRICING_ON_DEMAND);
    jobs::v1::CreateJobResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx, auth::Role::kEngineer);
    grpc::Status st = jobs_->CreateJob(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.job().job_id();
  }

  // The job, or nullopt while job-control does not answer (restarting).
  std::optional<jobs::v1::Job> Get(const std::string& id) {
    jobs::v1::GetJobRequest req;
    req.set_job_id(id);
    jobs::v1::GetJobResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx, auth::Role::kViewer);
    if (!jobs_->GetJob(&ctx, req, &resp).ok()) return std::nullopt;
    return resp.job();
  }

  // Polls (bounded) until `done` holds for the jobs' latest states.
  bool WaitFor(
      const std::vector<std::string>& ids,
      const std::function<bool(const std::map<std::string, JobState>&)>& done,
      absl::Duration timeout) {
    const absl::Time deadline = wall_.Now() + timeout;
    std::map<std::string, JobState> states;
    while (wall_.Now() < deadline) {
      for (const std::string& id : ids) {
        if (std::optional<jobs::v1::Job> j = Get(id)) states[id] = j->state();
      }
      if (done(states)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string Scrape(int shard) {
    http::HttpClient http(suite_->metrics(shard).AdminUrl());
    auto r = http.Send(http::Method::kGet, "/metrics");
    EXPECT_OK(r.status());
    return r.ok() ? r->body : "";
  }

  RealClock wall_;
  std::unique_ptr<SuiteProcesses> suite_;
  std::unique_ptr<jobs::v1::JobService::Stub> jobs_;
};

TEST_F(MetricsShardsTest, JobsSpreadOverTwoShardsAndReadBackThroughJobControl) {
  // Job ids are random: submit until each shard has two jobs.
  std::vector<std::string> ids;
  std::map<int, int> per_shard;
  for (int n = 0; n < 16 && (per_shard[0] < 2 || per_shard[1] < 2); ++n) {
    const std::string id = Submit(n);
    ASSERT_FALSE(id.empty());
    ids.push_back(id);
    ++per_shard[shard::ShardOf(id, kShards)];
  }
  ASSERT_GE(per_shard[0], 2);
  ASSERT_GE(per_shard[1], 2);

  // Once a job of each shard trains (its pod's status events came through
  // that shard's stream in earlier batches, so the stream's cursor is
  // stored), SIGKILL job-control and start it again.
  auto reporting = [](JobState s) {
    return s >= common::v1::JOB_STATE_TRAINING &&
           s <= common::v1::JOB_STATE_COMPLETED;
  };
  ASSERT_TRUE(WaitFor(
      ids,
      [&](const std::map<std::string, JobState>& states) {
        bool shard_reports[kShards] = {};
        for (const auto& [id, s] : states) {
          if (reporting(s)) shard_reports[shard::ShardOf(id, kShards)] = true;
        }
        return shard_reports[0] && shard_reports[1];
      },
      absl::Seconds(30)))
      << suite_->Logs();
  suite_->jobs().Kill();
  ASSERT_OK(suite_->jobs().Start());
  Connect();

  ASSERT_TRUE(WaitFor(
      ids,
      [&](const std::map<std::string, JobState>& states) {
        if (states.size() < ids.size()) return false;
        for (const auto& [id, s] : states) {
          if (s != common::v1::JOB_STATE_COMPLETED) return false;
        }
        return true;
      },
      absl::Seconds(45)))
      << suite_->Logs();

  // The restarted job-control resumed each shard's stream from its cursor.
  const std::string log = suite_->jobs().Log();
  const std::string second_run = log.substr(log.find("--- jobs run 2"));
  EXPECT_THAT(second_run,
              HasSubstr("events.stream_opened stream=events from=cursor"));
  EXPECT_THAT(second_run,
              HasSubstr("events.stream_opened stream=events.1 from=cursor"));
  EXPECT_THAT(second_run, Not(HasSubstr("from=oldest")));

  // Every reader routed by the hash: no shard refused anything, and both
  // served progress to the scheduler (GetProgress) and to job-control's
  // copies (BatchGetProgress).
  for (int shard = 0; shard < kShards; ++shard) {
    SCOPED_TRACE(absl::StrCat("shard ", shard));
    const std::string text = Scrape(shard);
    EXPECT_THAT(text, Not(HasSubstr("FAILED_PRECONDITION")));
    EXPECT_THAT(text, Not(HasSubstr("result=\"wrong_shard\"")));
    for (const char* method :
         {"GetProgress", "BatchGetProgress", "IngestEvents"}) {
      EXPECT_THAT(text, HasSubstr(absl::StrCat(
                            "grpc_server_handled_total{grpc_code=\"OK\","
                            "grpc_method=\"",
                            method, "\"")))
          << method;
    }
  }

  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    const int home = shard::ShardOf(id, kShards);
    // Its events (the pod's webhooks and job-control's lifecycle events)
    // are on its shard only.
    metrics::v1::ListEventsRequest list;
    list.set_job_id(id);
    list.set_page_size(100);
    metrics::v1::ListEventsResponse events;
    {
      grpc::ClientContext ctx;
      Prepare(ctx, auth::Role::kViewer);
      grpc::Status st = Metrics(home)->ListEvents(&ctx, list, &events);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    bool webhook = false, lifecycle = false;
    for (const auto& m : events.events()) {
      if (m.event().source() == common::v1::EVENT_SOURCE_CONTROL_PLANE) {
        lifecycle = true;
      } else {
        webhook = true;
      }
    }
    EXPECT_TRUE(webhook);
    EXPECT_TRUE(lifecycle);
    {
      grpc::ClientContext ctx;
      Prepare(ctx, auth::Role::kViewer);
      absl::Status other =
          FromGrpcStatus(Metrics(1 - home)->ListEvents(&ctx, list, &events));
      EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition) << other;
      EXPECT_EQ(ErrorReason(other), shard::kWrongShardReason);
      EXPECT_EQ(ErrorMetadata(other)["shard"], absl::StrCat(home));
    }

    // Read back through job-control: its dashboard and its progress copy.
    jobs::v1::GetJobDashboardRequest req;
    req.set_job_id(id);
    jobs::v1::GetJobDashboardResponse dash;
    {
      grpc::ClientContext ctx;
      Prepare(ctx, auth::Role::kViewer);
      grpc::Status st = jobs_->GetJobDashboard(&ctx, req, &dash);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    EXPECT_EQ(dash.unavailable_parts_size(), 0);
    EXPECT_EQ(dash.progress().total_steps(), 20);
    EXPECT_EQ(dash.progress().step(), 20);
    EXPECT_GT(dash.loss_curve().series_size(), 0);
    EXPECT_GT(dash.recent_events_size(), 0);
    EXPECT_EQ(dash.job().state(), common::v1::JOB_STATE_COMPLETED);
    EXPECT_GT(dash.job().progress().step(), 0);
  }
}

// A shard setting that cannot be right stops the start (exit 2) naming it.
TEST(MetricsShardsSettings, BadShardSettingsStopTheStartNamingThem) {
  trainyard::testing::TempDir dir;
  const std::string key = dir.Sub("master.key");
  std::ofstream(key)
      << "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm\n";
  const char* bin = std::getenv("TRAINYARD_BINARY_DIR");
  ASSERT_NE(bin, nullptr);
  struct Case {
    std::string service;
    std::vector<std::string> flags;
    std::string message;
  };
  const Case cases[] = {
      {"metrics", {"--shard=2/2"}, "--shard: i must be 0 to N-1 (1)"},
      {"metrics", {"--shard=1"}, "--shard: want i/N"},
      {"jobs",
       {"--webhook_master_key_file=" + key,
        "--metrics_address=127.0.0.1:1,127.0.0.1:2",
        "--webhook_base_url=http://127.0.0.1:3"},
       "webhook_base_url: 1 URL for 2 metrics shards"},
      {"scheduler",
       {"--metrics_address=127.0.0.1:1,,127.0.0.1:2"},
       "metrics_address: entry 2 is empty"},
      {"cost", {"--metrics_address=127.0.0.1:1,"}, "metrics_address: entry 2"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    std::vector<std::string> argv = {
        absl::StrCat(bin, "/services/", c.service, "/trainyard-", c.service),
        "--grpc_address=127.0.0.1:0", "--admin_address=127.0.0.1:0",
        "--data_dir=" + dir.Sub(absl::StrCat("data-", n))};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    auto p = trainyard::testing::Subprocess::Start(
        argv, dir.Sub(absl::StrCat("log-", n++)));
    ASSERT_OK(p.status());
    EXPECT_THAT(p->Wait(absl::Seconds(30)),
                trainyard::testing::IsOkAndHolds(2));
    EXPECT_THAT(p->Log(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace trainyard
