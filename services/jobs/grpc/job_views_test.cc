// Copyright 2026 Trainyard authors.
//
// JobService part 2 over real gRPC in process (TestServer: loopback, temp
// RocksDB, fake suite clock), fakes behind the engine; the dashboard reads
// real metrics-ingest and cost processes.
#include <fstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/testing/metrics_shards.h"
#include "common/testing/service_process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/grpc/job_views_fixture.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using trainyard::testing::ServiceProcess;
using trainyard::testing::StatusIs;
using trainyard::testing::TestServer;
using namespace trainyard::jobs::testing;

TEST_F(JobViewsTest, R_LIST_01_ListJobsCarriesEveryColumnNewestFirst) {
  Start();
  Create("first");
  server_.clock().Advance(absl::Seconds(1));
  Create("second");
  v1::ListJobsResponse r = List("");
  EXPECT_THAT(Names(r), ElementsAre("second", "first"));
  EXPECT_EQ(r.total_size(), 2);
  const v1::Job& j = r.jobs(0);
  EXPECT_EQ(j.state(), common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(j.created_by().user_id(), "engineer");
  EXPECT_EQ(j.spec().config().gpu_type(), common::v1::GPU_TYPE_A100_80GB);
  EXPECT_TRUE(j.has_create_time());
}

TEST_F(JobViewsTest, R_LIST_02_FiltersAndKeywordSeeTheCallersOwnWriteAtOnce) {
  Start();
  v1::Job a = Create("alpha");
  server_.clock().Advance(absl::Seconds(1));
  Create("beta", auth::Role::kManager);
  server_.clock().Advance(absl::Seconds(1));
  v1::Job c = Create("gamma");
  SetCostAndState(a.job_id(), 20, common::v1::JOB_STATE_TRAINING);
  SetCostAndState(c.job_id(), 120, common::v1::JOB_STATE_TRAINING);
  EXPECT_THAT(Names(List("(state = TRAINING OR state = QUEUED) AND "
                         "created_by = \"engineer\" AND cost > 100",
                         "cost desc")),
              ElementsAre("gamma"));
  EXPECT_THAT(Names(List("created_by = \"manager\"")), ElementsAre("beta"));

  // Read-your-writes: the rename is in the next list.
  v1::UpdateJobRequest up;
  up.mutable_job()->set_job_id(c.job_id());
  up.mutable_job()->set_etag(engine_->store().Get(c.job_id())->job().etag());
  up.mutable_job()->mutable_spec()->set_display_name("Größe-Ölmodell");
  up.mutable_update_mask()->add_paths("spec.display_name");
  v1::UpdateJobResponse upr;
  ASSERT_OK(
      Call(auth::Role::kEngineer, &v1::JobService::Stub::UpdateJob, up, &upr));
  EXPECT_THAT(Names(List("", "", "gRÖẞE-öL")), ElementsAre("Größe-Ölmodell"));
}

TEST_F(JobViewsTest, R_LIST_02_ListCreatorsForTheFilter) {
  Start();
  Create("a");
  Create("b");
  Create("c", auth::Role::kManager);
  v1::ListCreatorsRequest req;
  req.set_order_by("job_count desc");
  v1::ListCreatorsResponse resp;
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListCreators, req,
                 &resp));
  ASSERT_EQ(resp.creators_size(), 2);
  EXPECT_EQ(resp.creators(0).user().user_id(), "engineer");
  EXPECT_EQ(resp.creators(0).job_count(), 2);
  EXPECT_EQ(resp.total_size(), 2);
  req.set_filter("display_name:\"MANA\"");
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListCreators, req,
                 &resp));
  ASSERT_EQ(resp.creators_size(), 1);
  EXPECT_EQ(resp.creators(0).user().user_id(), "manager");
  req.set_page_size(-1);
  absl::Status s = Call(auth::Role::kViewer,
                        &v1::JobService::Stub::ListCreators, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "page_size");
}

TEST_F(JobViewsTest, R_LIST_04_PagesWithTokensBoundToFilterAndOrder) {
  Start();
  for (int i = 0; i < 5; ++i) {
    Create(absl::StrCat("job", i));
    server_.clock().Advance(absl::Seconds(1));
  }
  v1::ListJobsRequest req;
  req.set_page_size(2);
  req.set_order_by("display_name asc");
  std::vector<std::string> seen;
  v1::ListJobsResponse resp;
  do {
    ASSERT_OK(
        Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp));
    EXPECT_EQ(resp.total_size(), 5);
    for (const auto& j : resp.jobs()) seen.push_back(j.spec().display_name());
    req.set_page_token(resp.next_page_token());
  } while (!resp.next_page_token().empty());
  EXPECT_THAT(seen, ElementsAre("job0", "job1", "job2", "job3", "job4"));

  // A token of another order is refused, naming the field.
  req.set_page_size(2);
  req.clear_page_token();
  ASSERT_OK(
      Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp));
  req.set_page_token(resp.next_page_token());
  req.set_order_by("display_name desc");
  absl::Status s =
      Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "page_token");
}

TEST_F(JobViewsTest, R_LIST_04_BadInputNamesTheField) {
  Start();
  v1::ListJobsResponse resp;
  v1::ListJobsRequest req;
  req.set_page_size(-1);
  absl::Status s =
      Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "page_size");
  req.set_page_size(0);
  req.set_order_by("colour");
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp);
  EXPECT_EQ(FieldViolations(s)[0].field, "order_by");
  req.clear_order_by();
  req.set_filter("state = TRAINING OR state = QUEUED");
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("OR at position 17")));
  EXPECT_EQ(FieldViolations(s)[0].field, "filter");
}

TEST_F(JobViewsTest, R_LIST_05_BatchCancelReportsEachJobAndAuditsIt) {
  Start();
  v1::Job mine = Create("mine");
  v1::Job theirs = Create("theirs", auth::Role::kManager);
  v1::BatchCancelJobsRequest req;
  req.add_job_ids(mine.job_id());
  req.add_job_ids(theirs.job_id());
  req.add_job_ids("job-unknown");
  req.set_reason(v1::CANCEL_REASON_TESTING);
  v1::BatchCancelJobsResponse resp;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::BatchCancelJobs,
                 req, &resp));
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.results(0).code(), 0);
  EXPECT_EQ(resp.results(1).code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(resp.results(1).reason(), "NOT_JOB_OWNER");
  EXPECT_EQ(resp.results(2).code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_EQ(resp.jobs_size(), 1);
  EXPECT_EQ(resp.jobs(0).state(), common::v1::JOB_STATE_CANCELLED);
  v1::ListAuditEntriesRequest audit;
  audit.set_job_id(mine.job_id());
  v1::ListAuditEntriesResponse entries;
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
                 audit, &entries));
  bool cancel_audited = false;
  for (const auto& e : entries.entries()) {
    cancel_audited |= e.cancel_reason() == v1::CANCEL_REASON_TESTING;
  }
  EXPECT_TRUE(cancel_audited);
  EXPECT_THAT(Names(List("state = CANCELLED")), ElementsAre("mine"));
}

TEST_F(JobViewsTest, R_LIST_05_BatchRejectsOversizedAndRepeatedIdsByField) {
  Start();
  v1::BatchDeleteJobsRequest req;
  for (int i = 0; i < 101; ++i) req.add_job_ids(absl::StrCat("job-", i));
  v1::BatchDeleteJobsResponse resp;
  absl::Status s = Call(auth::Role::kEngineer,
                        &v1::JobService::Stub::BatchDeleteJobs, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("at most 100")));
  EXPECT_EQ(FieldViolations(s)[0].field, "job_ids");
  req.clear_job_ids();
  req.add_job_ids("job-a");
  req.add_job_ids("job-a");
  s = Call(auth::Role::kEngineer, &v1::JobService::Stub::BatchDeleteJobs, req,
           &resp);
  EXPECT_EQ(FieldViolations(s)[0].field, "job_ids[1]");
  v1::BatchCancelJobsRequest cancel;
  cancel.add_job_ids("job-a");
  v1::BatchCancelJobsResponse cancelled;
  s = Call(auth::Role::kEngineer, &v1::JobService::Stub::BatchCancelJobs,
           cancel, &cancelled);
  EXPECT_EQ(FieldViolations(s)[0].field, "reason");
}

// The API's id rule (common/status/ids.h) on the job ids of batches,
// compare, the dashboard and the loss-curve image: the violation names the
// field, with its index.
TEST_F(JobViewsTest, JobIdsFollowTheOneIdRule) {
  Start();
  v1::Job a = Create("a");
  const std::string kBad[] = {"", "../x", "Job-1", std::string(65, 'a')};
  for (const std::string& id : kBad) {
    SCOPED_TRACE(id);
    v1::BatchDeleteJobsRequest del;
    del.add_job_ids(a.job_id());
    del.add_job_ids(id);
    v1::BatchDeleteJobsResponse deleted;
    absl::Status s =
        Call(auth::Role::kEngineer, &v1::JobService::Stub::BatchDeleteJobs, del,
             &deleted);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job_ids[1]");
    v1::CompareJobsRequest compare;
    compare.add_job_ids(a.job_id());
    compare.add_job_ids(id);
    v1::CompareJobsResponse compared;
    s = Call(auth::Role::kViewer, &v1::JobService::Stub::CompareJobs, compare,
             &compared);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job_ids[1]");
    v1::GetJobDashboardRequest dashboard;
    dashboard.set_job_id(id);
    v1::GetJobDashboardResponse board;
    s = Call(auth::Role::kViewer, &v1::JobService::Stub::GetJobDashboard,
             dashboard, &board);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job_id");
  }
}

TEST_F(JobViewsTest, R_LIST_05_BatchDeleteRemovesOnlyTerminalJobs) {
  Start();
  v1::Job done = Create("done");
  v1::Job running = Create("running");
  SetCostAndState(done.job_id(), 1, common::v1::JOB_STATE_COMPLETED);
  v1::BatchDeleteJobsRequest req;
  req.add_job_ids(done.job_id());
  req.add_job_ids(running.job_id());
  v1::BatchDeleteJobsResponse resp;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::BatchDeleteJobs,
                 req, &resp));
  EXPECT_EQ(resp.results(0).code(), 0);
  EXPECT_EQ(resp.results(1).code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(Names(List("")), ElementsAre("running"));
}

TEST_F(JobViewsTest, R_LIST_05_CompareTakesTwoToFourJobsAndMarksDifferences) {
  Start();
  v1::Job a = Create("a");
  v1::Job b =
      Create("b", auth::Role::kEngineer, common::v1::GPU_TYPE_H100_80GB);
  v1::CompareJobsRequest req;
  req.add_job_ids(a.job_id());
  v1::CompareJobsResponse resp;
  absl::Status s =
      Call(auth::Role::kViewer, &v1::JobService::Stub::CompareJobs, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "job_ids");
  for (int i = 0; i < 4; ++i) req.add_job_ids(absl::StrCat("x", i));
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::CompareJobs, req, &resp);
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 5")));
  req.clear_job_ids();
  req.add_job_ids(a.job_id());
  req.add_job_ids(b.job_id());
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::CompareJobs, req,
                 &resp));
  ASSERT_EQ(resp.jobs_size(), 2);
  EXPECT_EQ(resp.jobs(1).job().job_id(), b.job_id());
  EXPECT_THAT(resp.differing_fields(), ElementsAre("config.gpu_type"));
}

TEST_F(JobViewsTest, R_LIST_06_ExportStreamsNeutralisedCsvOfTheView) {
  Start();
  Create("=HYPERLINK(\"x\")");
  Create("plain, with comma");
  Create("other", auth::Role::kManager);
  v1::ExportJobsRequest req;
  req.set_filter("created_by = \"engineer\"");
  req.set_order_by("display_name");
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kViewer);
  auto reader = stub_->ExportJobs(&ctx, req);
  v1::ExportJobsResponse msg;
  std::string csv, filename;
  int32_t count = -1;
  while (reader->Read(&msg)) {
    if (!msg.filename().empty()) filename = msg.filename();
    csv += msg.chunk();
    if (msg.job_count() > 0) count = msg.job_count();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_THAT(filename,
              ::testing::MatchesRegex("training-jobs-[0-9]{8}-[0-9]{6}\\.csv"));
  EXPECT_EQ(count, 2);
  std::vector<std::string> lines = absl::StrSplit(csv, "\r\n");
  ASSERT_EQ(lines.size(), 4u);  // header, 2 rows, ""
  EXPECT_THAT(lines[0], ::testing::StartsWith("job_id,display_name,state,"));
  EXPECT_THAT(lines[1], HasSubstr(",\"'=HYPERLINK(\"\"x\"\")\",QUEUED,"));
  EXPECT_THAT(lines[2], HasSubstr(",\"plain, with comma\",QUEUED,"));
}

// ---- the dashboard, over real metrics-ingest and cost processes -----------

// The built trainyard-metrics and trainyard-cost on ephemeral ports and temp
// dirs, started once for these tests (each test's jobs have fresh random ids)
// and fed through their gRPC APIs.
class DashboardTest : public JobViewsTest {
 protected:
  struct Peers {
    trainyard::testing::TempDir dir;
    const trainyard::testing::SharedFiles files{dir};
    ServiceProcess metrics{
        "metrics",
        dir.Sub("metrics-data"),
        dir.path(),
        {"--tokens_file=" + files.tokens_file, "--stall_check_interval=0s"}};
    ServiceProcess cost{
        "cost",
        dir.Sub("cost-data"),
        dir.path(),
        {"--tokens_file=" + files.tokens_file, "--budget_check_interval=0s"}};
  };

  static void SetUpTestSuite() {
    peers_ = std::make_unique<Peers>();
    started_ = peers_->metrics.Start();
    if (started_.ok()) started_ = peers_->cost.Start();
  }
  static void TearDownTestSuite() { peers_.reset(); }

  void SetUp() override {
    ASSERT_OK(started_) << peers_->metrics.Log() << peers_->cost.Log();
    auto channel = [](const ServiceProcess& p) {
      return grpc::CreateChannel(p.GrpcAddress(),
                                 grpc::InsecureChannelCredentials());
    };
    metrics_stub_ =
        metrics::v1::MetricsService::NewStub(channel(peers_->metrics));
    cost_stub_ = cost::v1::CostService::NewStub(channel(peers_->cost));
  }

  static std::string MetricsAddress() { return peers_->metrics.GrpcAddress(); }
  static std::string CostAddress() { return peers_->cost.GrpcAddress(); }

  void RegisterCost(const v1::Job& job) {
    cost::v1::RegisterJobRequest r;
    r.set_job_id(job.job_id());
    r.set_display_name(job.spec().display_name());
    *r.mutable_created_by() = job.created_by();
    *r.mutable_config() = job.spec().config();
    cost::v1::RegisterJobResponse resp;
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kService);
    ASSERT_OK(FromGrpcStatus(cost_stub_->RegisterJob(&ctx, r, &resp)));
  }

  // The container's METRICS report `seq` of attempt 1, `seq` seconds after a
  // fixed past instant, stored by metrics.
  void Report(const std::string& job, int seq, int step, double loss) {
    metrics::v1::IngestEventsRequest req;
    *req.add_events() = trainyard::testing::MetricsReport(job, seq, step, loss);
    metrics::v1::IngestEventsResponse resp;
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kService);
    ASSERT_OK(FromGrpcStatus(metrics_stub_->IngestEvents(&ctx, req, &resp)));
    ASSERT_EQ(resp.results(0).outcome(), metrics::v1::INGEST_OUTCOME_ACCEPTED)
        << resp.results(0).reason();
  }

  v1::GetJobDashboardResponse Dashboard(const std::string& job,
                                        const std::string& etag = "") {
    v1::GetJobDashboardRequest req;
    req.set_job_id(job);
    req.set_if_none_match(etag);
    v1::GetJobDashboardResponse resp;
    EXPECT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::GetJobDashboard,
                   req, &resp));
    return resp;
  }

  static inline std::unique_ptr<Peers> peers_;
  static inline absl::Status started_;
  std::unique_ptr<metrics::v1::MetricsService::Stub> metrics_stub_;
  std::unique_ptr<cost::v1::CostService::Stub> cost_stub_;
};

TEST_F(DashboardTest, R_DASH_07_OneCallWithCurveAndCostThenNotModified) {
  Start(MetricsAddress(), CostAddress());
  v1::Job job = Create("dash");
  RegisterCost(job);
  Report(job.job_id(), 1, 10, 0.9);
  Report(job.job_id(), 2, 20, 0.7);
  v1::GetJobDashboardResponse d = Dashboard(job.job_id());
  EXPECT_TRUE(d.unavailable_parts().empty());
  EXPECT_EQ(d.job().job_id(), job.job_id());
  EXPECT_EQ(d.progress().step(), 20);
  ASSERT_GE(d.loss_curve().series_size(), 1);
  EXPECT_EQ(d.loss_curve().series(0).name(), "train_loss");
  EXPECT_EQ(d.loss_curve().series(0).points_size(), 2);
  EXPECT_EQ(d.cost().job_id(), job.job_id());
  EXPECT_TRUE(d.cost().estimate().has_low());
  EXPECT_TRUE(d.live());
  EXPECT_EQ(d.poll_interval().seconds(), 60);
  EXPECT_FALSE(d.etag().empty());
  // Recent events, newest first (the two reports).
  ASSERT_EQ(d.recent_events_size(), 2);
  EXPECT_EQ(d.recent_events(0).event_id(), "evt_1_2");
  EXPECT_EQ(d.recent_events(1).event_id(), "evt_1_1");

  v1::GetJobDashboardResponse again = Dashboard(job.job_id(), d.etag());
  EXPECT_TRUE(again.not_modified());
  EXPECT_EQ(again.etag(), d.etag());
  EXPECT_FALSE(again.has_loss_curve());
  EXPECT_FALSE(again.has_job());

  Report(job.job_id(), 3, 30, 0.6);
  v1::GetJobDashboardResponse changed = Dashboard(job.job_id(), d.etag());
  EXPECT_FALSE(changed.not_modified());
  EXPECT_EQ(changed.loss_curve().series(0).points_size(), 3);
}

TEST_F(DashboardTest, R_DASH_08_LossCurvePngFromMetricsCurve) {
  Start(MetricsAddress(), CostAddress());
  v1::Job job = Create("Llama 3: support bot");
  for (int i = 1; i <= 20; ++i) {
    Report(job.job_id(), i, i * 10, 2.0 - i * 0.05);
  }
  v1::ExportLossCurveImageRequest req;
  req.set_job_id(job.job_id());
  v1::ExportLossCurveImageResponse resp;
  ASSERT_OK(Call(auth::Role::kViewer,
                 &v1::JobService::Stub::ExportLossCurveImage, req, &resp));
  EXPECT_EQ(resp.content_type(), "image/png");
  EXPECT_EQ(resp.width(), 2000);
  EXPECT_EQ(resp.height(), 1200);
  EXPECT_THAT(resp.filename(),
              ::testing::MatchesRegex(
                  "llama-3-support-bot-loss-curve-[0-9]{8}-[0-9]{6}\\.png"));
  ASSERT_GT(resp.png().size(), 24u);
  EXPECT_EQ(resp.png().substr(1, 3), "PNG");
  // IHDR width and height (big-endian).
  auto be32 = [&](int at) {
    const std::string& p = resp.png();
    return (uint8_t(p[at]) << 24) | (uint8_t(p[at + 1]) << 16) |
           (uint8_t(p[at + 2]) << 8) | uint8_t(p[at + 3]);
  };
  EXPECT_EQ(be32(16), 2000u);
  EXPECT_EQ(be32(20), 1200u);
  if (const char* out = std::getenv("TRAINYARD_KEEP_PNG")) {
    std::ofstream(out, std::ios::binary) << resp.png();
  }

  req.set_width(100);
  absl::Status s =
      Call(auth::Role::kViewer, &v1::JobService::Stub::ExportLossCurveImage,
           req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "width");
  req.set_width(0);
  req.set_start_step(50);
  req.set_end_step(10);
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::ExportLossCurveImage,
           req, &resp);
  EXPECT_EQ(FieldViolations(s)[0].field, "start_step");
}

TEST_F(JobViewsTest, R_DASH_08_LossCurvePngNeedsMetrics) {
  Start();  // metrics unreachable
  v1::Job job = Create("alone");
  v1::ExportLossCurveImageRequest req;
  req.set_job_id(job.job_id());
  v1::ExportLossCurveImageResponse resp;
  absl::Status s =
      Call(auth::Role::kViewer, &v1::JobService::Stub::ExportLossCurveImage,
           req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorReason(s), "METRICS_UNAVAILABLE");
}

TEST_F(DashboardTest, R_DASH_09_FinishedJobIsNotLive) {
  Start(MetricsAddress(), CostAddress());
  v1::Job job = Create("finished");
  SetCostAndState(job.job_id(), 3, common::v1::JOB_STATE_COMPLETED);
  v1::GetJobDashboardResponse d = Dashboard(job.job_id());
  EXPECT_FALSE(d.live());
  EXPECT_FALSE(d.has_poll_interval());
  EXPECT_EQ(d.job().state(), common::v1::JOB_STATE_COMPLETED);
}

// A metrics stand-in whose GetJobOverview never answers until its server
// stops: lets the test stop metrics in the middle of a dashboard call.
class HangingMetrics final
    : public metrics::v1::MetricsService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetJobOverview(
      grpc::CallbackServerContext*, const metrics::v1::GetJobOverviewRequest*,
      metrics::v1::GetJobOverviewResponse*) override {
    entered.Notify();
    return new Hang();
  }
  absl::Notification entered;

 private:
  struct Hang : grpc::ServerUnaryReactor {
    void OnCancel() override { Finish(grpc::Status::CANCELLED); }
    void OnDone() override { delete this; }
  };
};

TEST_F(DashboardTest, R_DASH_07_MetricsStoppedMidCallGivesPartialAnswer) {
  HangingMetrics hanging;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&hanging);
  std::unique_ptr<grpc::Server> metrics = builder.BuildAndStart();
  Start(absl::StrCat("127.0.0.1:", port), CostAddress());
  v1::Job job = Create("partial");
  RegisterCost(job);
  SetCostAndState(job.job_id(), 4.5, common::v1::JOB_STATE_TRAINING);

  v1::GetJobDashboardResponse d;
  std::thread call([&] { d = Dashboard(job.job_id()); });
  hanging.entered.WaitForNotification();
  metrics->Shutdown(std::chrono::system_clock::now());  // mid-call
  call.join();
  EXPECT_THAT(d.unavailable_parts(), ElementsAre(v1::DASHBOARD_PART_METRICS));
  EXPECT_EQ(d.job().job_id(), job.job_id());
  EXPECT_EQ(d.cost().job_id(), job.job_id());  // from cost itself
  EXPECT_FALSE(d.has_loss_curve());
  EXPECT_EQ(d.progress().job_state(), common::v1::JOB_STATE_TRAINING);
}

TEST_F(JobViewsTest, R_DASH_07_BothServicesDownStillAnswersFromTheJobsCopies) {
  Start();
  v1::Job job = Create("alone");
  SetCostAndState(job.job_id(), 22.18, common::v1::JOB_STATE_TRAINING);
  v1::GetJobDashboardRequest req;
  req.set_job_id(job.job_id());
  v1::GetJobDashboardResponse d;
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::GetJobDashboard,
                 req, &d));
  EXPECT_THAT(d.unavailable_parts(),
              ElementsAre(v1::DASHBOARD_PART_METRICS, v1::DASHBOARD_PART_COST));
  EXPECT_EQ(d.cost().spend().micros(), 22180000);
  req.set_curve_max_points(-1);
  absl::Status s = Call(auth::Role::kViewer,
                        &v1::JobService::Stub::GetJobDashboard, req, &d);
  EXPECT_EQ(FieldViolations(s)[0].field, "curve_max_points");
  req.set_curve_max_points(0);
  req.set_recent_events(-1);
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::GetJobDashboard, req,
           &d);
  EXPECT_EQ(FieldViolations(s)[0].field, "recent_events");
  req.set_recent_events(0);
  req.set_job_id("job-nope");
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::GetJobDashboard, req,
           &d);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace trainyard::jobs
