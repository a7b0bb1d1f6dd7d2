// Copyright 2026 Trainyard authors.
//
// JobService over real gRPC in process (TestServer: loopback, temp RocksDB,
// fake suite clock, a token per role), with fakes behind the engine.
#include "services/jobs/grpc/job_service.h"

#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/status/reasons.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/jobs_module.h"

namespace trainyard::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using trainyard::testing::StatusIs;
using trainyard::testing::TestServer;
using namespace trainyard::jobs::testing;

constexpr char kMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

class JobServiceTest : public ::testing::Test {
 protected:
  JobServiceTest() : server_(JobsColumnFamilies()) {}

  void SetUp() override {
    JobsConfig config;
    config.webhook_master_key_file = server_.dir().Sub("master.key");
    std::ofstream(config.webhook_master_key_file) << kMasterKey << "\n";
    JobsOverrides o{&provider_, &scheduler_, &cost_, &metrics_, true, true};
    o.on_engine = [this](Engine& e) { engine_ = &e; };
    server::ServiceContext ctx = server_.Context();
    auto module = BuildJobs(ctx, config, o);
    ASSERT_OK(module.status());
    module_ = *std::move(module);
    ASSERT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = v1::JobService::NewStub(server_.Channel());
  }

  // The host drains (and stops the module's threads) before the module goes.
  void TearDown() override { server_.Shutdown(); }

  v1::JobSpec Spec() {
    v1::JobSpec s;
    s.set_display_name("support-bot");
    auto* c = s.mutable_config();
    c->set_base_model("meta-llama/Meta-Llama-3-8B");
    c->mutable_dataset()->set_uri("s3://data/x.jsonl");
    c->mutable_dataset()->set_conversations(10000);
    c->set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
    return s;
  }

  // Calls `method` as `role`; returns the status as absl (with details).
  template <typename Req, typename Resp, typename Method>
  absl::Status Call(auth::Role role, Method method, const Req& req,
                    Resp* resp) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, role);
    return FromGrpcStatus(((*stub_).*method)(&ctx, req, resp));
  }

  v1::Job Create(auth::Role role = auth::Role::kEngineer,
                 std::string request_id = "") {
    v1::CreateJobRequest req;
    *req.mutable_spec() = Spec();
    req.set_request_id(request_id);
    v1::CreateJobResponse resp;
    EXPECT_OK(Call(role, &v1::JobService::Stub::CreateJob, req, &resp));
    return resp.job();
  }

  TestServer server_;
  FakeProvider provider_;
  FakeScheduler scheduler_;
  FakeCost cost_;
  FakeMetrics metrics_;
  std::unique_ptr<server::ServiceModule> module_;
  std::unique_ptr<v1::JobService::Stub> stub_;
  Engine* engine_ = nullptr;
};

TEST_F(JobServiceTest, CreateJobComputesTotalStepsAndQueues) {
  v1::Job job = Create();
  EXPECT_FALSE(job.job_id().empty());
  EXPECT_EQ(job.state(), common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.spec().config().total_steps(), 1500);
  EXPECT_EQ(job.created_by().user_id(), "engineer");
  EXPECT_EQ(job.attempt(), 1);
  v1::GetJobRequest get;
  get.set_job_id(job.job_id());
  v1::GetJobResponse got;
  ASSERT_OK(
      Call(auth::Role::kViewer, &v1::JobService::Stub::GetJob, get, &got));
  EXPECT_EQ(got.job().etag(), job.etag());
}

TEST_F(JobServiceTest, CreateJobIsIdempotentByRequestId) {
  v1::Job a = Create(auth::Role::kEngineer, "r-1");
  v1::Job b = Create(auth::Role::kEngineer, "r-1");
  EXPECT_EQ(a.job_id(), b.job_id());
}

TEST_F(JobServiceTest, CreateJobNamesEveryBadField) {
  v1::CreateJobRequest req;
  *req.mutable_spec() = Spec();
  req.mutable_spec()->clear_display_name();
  req.mutable_spec()->mutable_config()->mutable_hyperparameters()->set_epochs(
      0);
  req.mutable_spec()->mutable_config()->set_gpu_count(9);
  v1::CreateJobResponse resp;
  absl::Status s =
      Call(auth::Role::kEngineer, &v1::JobService::Stub::CreateJob, req, &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (auto& v : FieldViolations(s)) fields.push_back(v.field);
  EXPECT_THAT(fields, UnorderedElementsAre("spec.display_name",
                                           "spec.config.hyperparameters.epochs",
                                           "spec.config.gpu_count"));
}

TEST_F(JobServiceTest, ValidateOnlyCreatesNothing) {
  v1::CreateJobRequest req;
  *req.mutable_spec() = Spec();
  req.set_validate_only(true);
  v1::CreateJobResponse resp;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::CreateJob, req,
                 &resp));
  EXPECT_TRUE(resp.job().job_id().empty());
  EXPECT_EQ(resp.job().spec().config().total_steps(), 1500);
  EXPECT_TRUE(scheduler_.calls().empty());
}

TEST_F(JobServiceTest, ViewersReadOnlyEngineersOwnJobsManagersAny) {
  v1::CreateJobRequest create;
  *create.mutable_spec() = Spec();
  v1::CreateJobResponse created;
  EXPECT_EQ(Call(auth::Role::kViewer, &v1::JobService::Stub::CreateJob, create,
                 &created)
                .code(),
            absl::StatusCode::kPermissionDenied);
  v1::Job job = Create(auth::Role::kManager);  // created by "manager"
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_TESTING);
  v1::CancelJobResponse resp;
  absl::Status s = Call(auth::Role::kEngineer, &v1::JobService::Stub::CancelJob,
                        cancel, &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(s), "NOT_JOB_OWNER");
  EXPECT_OK(Call(auth::Role::kAdmin, &v1::JobService::Stub::CancelJob, cancel,
                 &resp));
}

TEST_F(JobServiceTest, R_CAN_01_CancelValidatesReasonsAndCancelsAQueuedJob) {
  v1::Job job = Create();
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_OTHER);
  v1::CancelJobResponse resp;
  absl::Status bad = Call(auth::Role::kEngineer,
                          &v1::JobService::Stub::CancelJob, cancel, &resp);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolations(bad)[0].field, "reason_text");
  cancel.set_reason_text("client moved the deadline");
  cancel.set_notes("see ticket 42");
  cancel.set_etag("stale");
  EXPECT_EQ(Call(auth::Role::kEngineer, &v1::JobService::Stub::CancelJob,
                 cancel, &resp)
                .code(),
            absl::StatusCode::kAborted);
  cancel.set_etag(job.etag());
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::CancelJob,
                 cancel, &resp));
  EXPECT_EQ(resp.job().state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(resp.termination_status(), v1::TERMINATION_STATUS_NOT_NEEDED);
  EXPECT_THAT(resp.toast_message(), HasSubstr("Job cancelled"));
  // A terminal job cannot be cancelled again.
  cancel.clear_etag();
  absl::Status again = Call(auth::Role::kEngineer,
                            &v1::JobService::Stub::CancelJob, cancel, &resp);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(again), "JOB_TERMINAL");
}

// R-CAN-02, R-CAN-03: wait_for_termination answers once the job is
// CANCELLED with its final cost (FinalizeJobCost's answer, here fed to the
// engine as the effect runner would).
TEST_F(JobServiceTest, R_CAN_03_CancelWaitAnswersWhenCancelledWithFinalCost) {
  v1::Job job = Create();
  // Running: CANCELLING until the pod is gone.
  AssignmentInput a;
  a.assignment.set_job_id(job.job_id());
  a.assignment.set_attempt(1);
  ASSERT_OK(engine_->Apply(job.job_id(), a).status());
  CreatePodResult created;
  created.attempt = 1;
  created.pod_id = "pod-1";
  ASSERT_OK(engine_->Apply(job.job_id(), created).status());
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_TESTING);
  cancel.set_wait_for_termination(true);
  v1::CancelJobResponse resp;
  absl::Status status;
  std::thread call([&] {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kEngineer);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(90));
    status = FromGrpcStatus(stub_->CancelJob(&ctx, cancel, &resp));
  });
  auto state = [&] {
    return engine_->store().Get(job.job_id())->job().state();
  };
  for (int i = 0; i < 5000 && state() != common::v1::JOB_STATE_CANCELLING;
       ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(state(), common::v1::JOB_STATE_CANCELLING);
  PodObservation gone;
  gone.pod_id = "pod-1";
  gone.phase = PodObservation::Phase::kTerminated;
  ASSERT_OK(engine_->Apply(job.job_id(), gone).status());
  ASSERT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  // Cancelled, but the final cost is not in yet: still waiting.
  common::v1::CostSummary final_cost;
  final_cost.set_job_id(job.job_id());
  final_cost.mutable_spend()->set_currency_code("USD");
  final_cost.mutable_spend()->set_micros(22'180'000);
  final_cost.set_final(true);
  ASSERT_OK(engine_->Apply(job.job_id(), CopyRefresh{std::nullopt, final_cost})
                .status());
  call.join();
  ASSERT_OK(status);
  EXPECT_EQ(resp.job().state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(resp.termination_status(), v1::TERMINATION_STATUS_TERMINATED);
  EXPECT_EQ(resp.final_cost().micros(), 22'180'000);
  EXPECT_EQ(resp.toast_message(), "Job cancelled. Final cost: $22.18");
}

// R-CAN-02: a termination slower than the caller's deadline answers in
// time with the job still CANCELLING.
TEST_F(JobServiceTest, R_CAN_02_CancelWaitAnswersBeforeTheCallersDeadline) {
  v1::Job job = Create();
  AssignmentInput a;
  a.assignment.set_job_id(job.job_id());
  a.assignment.set_attempt(1);
  ASSERT_OK(engine_->Apply(job.job_id(), a).status());
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_TESTING);
  cancel.set_wait_for_termination(true);
  v1::CancelJobResponse resp;
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kEngineer);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(1500));
  ASSERT_OK(FromGrpcStatus(stub_->CancelJob(&ctx, cancel, &resp)));
  EXPECT_EQ(resp.job().state(), common::v1::JOB_STATE_CANCELLING);
  EXPECT_EQ(resp.termination_status(), v1::TERMINATION_STATUS_TERMINATING);
  EXPECT_FALSE(resp.has_final_cost());
  EXPECT_THAT(resp.toast_message(), HasSubstr("Cancelling..."));
  // Errors come at once, as without waiting.
  absl::Status again = Call(auth::Role::kViewer,
                            &v1::JobService::Stub::CancelJob, cancel, &resp);
  EXPECT_EQ(again.code(), absl::StatusCode::kPermissionDenied);
}

// A parked wait never holds up shutdown (the drain completes it).
TEST_F(JobServiceTest, R_CAN_02_ParkedCancelWaitEndsWithTheServer) {
  v1::Job job = Create();
  AssignmentInput a;
  a.assignment.set_job_id(job.job_id());
  a.assignment.set_attempt(1);
  ASSERT_OK(engine_->Apply(job.job_id(), a).status());
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_TESTING);
  cancel.set_wait_for_termination(true);
  v1::CancelJobResponse resp;
  std::thread call([&] {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kEngineer);
    (void)stub_->CancelJob(&ctx, cancel, &resp);
  });
  for (int i = 0;
       i < 5000 && engine_->store().Get(job.job_id())->job().state() !=
                       common::v1::JOB_STATE_CANCELLING;
       ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  server_.Shutdown();
  call.join();
  EXPECT_EQ(resp.job().state(), common::v1::JOB_STATE_CANCELLING);
}

TEST_F(JobServiceTest, R_CAN_05_AuditTrailRecordsWhoWhenWhy) {
  v1::Job job = Create();
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_COST_TOO_HIGH);
  cancel.set_notes("budget");
  v1::CancelJobResponse resp;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::CancelJob,
                 cancel, &resp));
  v1::ListAuditEntriesRequest list;
  list.set_job_id(job.job_id());
  v1::ListAuditEntriesResponse entries;
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
                 list, &entries));
  ASSERT_EQ(entries.entries_size(), 2);
  EXPECT_EQ(entries.entries(0).action(), v1::AUDIT_ACTION_CREATED);
  const auto& c = entries.entries(1);
  EXPECT_EQ(c.action(), v1::AUDIT_ACTION_CANCELLED);
  EXPECT_EQ(c.actor().user_id(), "engineer");
  EXPECT_EQ(c.cancel_reason(), v1::CANCEL_REASON_COST_TOO_HIGH);
  EXPECT_EQ(c.notes(), "budget");
  // Paging.
  list.set_page_size(1);
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
                 list, &entries));
  EXPECT_EQ(entries.entries_size(), 1);
  EXPECT_EQ(entries.total_size(), 2);
  list.set_page_token(entries.next_page_token());
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
                 list, &entries));
  EXPECT_EQ(entries.entries(0).action(), v1::AUDIT_ACTION_CANCELLED);
  list.set_page_size(-1);
  list.clear_page_token();
  absl::Status negative =
      Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries, list,
           &entries);
  EXPECT_THAT(negative, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldViolations(negative),
              ElementsAre(FieldViolation{"page_size", "must not be negative"}));
  list.set_page_size(0);
  // All jobs at once: managers only.
  list.set_job_id("-");
  list.clear_page_token();
  EXPECT_EQ(Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
                 list, &entries)
                .code(),
            absl::StatusCode::kPermissionDenied);
}

// Lists audit entries as `role`; the actions of the entries, in order.
std::vector<v1::AuditAction> Actions(const v1::ListAuditEntriesResponse& r) {
  std::vector<v1::AuditAction> out;
  for (const auto& e : r.entries()) out.push_back(e.action());
  return out;
}

TEST_F(JobServiceTest, R_CAN_05_AuditFilterByActionActorAndTime) {
  const absl::Time t0 = server_.clock().Now();
  v1::Job mine = Create(auth::Role::kEngineer);
  server_.clock().Advance(absl::Minutes(1));
  v1::Job theirs = Create(auth::Role::kManager);
  server_.clock().Advance(absl::Minutes(1));
  for (const auto& [job, role] : {std::pair{mine, auth::Role::kEngineer},
                                  std::pair{theirs, auth::Role::kManager}}) {
    v1::CancelJobRequest cancel;
    cancel.set_job_id(job.job_id());
    cancel.set_reason(v1::CANCEL_REASON_TESTING);
    v1::CancelJobResponse resp;
    ASSERT_OK(Call(role, &v1::JobService::Stub::CancelJob, cancel, &resp));
    server_.clock().Advance(absl::Minutes(1));
  }
  auto list = [&](std::string job_id, std::string filter,
                  std::string order = "", auth::Role role = auth::Role::kViewer)
      -> absl::StatusOr<v1::ListAuditEntriesResponse> {
    v1::ListAuditEntriesRequest req;
    req.set_job_id(job_id);
    req.set_filter(filter);
    req.set_order_by(order);
    v1::ListAuditEntriesResponse resp;
    absl::Status s =
        Call(role, &v1::JobService::Stub::ListAuditEntries, req, &resp);
    if (!s.ok()) return s;
    return resp;
  };
  using v1::AUDIT_ACTION_CANCELLED;
  using v1::AUDIT_ACTION_CREATED;
  // action =, !=, OR groups.
  auto r = list(mine.job_id(), "action = CANCELLED");
  ASSERT_OK(r.status());
  EXPECT_THAT(Actions(*r), ElementsAre(AUDIT_ACTION_CANCELLED));
  EXPECT_EQ(r->total_size(), 1);
  r = list(mine.job_id(), "action != AUDIT_ACTION_CANCELLED");
  ASSERT_OK(r.status());
  EXPECT_THAT(Actions(*r), ElementsAre(AUDIT_ACTION_CREATED));
  r = list("-", "(action = CREATED OR action = cancelled)", "",
           auth::Role::kManager);
  ASSERT_OK(r.status());
  EXPECT_THAT(Actions(*r),
              ElementsAre(AUDIT_ACTION_CREATED, AUDIT_ACTION_CREATED,
                          AUDIT_ACTION_CANCELLED, AUDIT_ACTION_CANCELLED));
  // actor = user_id, across all jobs (managers), newest first.
  r = list("-", "actor = manager", "time desc", auth::Role::kManager);
  ASSERT_OK(r.status());
  EXPECT_THAT(Actions(*r),
              ElementsAre(AUDIT_ACTION_CANCELLED, AUDIT_ACTION_CREATED));
  for (const auto& e : r->entries()) EXPECT_EQ(e.job_id(), theirs.job_id());
  // time ranges, combined with AND.
  const std::string after_first = absl::FormatTime(
      absl::RFC3339_full, t0 + absl::Seconds(30), absl::UTCTimeZone());
  const std::string third = absl::FormatTime(
      absl::RFC3339_full, t0 + absl::Minutes(3), absl::UTCTimeZone());
  r = list(
      "-",
      absl::StrCat("time > \"", after_first, "\" AND time < \"", third, "\""),
      "", auth::Role::kManager);
  ASSERT_OK(r.status());
  ASSERT_THAT(Actions(*r),
              ElementsAre(AUDIT_ACTION_CREATED, AUDIT_ACTION_CANCELLED));
  EXPECT_EQ(r->entries(0).job_id(), theirs.job_id());
  EXPECT_EQ(r->entries(1).job_id(), mine.job_id());
  r = list("-", absl::StrCat("time >= \"", third, "\""), "",
           auth::Role::kManager);
  ASSERT_OK(r.status());
  EXPECT_THAT(Actions(*r), ElementsAre(AUDIT_ACTION_CANCELLED));
}

TEST_F(JobServiceTest, R_CAN_05_AuditBadFilterNamesPositionAndToken) {
  v1::Job job = Create();
  struct Case {
    std::string filter;
    std::string message;  // a part of the field violation
  };
  const Case cases[] = {
      {"action = CANCELLED AND owner = ana",
       "unknown field \"owner\" at position 23 (accepted: action, actor, "
       "time)"},
      {"action = NAPPING", "invalid value NAPPING for action at position 0"},
      {"action = \"CANCELLED\"",
       "invalid value \"CANCELLED\" for action at position 0"},
      {"actor != ana",
       "operator \"!=\" is not accepted for actor at position 0 (accepted: =)"},
      {"time = \"2026-01-01T00:00:00Z\"",
       "operator \"=\" is not accepted for time at position 0"},
      {"time > 2026", "invalid value 2026 for time at position 0"},
      {"time > \"yesterday\"",
       "invalid value \"yesterday\" for time at position 0"},
      {"actor = \"\"",
       "invalid value \"\" for actor at position 0 (expected a user id)"},
      {"action =", "position"},
      {"(action = CREATED OR actor = ana)", "position"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.filter);
    v1::ListAuditEntriesRequest req;
    req.set_job_id(job.job_id());
    req.set_filter(c.filter);
    v1::ListAuditEntriesResponse resp;
    absl::Status s = Call(auth::Role::kViewer,
                          &v1::JobService::Stub::ListAuditEntries, req, &resp);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "filter");
    EXPECT_THAT(FieldViolations(s)[0].description, HasSubstr(c.message));
  }
  v1::ListAuditEntriesRequest req;
  req.set_job_id(job.job_id());
  req.set_order_by("action");
  v1::ListAuditEntriesResponse resp;
  absl::Status s = Call(auth::Role::kViewer,
                        &v1::JobService::Stub::ListAuditEntries, req, &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "order_by");
}

TEST_F(JobServiceTest, R_CAN_05_AuditPageTokensAreBoundToFilterAndOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Create().job_id());
    server_.clock().Advance(absl::Seconds(1));
  }
  v1::ListAuditEntriesRequest req;
  req.set_job_id("-");
  req.set_filter("action = CREATED");
  req.set_order_by("time desc");
  req.set_page_size(2);
  v1::ListAuditEntriesResponse page;
  ASSERT_OK(Call(auth::Role::kManager, &v1::JobService::Stub::ListAuditEntries,
                 req, &page));
  ASSERT_EQ(page.entries_size(), 2);
  EXPECT_EQ(page.total_size(), 3);
  EXPECT_EQ(page.entries(0).job_id(), ids[2]);
  EXPECT_EQ(page.entries(1).job_id(), ids[1]);
  ASSERT_FALSE(page.next_page_token().empty());
  // An entry written between pages does not shift the next one.
  Create();
  req.set_page_token(page.next_page_token());
  ASSERT_OK(Call(auth::Role::kManager, &v1::JobService::Stub::ListAuditEntries,
                 req, &page));
  ASSERT_EQ(page.entries_size(), 1);
  EXPECT_EQ(page.entries(0).job_id(), ids[0]);
  EXPECT_TRUE(page.next_page_token().empty());
  // The token with another filter, order or job is refused.
  const std::string token = req.page_token();
  for (auto change :
       std::vector<std::function<void(v1::ListAuditEntriesRequest&)>>{
           [](auto& r) { r.set_filter("action = CANCELLED"); },
           [](auto& r) { r.set_order_by("time"); },
           [&](auto& r) { r.set_job_id(ids[0]); }}) {
    v1::ListAuditEntriesRequest other = req;
    change(other);
    absl::Status s =
        Call(auth::Role::kManager, &v1::JobService::Stub::ListAuditEntries,
             other, &page);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "page_token");
  }
}

TEST_F(JobServiceTest, R_PAUSE_01_PauseOnlyWhileTraining) {
  v1::Job job = Create();
  v1::PauseJobRequest pause;
  pause.set_job_id(job.job_id());
  v1::PauseJobResponse resp;
  absl::Status s = Call(auth::Role::kEngineer, &v1::JobService::Stub::PauseJob,
                        pause, &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(s), "JOB_NOT_TRAINING");
  v1::ResumeJobRequest resume;
  resume.set_job_id(job.job_id());
  v1::ResumeJobResponse resumed;
  EXPECT_EQ(
      ErrorReason(Call(auth::Role::kEngineer, &v1::JobService::Stub::ResumeJob,
                       resume, &resumed)),
      "JOB_NOT_PAUSED");
  v1::GetPauseTimelineRequest tl;
  tl.set_job_id(job.job_id());
  v1::GetPauseTimelineResponse timeline;
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::GetPauseTimeline,
                 tl, &timeline));
  EXPECT_EQ(timeline.cycles_size(), 0);
}

// R-PAUSE-02: the Resume modal's preview asks cost for the estimate at the
// chosen GPU and pricing from the paused step, and changes nothing.
TEST_F(JobServiceTest, R_PAUSE_02_ResumePreviewEstimatesAtTheChosenGpu) {
  v1::Job job = Create();
  const std::string id = job.job_id();
  AssignmentInput assign;
  assign.assignment.set_job_id(id);
  assign.assignment.set_attempt(1);
  ASSERT_OK(engine_->Apply(id, assign).status());
  CreatePodResult created;
  created.attempt = 1;
  created.pod_id = "pod-1";
  ASSERT_OK(engine_->Apply(id, created).status());
  metrics::v1::Event training;
  training.set_job_id(id);
  training.set_attempt(1);
  training.set_job_seq(1);
  training.set_type(common::v1::EVENT_TYPE_STATUS);
  training.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
  ASSERT_OK(engine_->Apply(id, EventInput{training}).status());
  metrics::v1::Event ck = training;
  ck.set_job_seq(2);
  ck.set_type(common::v1::EVENT_TYPE_CHECKPOINT);
  ck.clear_status();
  ck.mutable_checkpoint()->set_step(200);
  ck.mutable_checkpoint()->set_uri("s3://b/ck-200");
  ASSERT_OK(engine_->Apply(id, EventInput{ck}).status());
  v1::PauseJobRequest pause;
  pause.set_job_id(id);
  v1::PauseJobResponse paused;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::PauseJob, pause,
                 &paused));
  PodObservation exited;
  exited.pod_id = "pod-1";
  exited.phase = PodObservation::Phase::kExited;
  exited.exit_reason = "stopped";
  ASSERT_OK(engine_->Apply(id, exited).status());

  cost_.estimate.mutable_cost()->mutable_low()->set_micros(12000000);
  cost_.estimate.mutable_cost()->mutable_high()->set_micros(15000000);
  cost_.estimate.mutable_hourly_rate()->set_micros(1190000);
  cost_.estimate.mutable_duration()->mutable_max()->set_seconds(7200);
  v1::ResumeJobRequest resume;
  resume.set_job_id(id);
  resume.set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
  resume.set_pricing(common::v1::PRICING_SPOT);
  resume.set_validate_only(true);
  v1::ResumeJobResponse preview;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::ResumeJob,
                 resume, &preview));
  EXPECT_EQ(preview.job().state(), common::v1::JOB_STATE_PAUSED);
  EXPECT_EQ(preview.resume_from_step(), 200);
  EXPECT_EQ(preview.estimated_additional_cost().low().micros(), 12000000);
  EXPECT_EQ(preview.hourly_rate().micros(), 1190000);
  EXPECT_EQ(preview.estimated_remaining().seconds(), 7200);
  EXPECT_EQ(cost_.last_estimate_request.from_step(), 200);
  EXPECT_EQ(cost_.last_estimate_request.config().gpu_type(),
            common::v1::GPU_TYPE_H100_80GB);
  EXPECT_EQ(cost_.last_estimate_request.config().pricing(),
            common::v1::PRICING_SPOT);
  // Cost down: the preview still answers, with a warning.
  cost_.Fail(absl::UnavailableError("cost is down"));
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::ResumeJob,
                 resume, &preview));
  EXPECT_THAT(preview.warnings(),
              ::testing::Contains(::testing::HasSubstr("unavailable")));
}

TEST_F(JobServiceTest, UpdateJobNeedsEtagAndMutablePaths) {
  v1::Job job = Create();
  v1::UpdateJobRequest req;
  req.mutable_job()->set_job_id(job.job_id());
  req.mutable_job()->mutable_spec()->set_notes("new notes");
  req.mutable_update_mask()->add_paths("spec.notes");
  v1::UpdateJobResponse resp;
  EXPECT_EQ(
      FieldViolations(Call(auth::Role::kEngineer,
                           &v1::JobService::Stub::UpdateJob, req, &resp))[0]
          .field,
      "job.etag");
  req.mutable_job()->set_etag(job.etag());
  req.mutable_update_mask()->add_paths("spec.config");
  EXPECT_EQ(
      FieldViolations(Call(auth::Role::kEngineer,
                           &v1::JobService::Stub::UpdateJob, req, &resp))[0]
          .field,
      "update_mask");
  req.mutable_update_mask()->clear_paths();
  req.mutable_update_mask()->add_paths("spec.notes");
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::UpdateJob, req,
                 &resp));
  EXPECT_EQ(resp.job().spec().notes(), "new notes");
  EXPECT_EQ(resp.job().spec().display_name(), "support-bot");
  EXPECT_NE(resp.job().etag(), job.etag());
}

// The API's id rule (common/status/ids.h) on every job_id: empty, a path,
// upper case and 65 characters are INVALID_ARGUMENT naming the field; a valid
// but unknown id is NOT_FOUND JOB_NOT_FOUND with the id as metadata.
TEST_F(JobServiceTest, JobIdsFollowTheOneIdRule) {
  const std::string kBad[] = {"", "../x", "Job-1", std::string(65, 'a'),
                              "job 1"};
  for (const std::string& id : kBad) {
    SCOPED_TRACE(id);
    v1::GetJobRequest get;
    get.set_job_id(id);
    v1::GetJobResponse got;
    absl::Status s =
        Call(auth::Role::kViewer, &v1::JobService::Stub::GetJob, get, &got);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job_id");
    v1::UpdateJobRequest update;
    update.mutable_job()->set_job_id(id);
    update.mutable_job()->set_etag("\"1\"");
    update.mutable_update_mask()->add_paths("spec.notes");
    v1::UpdateJobResponse updated;
    s = Call(auth::Role::kEngineer, &v1::JobService::Stub::UpdateJob, update,
             &updated);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job.job_id");
    v1::CancelJobRequest cancel;
    cancel.set_job_id(id);
    cancel.set_reason(v1::CANCEL_REASON_TESTING);
    v1::CancelJobResponse cancelled;
    s = Call(auth::Role::kEngineer, &v1::JobService::Stub::CancelJob, cancel,
             &cancelled);
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job_id");
    v1::ListAuditEntriesRequest audit;
    audit.set_job_id(id);
    v1::ListAuditEntriesResponse entries;
    s = Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
             audit, &entries);
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "job_id");
  }
  v1::GetJobRequest get;
  get.set_job_id("job-unknown");
  v1::GetJobResponse got;
  absl::Status s =
      Call(auth::Role::kViewer, &v1::JobService::Stub::GetJob, get, &got);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorReason(s), reasons::kJobNotFound);
  EXPECT_EQ(ErrorMetadata(s).at("job_id"), "job-unknown");
  v1::ListAuditEntriesRequest audit;
  audit.set_job_id("job-unknown");
  v1::ListAuditEntriesResponse entries;
  s = Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries, audit,
           &entries);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorReason(s), reasons::kJobNotFound);
}

TEST_F(JobServiceTest, StaleEtagIsAbortedWithTheCurrentOne) {
  v1::Job job = Create();
  v1::PauseJobRequest pause;
  pause.set_job_id(job.job_id());
  pause.set_etag("\"stale\"");
  v1::PauseJobResponse paused;
  absl::Status s = Call(auth::Role::kEngineer, &v1::JobService::Stub::PauseJob,
                        pause, &paused);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted, HasSubstr(job.etag())));
  EXPECT_EQ(ErrorReason(s), reasons::kEtagMismatch);
}

TEST_F(JobServiceTest, DeleteOnlyTerminalJobsThenNotFound) {
  v1::Job job = Create();
  v1::DeleteJobRequest del;
  del.set_job_id(job.job_id());
  v1::DeleteJobResponse deleted;
  EXPECT_EQ(ErrorReason(Call(auth::Role::kEngineer,
                             &v1::JobService::Stub::DeleteJob, del, &deleted)),
            "JOB_NOT_TERMINAL");
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  cancel.set_reason(v1::CANCEL_REASON_TESTING);
  v1::CancelJobResponse cancelled;
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::CancelJob,
                 cancel, &cancelled));
  ASSERT_OK(Call(auth::Role::kEngineer, &v1::JobService::Stub::DeleteJob, del,
                 &deleted));
  v1::GetJobRequest get;
  get.set_job_id(job.job_id());
  v1::GetJobResponse got;
  EXPECT_EQ(Call(auth::Role::kViewer, &v1::JobService::Stub::GetJob, get, &got)
                .code(),
            absl::StatusCode::kNotFound);
  // The audit is kept.
  v1::ListAuditEntriesRequest list;
  list.set_job_id(job.job_id());
  v1::ListAuditEntriesResponse entries;
  ASSERT_OK(Call(auth::Role::kViewer, &v1::JobService::Stub::ListAuditEntries,
                 list, &entries));
  EXPECT_EQ(entries.entries(entries.entries_size() - 1).action(),
            v1::AUDIT_ACTION_DELETED);
}

}  // namespace
}  // namespace trainyard::jobs
