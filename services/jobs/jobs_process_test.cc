// Copyright 2026 Trainyard authors.
//
// job-control against the real metrics-ingest and gpusim processes: jobs run
// on simulated pods that post signed webhooks to metrics, and job-control
// follows them through WatchEvents to their end. job-control itself runs in
// process over real gRPC (TestServer) so the test drives its suite clock;
// scheduler and cost are fakes (their services are being built): the fake
// scheduler assigns a slot on every Enqueue.
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/http/client.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "common/testing/service_process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/jobs_module.h"
#include "services/jobs/provider/runpod_client.h"
#include "services/jobs/testing/gpusim_process.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::jobs {
namespace {

using trainyard::testing::ServiceProcess;
using trainyard::testing::TestServer;
using namespace trainyard::jobs::testing;

// Assigns a slot at once on every Enqueue.
class AssigningScheduler : public FakeScheduler {
 public:
  absl::Status Enqueue(const scheduler::v1::EnqueueRequest& r) override {
    RETURN_IF_ERROR(FakeScheduler::Enqueue(r));
    AssignmentInput a;
    a.assignment.set_job_id(r.job_id());
    a.assignment.set_attempt(r.attempt());
    return engine->Apply(r.job_id(), a).status();
  }
  Engine* engine = nullptr;
};

class JobsProcessTest : public ::testing::Test {
 protected:
  JobsProcessTest() : server_(JobsColumnFamilies()) {}

  void SetUp() override {
    // One suite clock for metrics and gpusim: same origin and scale.
    const int64_t origin = absl::ToUnixSeconds(wall_.Now());
    const std::string scale = "--time_scale=1000";
    const std::string origin_flag = absl::StrCat("--time_origin=", origin);
    auto sim =
        GpusimProcess::Start({scale, origin_flag, "--provision_delay=5s",
                              "--start_delay=5s", "--flush_timeout=30s"});
    ASSERT_OK(sim.status());
    sim_ = std::make_unique<GpusimProcess>(*std::move(sim));
    ASSERT_NO_FATAL_FAILURE(StartMetrics({scale, origin_flag}));
    // job-control's suite clock starts at the shared origin; the test moves
    // it (timers and pod polls).
    server_.clock().Set(absl::FromUnixSeconds(origin));
    JobsConfig config;
    config.webhook_master_key_file = files_.master_key_file;
    config.provider_base_url = sim_->base_url();
    config.webhook_base_url = metrics_->AdminUrl();
    config.metrics_address = metrics_->GrpcAddress();
    config.scheduler_address = "127.0.0.1:1";  // not deployed
    config.cost_address = "127.0.0.1:1";
    config.pod_poll_interval = absl::Seconds(10);
    JobsOverrides o;
    o.scheduler = &scheduler_;
    o.cost = &cost_;
    o.on_engine = [this](Engine& e) { scheduler_.engine = &e; };
    server::ServiceContext ctx = server_.Context();
    auto module = BuildJobs(ctx, config, o);
    ASSERT_OK(module.status());
    module_ = *std::move(module);
    ASSERT_OK(module_->Warmup());
    ASSERT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = v1::JobService::NewStub(server_.Channel());
  }

  void TearDown() override { server_.Shutdown(); }

  // The real metrics-ingest, open to every caller (no --tokens_file).
  void StartMetrics(std::vector<std::string> flags) {
    flags.push_back("--webhook_master_key_file=" + files_.master_key_file);
    metrics_ = std::make_unique<ServiceProcess>(
        "metrics", server_.dir().Sub("metrics-data"), server_.dir().path(),
        std::move(flags));
    ASSERT_OK(metrics_->Start());
  }

  v1::Job Submit(int64_t conversations, int epochs) {
    v1::CreateJobRequest req;
    auto* s = req.mutable_spec();
    s->set_display_name("e2e");
    auto* c = s->mutable_config();
    c->set_base_model("meta-llama/Meta-Llama-3-8B");
    c->mutable_dataset()->set_uri("s3://data/x.jsonl");
    c->mutable_dataset()->set_conversations(conversations);
    c->mutable_hyperparameters()->set_epochs(epochs);
    c->set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
    c->set_pricing(common::v1::PRICING_ON_DEMAND);
    v1::CreateJobResponse resp;
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kEngineer);
    EXPECT_TRUE(stub_->CreateJob(&ctx, req, &resp).ok());
    return resp.job();
  }

  v1::Job Get(const std::string& id) {
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::GetJobResponse resp;
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kViewer);
    EXPECT_TRUE(stub_->GetJob(&ctx, req, &resp).ok());
    return resp.job();
  }

  // Moves job-control's suite clock along with the others (10 s of suite
  // time per 10 ms) until `done` or a wall-clock bound.
  template <typename Pred>
  v1::Job WaitFor(const std::string& id, Pred done) {
    v1::Job job;
    for (int i = 0; i < 3000; ++i) {
      job = Get(id);
      if (done(job)) break;
      server_.clock().Advance(absl::Seconds(10));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return job;
  }

  std::vector<metrics::v1::Event> ControlPlaneEvents(const std::string& id) {
    auto channel = grpc::CreateChannel(metrics_->GrpcAddress(),
                                       grpc::InsecureChannelCredentials());
    auto stub = metrics::v1::MetricsService::NewStub(channel);
    metrics::v1::ListEventsRequest req;
    req.set_job_id(id);
    req.set_page_size(100);
    metrics::v1::ListEventsResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub->ListEvents(&ctx, req, &resp).ok());
    std::vector<metrics::v1::Event> out;
    for (const auto& m : resp.events()) {
      if (m.event().source() == common::v1::EVENT_SOURCE_CONTROL_PLANE &&
          m.event().event_id().rfind("jc_", 0) == 0) {
        out.push_back(m.event());
      }
    }
    return out;
  }

  RealClock wall_;
  TestServer server_;
  const trainyard::testing::SharedFiles files_{server_.dir()};
  std::unique_ptr<GpusimProcess> sim_;
  std::unique_ptr<ServiceProcess> metrics_;
  AssigningScheduler scheduler_;
  FakeCost cost_;
  std::unique_ptr<server::ServiceModule> module_;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

TEST_F(JobsProcessTest, AJobRunsOnGpusimToCompleted) {
  v1::Job job = Submit(400, 1);  // 20 steps
  job = WaitFor(job.job_id(), [](const v1::Job& j) {
    return j.state() == common::v1::JOB_STATE_COMPLETED ||
           j.state() == common::v1::JOB_STATE_FAILED;
  });
  ASSERT_EQ(job.state(), common::v1::JOB_STATE_COMPLETED)
      << job.DebugString() << metrics_->Log();
  // One pod for the one attempt, deleted at the end.
  RunPodClient client({.base_url = sim_->base_url()});
  auto pod = client.FindPodByName(PodName(job.job_id(), 1));
  ASSERT_OK(pod.status());
  EXPECT_FALSE(pod->has_value());
  // The event log tells the story once: no lifecycle event twice. The
  // outbox delivers the last lifecycle event after the state is stored, so
  // wait for it to arrive (a bounded poll, not a time).
  std::vector<metrics::v1::Event> events;
  for (int i = 0; i < 1000; ++i) {
    events = ControlPlaneEvents(job.job_id());
    if (!events.empty() && events.back().lifecycle().job_state() ==
                               common::v1::JOB_STATE_COMPLETED) {
      break;
    }
    server_.clock().Advance(absl::Seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::set<std::string> ids;
  for (const auto& e : events) EXPECT_TRUE(ids.insert(e.event_id()).second);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().lifecycle().job_state(),
            common::v1::JOB_STATE_COMPLETED);
}

TEST_F(JobsProcessTest, R_CAN_02_CancelWhileTrainingTerminatesThePod) {
  v1::Job job = Submit(100000, 3);  // long
  job = WaitFor(job.job_id(), [](const v1::Job& j) {
    return j.state() == common::v1::JOB_STATE_TRAINING || IsTerminal(j.state());
  });
  ASSERT_EQ(job.state(), common::v1::JOB_STATE_TRAINING);
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_TESTING);
  v1::CancelJobResponse resp;
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kEngineer);
  ASSERT_TRUE(stub_->CancelJob(&ctx, cancel, &resp).ok());
  job = WaitFor(job.job_id(), [](const v1::Job& j) {
    return j.state() == common::v1::JOB_STATE_CANCELLED;
  });
  EXPECT_EQ(job.state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(job.cancellation().termination_status(),
            v1::TERMINATION_STATUS_TERMINATED);
  RunPodClient client({.base_url = sim_->base_url()});
  auto pod = client.FindPodByName(PodName(job.job_id(), 1));
  ASSERT_OK(pod.status());
  EXPECT_FALSE(pod->has_value());  // terminated
}

TEST_F(JobsProcessTest,
       R_PAUSE_02_PauseAtTheStopCheckpointThenResumeOnAnotherGpu) {
  v1::Job job = Submit(100000, 3);
  job = WaitFor(job.job_id(), [](const v1::Job& j) {
    return (j.state() == common::v1::JOB_STATE_TRAINING &&
            j.artifacts_size() > 0) ||
           IsTerminal(j.state());
  });
  ASSERT_EQ(job.state(), common::v1::JOB_STATE_TRAINING);
  {
    v1::PauseJobRequest pause;
    pause.set_job_id(job.job_id());
    v1::PauseJobResponse resp;
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kEngineer);
    ASSERT_TRUE(stub_->PauseJob(&ctx, pause, &resp).ok());
    EXPECT_EQ(resp.job().state(), common::v1::JOB_STATE_PAUSING);
  }
  job = WaitFor(job.job_id(), [](const v1::Job& j) {
    return j.state() == common::v1::JOB_STATE_PAUSED || IsTerminal(j.state());
  });
  ASSERT_EQ(job.state(), common::v1::JOB_STATE_PAUSED);
  // Paused at the checkpoint the container took on SIGTERM: the newest.
  ASSERT_GT(job.artifacts_size(), 0);
  EXPECT_EQ(job.pause().paused_at_step(), job.artifacts(0).step());
  EXPECT_GT(job.pause().paused_at_step(), 0);
  RunPodClient client({.base_url = sim_->base_url()});
  auto first = client.FindPodByName(PodName(job.job_id(), 1));
  ASSERT_OK(first.status());
  EXPECT_FALSE(first->has_value());  // the GPU is gone while paused
  {
    v1::ResumeJobRequest resume;
    resume.set_job_id(job.job_id());
    resume.set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
    v1::ResumeJobResponse resp;
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kEngineer);
    ASSERT_TRUE(stub_->ResumeJob(&ctx, resume, &resp).ok());
    EXPECT_EQ(resp.resume_from_step(), job.pause().paused_at_step());
  }
  const int64_t step = job.pause().paused_at_step();
  job = WaitFor(job.job_id(), [](const v1::Job& j) {
    return (j.attempt() == 2 && j.state() == common::v1::JOB_STATE_TRAINING) ||
           IsTerminal(j.state());
  });
  ASSERT_EQ(job.state(), common::v1::JOB_STATE_TRAINING);
  EXPECT_EQ(job.spec().config().gpu_type(), common::v1::GPU_TYPE_A100_80GB);
  // The new attempt's pod was told to resume from the checkpoint step.
  http::HttpClient http(sim_->base_url());
  auto pods = http.Send(http::Method::kGet,
                        "/v2/pods?name=" + PodName(job.job_id(), 2));
  ASSERT_OK(pods.status());
  EXPECT_THAT(pods->body, ::testing::HasSubstr(absl::StrCat(
                              "\"TRAINYARD_RESUME_STEP\":\"", step, "\"")));
  EXPECT_THAT(pods->body, ::testing::HasSubstr("\"TRAINYARD_ATTEMPT\":\"2\""));
  v1::GetPauseTimelineRequest tl;
  tl.set_job_id(job.job_id());
  v1::GetPauseTimelineResponse timeline;
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kViewer);
  ASSERT_TRUE(stub_->GetPauseTimeline(&ctx, tl, &timeline).ok());
  ASSERT_EQ(timeline.cycles_size(), 1);
  EXPECT_EQ(timeline.cycles(0).paused_at_step(), step);
  EXPECT_EQ(timeline.cycles(0).gpu_type_after(),
            common::v1::GPU_TYPE_A100_80GB);
  EXPECT_TRUE(timeline.cycles(0).has_resume_time());
}

}  // namespace
}  // namespace trainyard::jobs
