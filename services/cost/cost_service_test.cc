// Copyright 2026 Trainyard authors.
//
// CostService over real gRPC (loopback) with a real RocksDB, a fake suite
// clock and fake progress.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "common/http/client.h"
#include "common/status/status_macros.h"
#include "common/testing/temp_dir.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/cost/domain/money.h"
#include "services/cost/grpc/alert_watch.h"
#include "services/cost/testing/cost_harness.h"

namespace trainyard::cost {
namespace {

using Stub = v1::CostService::Stub;
const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

common::v1::TrainingConfig Config(common::v1::GpuType gpu,
                                  common::v1::Pricing pricing) {
  common::v1::TrainingConfig c;
  c.set_preset(common::v1::PRESET_BALANCED);
  c.set_base_model("meta-llama/Meta-Llama-3-8B");
  c.mutable_dataset()->set_uri("s3://data/support.jsonl");
  c.mutable_dataset()->set_conversations(100'000);  // 15,000 steps
  c.set_gpu_type(gpu);
  c.set_gpu_count(1);
  c.set_pricing(pricing);
  return c;
}

std::string FieldOf(const absl::Status& s) {
  std::vector<FieldViolation> v = FieldViolations(s);
  return v.empty() ? "" : v[0].field;
}

class CostServiceTest : public ::testing::Test {
 protected:
  absl::Status Register(const std::string& job,
                        const common::v1::TrainingConfig& config,
                        int64_t from_step = 0,
                        v1::RegisterJobResponse* out = nullptr) {
    v1::RegisterJobRequest req;
    req.set_job_id(job);
    req.set_display_name("support-bot");
    req.mutable_created_by()->set_user_id("alice");
    *req.mutable_config() = config;
    req.set_from_step(from_step);
    v1::RegisterJobResponse resp;
    return h_.Call(&Stub::RegisterJob, req, out ? out : &resp);
  }

  absl::StatusOr<v1::Meter> Open(const std::string& request,
                                 const std::string& job, int attempt,
                                 common::v1::CostPhase phase,
                                 common::v1::GpuType gpu,
                                 common::v1::Pricing pricing) {
    v1::OpenMeterRequest req;
    req.set_request_id(request);
    req.set_job_id(job);
    req.set_attempt(attempt);
    req.set_phase(phase);
    req.set_gpu_type(gpu);
    req.set_gpu_count(1);
    req.set_pricing(pricing);
    req.set_storage_bytes(50'000'000'000);  // storage meters only
    v1::OpenMeterResponse resp;
    RETURN_IF_ERROR(h_.Call(&Stub::OpenMeter, req, &resp));
    return resp.meter();
  }

  absl::StatusOr<v1::Meter> Close(
      const std::string& meter, v1::MeterCloseReason reason,
      std::optional<int64_t> step = std::nullopt,
      std::optional<int64_t> checkpoint = std::nullopt) {
    v1::CloseMeterRequest req;
    req.set_meter_id(meter);
    req.set_reason(reason);
    if (step) req.set_last_step(*step);
    if (checkpoint) req.set_last_checkpoint_step(*checkpoint);
    v1::CloseMeterResponse resp;
    RETURN_IF_ERROR(h_.Call(&Stub::CloseMeter, req, &resp));
    return resp.meter();
  }

  v1::GetJobCostResponse Cost(const std::string& job) {
    v1::GetJobCostRequest req;
    req.set_job_id(job);
    v1::GetJobCostResponse resp;
    EXPECT_OK(h_.Call(&Stub::GetJobCost, req, &resp, auth::Role::kViewer));
    return resp;
  }

  static int64_t Phase(const v1::GetJobCostResponse& c,
                       common::v1::CostPhase phase) {
    for (const common::v1::PhaseCost& p : c.cost().by_phase()) {
      if (p.phase() == phase) return p.amount().micros();
    }
    return -1;
  }

  // Every alert from `cursor` until `count` arrived; sets *next_cursor.
  std::vector<v1::BudgetAlert> ReadAlerts(const std::string& cursor,
                                          size_t count,
                                          std::string* next_cursor) {
    grpc::ClientContext ctx;
    testing::TestServer::Authorize(ctx, auth::Role::kViewer);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::WatchBudgetAlertsRequest req;
    req.set_cursor(cursor);
    auto reader = h_.stub().WatchBudgetAlerts(&ctx, req);
    std::vector<v1::BudgetAlert> alerts;
    v1::WatchBudgetAlertsResponse resp;
    while (alerts.size() < count && reader->Read(&resp)) {
      for (const v1::BudgetAlert& a : resp.alerts()) alerts.push_back(a);
      *next_cursor = resp.cursor();
    }
    ctx.TryCancel();
    reader->Finish();
    return alerts;
  }

  Harness h_;
};

// The whole cost story of a job, with exact micro-dollars per phase:
// estimate -> train (H100 spot $2.49/h) -> spot interruption at step 850
// (checkpoint 800, 6 s/step) -> recovery -> active -> pause (50 GB stored for
// a day) -> resume on an A100 on-demand ($1.89/h) -> 80 % budget alert ->
// PAUSE action at 100 % -> finalize -> retry reopens.
TEST_F(CostServiceTest,
       R_X_04_R_X_05_R_DASH_06_R_PAUSE_03_R_CAN_03_WholeCostStory) {
  const auto H100 = common::v1::GPU_TYPE_H100_80GB;
  const auto A100 = common::v1::GPU_TYPE_A100_80GB;
  const auto SPOT = common::v1::PRICING_SPOT;
  const auto ON_DEMAND = common::v1::PRICING_ON_DEMAND;
  // Estimate.
  v1::EstimateCostRequest est;
  *est.mutable_config() = Config(H100, SPOT);
  v1::EstimateCostResponse est_resp;
  ASSERT_OK(h_.Call(&Stub::EstimateCost, est, &est_resp, auth::Role::kViewer));
  EXPECT_EQ(est_resp.estimate().total_steps(), 15000);
  EXPECT_EQ(est_resp.estimate().basis(), v1::ESTIMATE_BASIS_MODEL);
  EXPECT_EQ(est_resp.estimate().hourly_rate().micros(), 2'490'000);
  v1::RegisterJobResponse reg;
  ASSERT_OK(Register("j1", Config(H100, SPOT), 0, &reg));
  EXPECT_EQ(reg.estimate().cost().low().micros(),
            est_resp.estimate().cost().low().micros());

  // Train for an hour, interrupted at step 850 (checkpoint 800).
  ASSERT_OK(Open("j1/1/active", "j1", 1, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 H100, SPOT)
                .status());
  h_.progress().Set("j1",
                    {.step = 850, .total_steps = 15000, .seconds_per_step = 6});
  h_.clock().Advance(absl::Hours(1));
  v1::GetJobCostResponse c = Cost("j1");
  EXPECT_EQ(c.cost().spend().micros(), 2'490'000);
  EXPECT_TRUE(c.cost().accruing());
  EXPECT_EQ(c.projection_source(), v1::PROJECTION_SOURCE_PROGRESS);
  // 14,150 steps x 6 s = 23.58 h more at $2.49/h.
  EXPECT_EQ(c.cost().projected_final().micros(),
            2'490'000 + ComputeAmountMicros(2'490'000, 14150 * 6000));
  absl::StatusOr<v1::Meter> m1 =
      Close("j1.m1", v1::METER_CLOSE_REASON_INTERRUPTED, 850, 800);
  ASSERT_OK(m1.status());
  EXPECT_EQ(m1->amount().micros(), 2'490'000);

  // Recovery pod for 6 minutes, then training again (a phase switch).
  ASSERT_OK(Open("j1/2/recovery", "j1", 2,
                 common::v1::COST_PHASE_RECOVERY_OVERHEAD, H100, SPOT)
                .status());
  h_.clock().Advance(absl::Minutes(6));
  ASSERT_OK(Open("j1/2/active", "j1", 2, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 H100, SPOT)
                .status());
  // Pause after 54 minutes; 50 GB of checkpoint stored for a day.
  h_.clock().Advance(absl::Minutes(54));
  ASSERT_OK(Close("j1.m3", v1::METER_CLOSE_REASON_PAUSED).status());
  ASSERT_OK(Open("j1/2/paused", "j1", 2, common::v1::COST_PHASE_PAUSED_STORAGE,
                 common::v1::GPU_TYPE_UNSPECIFIED, SPOT)
                .status());
  h_.clock().Advance(absl::Hours(24));
  c = Cost("j1");
  EXPECT_FALSE(c.cost().accruing());
  EXPECT_EQ(c.cost().paused_storage().micros(), 333'333);
  EXPECT_EQ(FromProto(c.paused_duration()), absl::Hours(24));

  // Resume on an A100 on demand: the estimate is revised.
  ASSERT_OK(Close("j1.m4", v1::METER_CLOSE_REASON_RESUMED).status());
  h_.progress().Clear("j1");  // no speed on the new pod yet
  ASSERT_OK(Register("j1", Config(A100, ON_DEMAND), 800, &reg));
  EXPECT_GT(reg.estimate().cost().low().micros(), 4'980'000);
  v1::SetJobBudgetRequest budget;
  budget.set_job_id("j1");
  budget.mutable_budget()->mutable_limit()->set_micros(8'000'000);
  budget.mutable_budget()->set_action(common::v1::BUDGET_ACTION_PAUSE);
  v1::SetJobBudgetResponse budget_resp;
  ASSERT_OK(h_.Call(&Stub::SetJobBudget, budget, &budget_resp));
  EXPECT_EQ(budget_resp.budget().state(), common::v1::BUDGET_STATE_WITHIN);
  ASSERT_OK(Open("j1/3/active", "j1", 3, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 A100, ON_DEMAND)
                .status());
  c = Cost("j1");
  EXPECT_EQ(c.cost().hourly_rate().micros(), 1'890'000);
  EXPECT_EQ(c.cost().pricing(), ON_DEMAND);
  EXPECT_EQ(c.projection_source(), v1::PROJECTION_SOURCE_ESTIMATE);
  EXPECT_NE(c.projection_note().find("metrics unreachable"), std::string::npos);

  // $4.98 spent; 80 % of $8 is reached after 2,705 s at $1.89/h.
  h_.clock().Advance(absl::Seconds(2704));
  h_.module().Tick();
  std::string cursor;
  h_.clock().Advance(absl::Seconds(1));
  h_.module().Tick();
  std::vector<v1::BudgetAlert> alerts =
      ReadAlerts(EncodeAlertCursor(0), 1, &cursor);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind(), v1::ALERT_KIND_BUDGET_WARNING);
  EXPECT_EQ(alerts[0].spend().micros(), 4'980'000 + 1'420'125);
  EXPECT_EQ(alerts[0].threshold().micros(), 6'400'000);
  // 100 % after 5,753 s: the PAUSE action.
  h_.clock().Advance(absl::Seconds(5752 - 2705));
  h_.module().Tick();
  EXPECT_EQ(Cost("j1").cost().budget().state(),
            common::v1::BUDGET_STATE_WITHIN);
  h_.clock().Advance(absl::Seconds(1));
  h_.module().Tick();
  alerts = ReadAlerts(cursor, 1, &cursor);  // resumes after the first
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind(), v1::ALERT_KIND_BUDGET_EXCEEDED);
  EXPECT_EQ(alerts[0].action(), common::v1::BUDGET_ACTION_PAUSE);
  EXPECT_EQ(alerts[0].spend().micros(), 8'000'325);
  h_.module().Tick();  // once per crossing
  // job-control pauses the job; the job then fails and is finalized.
  ASSERT_OK(Close("j1.m5", v1::METER_CLOSE_REASON_PAUSED).status());
  v1::FinalizeJobCostRequest fin;
  fin.set_job_id("j1");
  fin.set_final_state(common::v1::JOB_STATE_FAILED);
  v1::FinalizeJobCostResponse fin_resp;
  ASSERT_OK(h_.Call(&Stub::FinalizeJobCost, fin, &fin_resp));
  // Exactly, per phase:
  //   ACTIVE   3,300 s + 3,240 s at $2.49/h + 5,753 s at $1.89/h
  //   WASTED   steps 801-850 x 6 s = 300 s at $2.49/h
  //   RECOVERY 360 s at $2.49/h
  //   STORAGE  50 GB x 1 day x $0.20/GB-month
  const int64_t active = 2'282'500 + 2'241'000 + 3'020'325;
  const int64_t wasted = 207'500, recovery = 249'000, storage = 333'333;
  EXPECT_EQ(fin_resp.final_cost().micros(), active + wasted + recovery);
  EXPECT_EQ(fin_resp.final_cost().micros(), 8'000'325);
  c = Cost("j1");
  EXPECT_TRUE(c.cost().final());
  EXPECT_EQ(c.projection_source(), v1::PROJECTION_SOURCE_FINAL);
  EXPECT_EQ(Phase(c, common::v1::COST_PHASE_ACTIVE_COMPUTE), active);
  EXPECT_EQ(Phase(c, common::v1::COST_PHASE_WASTED_STEPS), wasted);
  EXPECT_EQ(Phase(c, common::v1::COST_PHASE_RECOVERY_OVERHEAD), recovery);
  EXPECT_EQ(Phase(c, common::v1::COST_PHASE_PAUSED_STORAGE), storage);
  EXPECT_EQ(c.cost().by_phase(3).steps(), 50);
  EXPECT_EQ(c.cost().budget().state(), common::v1::BUDGET_STATE_EXCEEDED);
  EXPECT_EQ(FromProto(c.active_duration()),
            absl::Seconds(3600 + 360 + 3240 + 5753));
  ASSERT_OK(h_.Call(&Stub::FinalizeJobCost, fin, &fin_resp));  // idempotent
  EXPECT_EQ(fin_resp.final_cost().micros(), 8'000'325);

  // The ledger holds one line per phase piece; they sum to the total.
  v1::ListLedgerEntriesRequest list;
  list.set_job_id("j1");
  v1::ListLedgerEntriesResponse ledger;
  ASSERT_OK(
      h_.Call(&Stub::ListLedgerEntries, list, &ledger, auth::Role::kViewer));
  EXPECT_EQ(ledger.total_size(), 6);
  EXPECT_EQ(ledger.total_amount().micros(), 8'000'325 + storage);
  list.set_filter("phase = WASTED_STEPS");
  ASSERT_OK(
      h_.Call(&Stub::ListLedgerEntries, list, &ledger, auth::Role::kViewer));
  ASSERT_EQ(ledger.entries_size(), 1);
  EXPECT_EQ(ledger.entries(0).description(),
            "Steps 801-850 recomputed after spot interruption");

  // A finalized job bills nothing more until a retry reopens it.
  absl::StatusOr<v1::Meter> late =
      Open("j1/4/active", "j1", 4, common::v1::COST_PHASE_ACTIVE_COMPUTE, A100,
           ON_DEMAND);
  EXPECT_EQ(ErrorReason(late.status()), "JOB_COST_FINAL");
  ASSERT_OK(Register("j1", Config(A100, ON_DEMAND), 800));
  c = Cost("j1");
  EXPECT_FALSE(c.cost().final());
  EXPECT_EQ(c.cost().spend().micros(), 8'000'325);
  ASSERT_OK(Open("j1/4/active", "j1", 4, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 A100, ON_DEMAND)
                .status());

  // Reports: by phase, with storage as its own row, and as CSV.
  v1::GetCostReportRequest report;
  report.set_group_by(v1::COST_REPORT_GROUPING_PHASE);
  report.set_format(common::v1::EXPORT_FORMAT_CSV);
  v1::GetCostReportResponse report_resp;
  ASSERT_OK(
      h_.Call(&Stub::GetCostReport, report, &report_resp, auth::Role::kViewer));
  EXPECT_EQ(report_resp.total().micros(), 8'000'325);  // the new meter: 0 s
  EXPECT_EQ(report_resp.paused_storage_total().micros(), storage);
  ASSERT_EQ(report_resp.rows_size(), 4);
  EXPECT_EQ(report_resp.rows(0).key(), "ACTIVE_COMPUTE");
  EXPECT_EQ(report_resp.rows(0).amount().micros(), active);
  EXPECT_NE(report_resp.csv().find("ACTIVE_COMPUTE,ACTIVE_COMPUTE,7.543825,1,"),
            std::string::npos);
}

TEST_F(CostServiceTest, R_X_04_RestartKeepsEveryMeterAndLedgerEntry) {
  testing::TempDir dir;
  v1::GetJobCostResponse before;
  v1::ListLedgerEntriesResponse ledger_before;
  v1::ListLedgerEntriesRequest list;
  list.set_job_id("j1");
  {
    Harness h(dir.Sub("db"), kT0);
    v1::RegisterJobRequest reg;
    reg.set_job_id("j1");
    *reg.mutable_config() =
        Config(common::v1::GPU_TYPE_L40S, common::v1::PRICING_SPOT);
    v1::RegisterJobResponse reg_resp;
    ASSERT_OK(h.Call(&Stub::RegisterJob, reg, &reg_resp));
    for (int i = 0; i < 30; ++i) {
      v1::OpenMeterRequest open;
      open.set_request_id(absl::StrCat("r", i));
      open.set_job_id("j1");
      open.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
      open.set_gpu_type(common::v1::GPU_TYPE_L40S);
      v1::OpenMeterResponse opened;
      ASSERT_OK(h.Call(&Stub::OpenMeter, open, &opened));
      h.clock().Advance(absl::Seconds(1));
      if (i == 29) break;  // stays open
      v1::CloseMeterRequest close;
      close.set_meter_id(opened.meter().meter_id());
      close.set_reason(v1::METER_CLOSE_REASON_COMPLETED);
      v1::CloseMeterResponse closed;
      ASSERT_OK(h.Call(&Stub::CloseMeter, close, &closed));
    }
    v1::GetJobCostRequest get;
    get.set_job_id("j1");
    ASSERT_OK(h.Call(&Stub::GetJobCost, get, &before));
    ASSERT_OK(h.Call(&Stub::ListLedgerEntries, list, &ledger_before));
  }
  Harness h(dir.Sub("db"), kT0 + absl::Seconds(30));
  v1::GetJobCostRequest get;
  get.set_job_id("j1");
  v1::GetJobCostResponse after;
  ASSERT_OK(h.Call(&Stub::GetJobCost, get, &after));
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  v1::ListLedgerEntriesResponse ledger_after;
  ASSERT_OK(h.Call(&Stub::ListLedgerEntries, list, &ledger_after));
  EXPECT_EQ(ledger_after.total_size(), 30);
  EXPECT_EQ(ledger_after.SerializeAsString(),
            ledger_before.SerializeAsString());
  // 29 closed one-second entries at $0.69/h (192 micros each) + the open one.
  EXPECT_EQ(ledger_after.total_amount().micros(), 30 * 192);
}

TEST_F(CostServiceTest, R_X_04_R_X_05_BadInputGetsSpecificErrors) {
  const auto H100 = common::v1::GPU_TYPE_H100_80GB;
  const auto SPOT = common::v1::PRICING_SPOT;
  ASSERT_OK(Register("j1", Config(H100, SPOT)));
  struct Case {
    std::string name;
    absl::Status status;
    absl::StatusCode code;
    std::string field;  // or the reason when no field applies
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, absl::Status s, absl::StatusCode code,
                 std::string field) {
    cases.push_back({std::move(name), std::move(s), code, std::move(field)});
  };
  using C = absl::StatusCode;

  // Rate card.
  v1::GetRateCardResponse card;
  ASSERT_OK(h_.Call(&Stub::GetRateCard, v1::GetRateCardRequest(), &card,
                    auth::Role::kViewer));
  EXPECT_EQ(card.rate_card().version(), 1);
  v1::UpdateRateCardRequest upd;
  *upd.mutable_rate_card() = card.rate_card();
  upd.mutable_rate_card()->clear_etag();
  v1::UpdateRateCardResponse upd_resp;
  add("no etag",
      h_.Call(&Stub::UpdateRateCard, upd, &upd_resp, auth::Role::kAdmin),
      C::kInvalidArgument, "rate_card.etag");
  upd.mutable_rate_card()->set_etag("v0");
  add("stale etag",
      h_.Call(&Stub::UpdateRateCard, upd, &upd_resp, auth::Role::kAdmin),
      C::kAborted, "ETAG_MISMATCH");
  upd.mutable_rate_card()->set_etag("v1");
  upd.mutable_rate_card()
      ->mutable_gpu_rates(0)
      ->mutable_spot_hourly()
      ->set_micros(30'000'000);
  add(">10x",
      h_.Call(&Stub::UpdateRateCard, upd, &upd_resp, auth::Role::kAdmin),
      C::kInvalidArgument, "rate_card.gpu_rates[0].spot_hourly");
  upd.mutable_rate_card()
      ->mutable_gpu_rates(1)
      ->mutable_spot_hourly()
      ->set_micros(-1);
  upd.set_force(true);
  add("negative",
      h_.Call(&Stub::UpdateRateCard, upd, &upd_resp, auth::Role::kAdmin),
      C::kInvalidArgument, "rate_card.gpu_rates[1].spot_hourly");
  add("not admin",
      h_.Call(&Stub::UpdateRateCard, upd, &upd_resp, auth::Role::kManager),
      C::kPermissionDenied, "PERMISSION_DENIED");

  // Jobs and estimates.
  common::v1::TrainingConfig bad = Config(H100, SPOT);
  bad.set_gpu_type(common::v1::GPU_TYPE_UNSPECIFIED);
  add("no gpu type", Register("j2", bad), C::kInvalidArgument,
      "config.gpu_type");
  bad = Config(H100, SPOT);
  bad.set_gpu_type(static_cast<common::v1::GpuType>(77));
  add("unknown gpu type", Register("j2", bad), C::kInvalidArgument,
      "config.gpu_type");
  bad = Config(H100, SPOT);
  bad.mutable_dataset()->set_conversations(0);
  add("no data", Register("j2", bad), C::kInvalidArgument,
      "config.dataset.conversations");
  add("bad job id", Register("J 2", Config(H100, SPOT)), C::kInvalidArgument,
      "job_id");
  v1::EstimateCostRequest est;
  *est.mutable_config() = Config(H100, SPOT);
  est.set_from_step(20'000);
  v1::EstimateCostResponse est_resp;
  add("from_step past the end",
      h_.Call(&Stub::EstimateCost, est, &est_resp, auth::Role::kViewer),
      C::kInvalidArgument, "from_step");
  v1::GetJobCostRequest get;
  get.set_job_id("nope");
  v1::GetJobCostResponse get_resp;
  add("unknown job", h_.Call(&Stub::GetJobCost, get, &get_resp), C::kNotFound,
      "JOB_NOT_FOUND");
  v1::BatchGetJobCostsRequest batch;
  v1::BatchGetJobCostsResponse batch_resp;
  add("no ids", h_.Call(&Stub::BatchGetJobCosts, batch, &batch_resp),
      C::kInvalidArgument, "job_ids");
  for (int i = 0; i < 501; ++i) batch.add_job_ids(absl::StrCat("j", i));
  add("501 ids", h_.Call(&Stub::BatchGetJobCosts, batch, &batch_resp),
      C::kInvalidArgument, "job_ids");
  // The API's id rule (common/status/ids.h) on every job id.
  for (const std::string& id :
       {std::string("../x"), std::string("Job-1"), std::string(65, 'a')}) {
    v1::GetJobCostRequest get_bad;
    get_bad.set_job_id(id);
    add("get " + id, h_.Call(&Stub::GetJobCost, get_bad, &get_resp),
        C::kInvalidArgument, "job_id");
    v1::BatchGetJobCostsRequest batch_bad;
    batch_bad.add_job_ids("j1");
    batch_bad.add_job_ids(id);
    add("batch " + id, h_.Call(&Stub::BatchGetJobCosts, batch_bad, &batch_resp),
        C::kInvalidArgument, "job_ids[1]");
    v1::ListLedgerEntriesRequest list_bad;
    list_bad.set_job_id(id);
    v1::ListLedgerEntriesResponse list_bad_resp;
    add("ledger " + id,
        h_.Call(&Stub::ListLedgerEntries, list_bad, &list_bad_resp),
        C::kInvalidArgument, "job_id");
    v1::SetJobBudgetRequest budget_bad;
    budget_bad.set_job_id(id);
    budget_bad.mutable_budget()->mutable_limit()->set_micros(1'000'000);
    v1::SetJobBudgetResponse budget_bad_resp;
    add("budget " + id,
        h_.Call(&Stub::SetJobBudget, budget_bad, &budget_bad_resp),
        C::kInvalidArgument, "job_id");
    v1::FinalizeJobCostRequest fin_bad;
    fin_bad.set_job_id(id);
    fin_bad.set_final_state(common::v1::JOB_STATE_COMPLETED);
    v1::FinalizeJobCostResponse fin_bad_resp;
    add("finalize " + id,
        h_.Call(&Stub::FinalizeJobCost, fin_bad, &fin_bad_resp),
        C::kInvalidArgument, "job_id");
  }

  // Meters.
  v1::OpenMeterRequest open;
  open.set_job_id("j1");
  open.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
  open.set_gpu_type(H100);
  v1::OpenMeterResponse open_resp;
  add("no request id", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kInvalidArgument, "request_id");
  open.set_request_id("r1");
  open.set_phase(common::v1::COST_PHASE_WASTED_STEPS);
  add("wasted is derived", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kInvalidArgument, "phase");
  open.set_phase(common::v1::COST_PHASE_PAUSED_STORAGE);
  add("storage without bytes", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kInvalidArgument, "storage_bytes");
  open.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
  open.set_gpu_type(common::v1::GPU_TYPE_UNSPECIFIED);
  add("compute without gpu", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kInvalidArgument, "gpu_type");
  open.set_gpu_type(H100);
  *open.mutable_start_time() = ToProto(kT0 + absl::Minutes(1));
  add("future start", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kInvalidArgument, "start_time");
  open.clear_start_time();
  open.set_job_id("nope");
  add("meter of unknown job", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kNotFound, "JOB_NOT_FOUND");
  open.set_job_id("j1");
  ASSERT_OK(h_.Call(&Stub::OpenMeter, open, &open_resp));
  open.set_request_id("r2");
  add("overlapping meter", h_.Call(&Stub::OpenMeter, open, &open_resp),
      C::kInvalidArgument, "phase");
  v1::CloseMeterRequest close;
  close.set_meter_id("j1.m9");
  close.set_reason(v1::METER_CLOSE_REASON_COMPLETED);
  v1::CloseMeterResponse close_resp;
  add("close without open", h_.Call(&Stub::CloseMeter, close, &close_resp),
      C::kNotFound, "METER_NOT_FOUND");
  close.set_meter_id("j1.m1");
  close.clear_reason();
  add("close without reason", h_.Call(&Stub::CloseMeter, close, &close_resp),
      C::kInvalidArgument, "reason");
  close.set_reason(v1::METER_CLOSE_REASON_COMPLETED);
  h_.clock().Advance(absl::Minutes(1));
  ASSERT_OK(h_.Call(&Stub::CloseMeter, close, &close_resp));
  ASSERT_OK(h_.Call(&Stub::CloseMeter, close, &close_resp));  // a retry
  close.set_reason(v1::METER_CLOSE_REASON_FAILED);
  add("closing twice", h_.Call(&Stub::CloseMeter, close, &close_resp),
      C::kInvalidArgument, "reason");

  // Budgets.
  v1::SetJobBudgetRequest budget;
  budget.set_job_id("j1");
  budget.mutable_budget()->mutable_limit()->set_micros(0);
  v1::SetJobBudgetResponse budget_resp;
  add("zero budget", h_.Call(&Stub::SetJobBudget, budget, &budget_resp),
      C::kInvalidArgument, "budget.limit");
  budget.mutable_budget()->mutable_limit()->set_micros(-5);
  add("negative budget", h_.Call(&Stub::SetJobBudget, budget, &budget_resp),
      C::kInvalidArgument, "budget.limit");

  // Lists, reports, finalize, stream.
  v1::ListLedgerEntriesRequest list;
  list.set_job_id("j1");
  list.set_page_size(-1);
  v1::ListLedgerEntriesResponse list_resp;
  add("negative page size", h_.Call(&Stub::ListLedgerEntries, list, &list_resp),
      C::kInvalidArgument, "page_size");
  list.set_page_size(0);
  list.set_filter("phase = NAP");
  add("bad filter", h_.Call(&Stub::ListLedgerEntries, list, &list_resp),
      C::kInvalidArgument, "filter");
  list.clear_filter();
  list.set_order_by("cost");
  add("bad order", h_.Call(&Stub::ListLedgerEntries, list, &list_resp),
      C::kInvalidArgument, "order_by");
  list.clear_order_by();
  list.set_page_token("garbage");
  add("bad token", h_.Call(&Stub::ListLedgerEntries, list, &list_resp),
      C::kInvalidArgument, "page_token");
  list.clear_page_token();
  list.set_job_id("-");
  add("all jobs as viewer",
      h_.Call(&Stub::ListLedgerEntries, list, &list_resp, auth::Role::kViewer),
      C::kPermissionDenied, "PERMISSION_DENIED");
  v1::GetCostReportRequest report;
  *report.mutable_period()->mutable_start_time() =
      ToProto(kT0 - absl::Hours(24 * 400));
  v1::GetCostReportResponse report_resp;
  add("report over a year", h_.Call(&Stub::GetCostReport, report, &report_resp),
      C::kInvalidArgument, "period");
  report.clear_period();
  report.set_format(common::v1::EXPORT_FORMAT_JSON);
  add("report as JSON", h_.Call(&Stub::GetCostReport, report, &report_resp),
      C::kInvalidArgument, "format");
  v1::FinalizeJobCostRequest fin;
  fin.set_job_id("j1");
  fin.set_final_state(common::v1::JOB_STATE_TRAINING);
  v1::FinalizeJobCostResponse fin_resp;
  add("finalize while training",
      h_.Call(&Stub::FinalizeJobCost, fin, &fin_resp), C::kInvalidArgument,
      "final_state");

  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), c.code) << c.name << ": " << c.status;
    if (!FieldViolations(c.status).empty()) {
      EXPECT_EQ(FieldOf(c.status), c.field) << c.name << ": " << c.status;
    } else {
      EXPECT_EQ(ErrorReason(c.status), c.field) << c.name << ": " << c.status;
    }
  }
  // Nothing was half-written: one closed meter, one ledger line; card v1.
  list.set_job_id("j1");
  ASSERT_OK(h_.Call(&Stub::ListLedgerEntries, list, &list_resp));
  EXPECT_EQ(list_resp.total_size(), 1);
  ASSERT_OK(h_.Call(&Stub::GetRateCard, v1::GetRateCardRequest(), &card));
  EXPECT_EQ(card.rate_card().version(), 1);
  // A bad cursor ends the stream with INVALID_ARGUMENT naming it.
  grpc::ClientContext ctx;
  testing::TestServer::Authorize(ctx, auth::Role::kViewer);
  v1::WatchBudgetAlertsRequest watch;
  watch.set_cursor("nonsense");
  auto reader = h_.stub().WatchBudgetAlerts(&ctx, watch);
  v1::WatchBudgetAlertsResponse msg;
  EXPECT_FALSE(reader->Read(&msg));
  absl::Status end = FromGrpcStatus(reader->Finish());
  EXPECT_EQ(end.code(), C::kInvalidArgument);
  EXPECT_EQ(FieldOf(end), "cursor");
}

TEST_F(CostServiceTest, R_DASH_06_RateCardVersionsKeepAccruedRates) {
  ASSERT_OK(Register(
      "j1", Config(common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)));
  ASSERT_OK(Open("r1", "j1", 1, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)
                .status());
  v1::GetRateCardResponse card;
  ASSERT_OK(h_.Call(&Stub::GetRateCard, v1::GetRateCardRequest(), &card));
  v1::UpdateRateCardRequest upd;
  *upd.mutable_rate_card() = card.rate_card();
  upd.mutable_rate_card()
      ->mutable_gpu_rates(0)
      ->mutable_spot_hourly()
      ->set_micros(3'000'000);
  upd.mutable_update_mask()->add_paths("gpu_rates");
  v1::UpdateRateCardResponse updated;
  ASSERT_OK(h_.Call(&Stub::UpdateRateCard, upd, &updated, auth::Role::kAdmin));
  EXPECT_EQ(updated.rate_card().version(), 2);
  EXPECT_EQ(updated.rate_card().etag(), "v2");
  h_.clock().Advance(absl::Hours(1));
  // The open meter keeps the rate it opened with (version 1).
  absl::StatusOr<v1::Meter> m = Close("j1.m1", v1::METER_CLOSE_REASON_PAUSED);
  ASSERT_OK(m.status());
  EXPECT_EQ(m->amount().micros(), 2'490'000);
  EXPECT_EQ(m->rate_card_version(), 1);
  ASSERT_OK(Open("r2", "j1", 2, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)
                .status());
  h_.clock().Advance(absl::Hours(1));
  m = Close("j1.m2", v1::METER_CLOSE_REASON_PAUSED);
  ASSERT_OK(m.status());
  EXPECT_EQ(m->amount().micros(), 3'000'000);
  EXPECT_EQ(m->rate_card_version(), 2);
}

TEST_F(CostServiceTest, R_LIST_01_BatchSummariesAndDeleteKeepsReports) {
  for (const char* id : {"a", "b"}) {
    ASSERT_OK(Register(
        id, Config(common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)));
    ASSERT_OK(Open(absl::StrCat(id, "/1"), id, 1,
                   common::v1::COST_PHASE_ACTIVE_COMPUTE,
                   common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)
                  .status());
  }
  h_.clock().Advance(absl::Hours(1));
  v1::BatchGetJobCostsRequest batch;
  for (const char* id : {"b", "zz", "a", "b"}) batch.add_job_ids(id);
  v1::BatchGetJobCostsResponse costs;
  ASSERT_OK(h_.Call(&Stub::BatchGetJobCosts, batch, &costs));
  ASSERT_EQ(costs.costs_size(), 3);
  EXPECT_EQ(costs.costs(0).job_id(), "b");
  EXPECT_EQ(costs.costs(0).spend().micros(), 2'490'000);
  EXPECT_EQ(costs.costs(1).job_id(), "zz");
  EXPECT_FALSE(costs.costs(1).has_spend());
  // Deleting a's data keeps its spend in reports.
  v1::FinalizeJobCostRequest fin;
  fin.set_job_id("a");
  fin.set_final_state(common::v1::JOB_STATE_COMPLETED);
  v1::FinalizeJobCostResponse fin_resp;
  ASSERT_OK(h_.Call(&Stub::FinalizeJobCost, fin, &fin_resp));
  v1::DeleteJobDataRequest del;
  del.set_job_id("a");
  v1::DeleteJobDataResponse deleted;
  ASSERT_OK(h_.Call(&Stub::DeleteJobData, del, &deleted));
  EXPECT_EQ(deleted.deleted_entries(), 1);
  ASSERT_OK(h_.Call(&Stub::DeleteJobData, del, &deleted));  // idempotent
  EXPECT_EQ(deleted.deleted_entries(), 0);
  v1::GetJobCostRequest get;
  get.set_job_id("a");
  v1::GetJobCostResponse got;
  EXPECT_EQ(h_.Call(&Stub::GetJobCost, get, &got).code(),
            absl::StatusCode::kNotFound);
  v1::GetCostReportRequest report;
  report.set_group_by(v1::COST_REPORT_GROUPING_GPU_TYPE);
  v1::GetCostReportResponse rep;
  ASSERT_OK(h_.Call(&Stub::GetCostReport, report, &rep));
  ASSERT_EQ(rep.rows_size(), 1);
  EXPECT_EQ(rep.rows(0).label(), "H100 80GB");
  EXPECT_EQ(rep.rows(0).amount().micros(), 2 * 2'490'000);
  EXPECT_EQ(rep.rows(0).job_count(), 2);
  EXPECT_DOUBLE_EQ(rep.rows(0).gpu_hours(), 2);
  // The finished job's estimate error is reported.
  EXPECT_EQ(rep.estimate_accuracy().job_count(), 1);
  report.set_filter("job_id = b");
  ASSERT_OK(h_.Call(&Stub::GetCostReport, report, &rep));
  EXPECT_EQ(rep.total().micros(), 2'490'000);
}

TEST_F(CostServiceTest, PrometheusMetricsWithoutJobLabelsPassPromtool) {
  ASSERT_OK(Register(
      "j1", Config(common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)));
  v1::SetJobBudgetRequest budget;
  budget.set_job_id("j1");
  budget.mutable_budget()->mutable_limit()->set_micros(1'000'000);
  v1::SetJobBudgetResponse budget_resp;
  ASSERT_OK(h_.Call(&Stub::SetJobBudget, budget, &budget_resp));
  ASSERT_OK(Open("r1", "j1", 1, common::v1::COST_PHASE_ACTIVE_COMPUTE,
                 common::v1::GPU_TYPE_H100_80GB, common::v1::PRICING_SPOT)
                .status());
  ASSERT_OK(Open("r2", "j1", 1, common::v1::COST_PHASE_PAUSED_STORAGE,
                 common::v1::GPU_TYPE_UNSPECIFIED, common::v1::PRICING_SPOT)
                .status());
  h_.clock().Advance(absl::Hours(1));
  ASSERT_OK(Close("j1.m1", v1::METER_CLOSE_REASON_PAUSED).status());
  http::HttpClient admin(h_.server().AdminUrl());
  absl::StatusOr<http::HttpResponse> scrape =
      admin.Send(http::Method::kGet, "/metrics");
  ASSERT_OK(scrape.status());
  const std::string& body = scrape->body;
  EXPECT_NE(
      body.find("trainyard_cost_spend_micros_total{gpu_type=\"h100_80gb\","
                "phase=\"active_compute\",pricing=\"spot\"} 2490000"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find("trainyard_cost_open_meters{phase=\"paused_storage\"} 1"),
            std::string::npos);
  EXPECT_NE(body.find("trainyard_cost_open_meters{phase=\"active_compute\"} 0"),
            std::string::npos);
  EXPECT_NE(
      body.find(
          "trainyard_cost_budget_alerts_total{kind=\"budget_exceeded\"} 1"),
      std::string::npos);
  EXPECT_EQ(body.find("j1"), std::string::npos);  // no job labels
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed";
  }
  testing::TempDir dir;
  std::ofstream(dir.Sub("metrics.txt")) << body;
  const std::string out = dir.Sub("promtool.out");
  const int rc = std::system(("promtool check metrics < " +
                              dir.Sub("metrics.txt") + " > " + out + " 2>&1")
                                 .c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(rc, 0) << text;
  EXPECT_EQ(text, "");
}

}  // namespace
}  // namespace trainyard::cost
