// Copyright 2026 Trainyard authors.
//
// The parts of yardctl that need no server: exit codes and error lines,
// argument splitting, where settings come from, the spec from file and flags,
// and what watch draws. The journeys (tests/e2e) run the binary end to end.
#include <fstream>
#include <map>

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/yardctl/cli.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/completion.h"
#include "tools/yardctl/render.h"
#include "tools/yardctl/spec.h"

namespace trainyard::yardctl {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;
namespace v1 = ::trainyard::common::v1;

TEST(ExitCodes, R_X_08_CodesFollowOrchestrationMd) {
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), 4);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), 4);
  EXPECT_EQ(ExitCodeFor(absl::UnimplementedError("x")), 4);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("x")), 5);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("x")), 5);
}

TEST(ExitCodes, ErrorLineNamesCodeReasonAndFields) {
  absl::Status s = WithReason(absl::FailedPreconditionError("job is COMPLETED"),
                              "JOB_TERMINAL");
  EXPECT_EQ(DescribeError("cancel j1", s),
            "cancel j1: FAILED_PRECONDITION JOB_TERMINAL: job is COMPLETED");
  absl::Status bad = InvalidFieldsError({{"spec.config.gpu_type", "required"},
                                         {"spec.display_name", "too long"}});
  std::string line = DescribeError("submit", bad);
  EXPECT_THAT(line, HasSubstr("spec.config.gpu_type: required"));
  EXPECT_THAT(line, HasSubstr("spec.display_name: too long"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Arguments, PositionalApartFromFlagValuesAndBooleans) {
  Args args("yardctl cancel");
  std::string reason;
  bool wait = false;
  args.flags().AddString("reason", "", &reason);
  args.AddBool("wait", "", &wait);
  ASSERT_OK(args.Parse({"--reason", "testing", "--wait", "job-1"}));
  EXPECT_EQ(reason, "testing");
  EXPECT_TRUE(wait);
  EXPECT_THAT(args.positional(), ::testing::ElementsAre("job-1"));
}

std::map<std::string, std::string>* g_env = nullptr;
std::string FakeEnv(const char* name) {
  auto it = g_env->find(name);
  return it == g_env->end() ? "" : it->second;
}

TEST(Settings, FlagThenEnvironmentThenConfigFileThenDefault) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("tokens")) << "t-eng engineer-local engineer\n"
                                   << "t-mgr manager-local manager\n";
  std::ofstream(dir.Sub("yardctl.conf"))
      << "endpoint = file:1\nmetrics_endpoint = file:3\ntoken = t-file\n"
      << "tokens_file = " << dir.Sub("tokens") << "\n";
  std::map<std::string, std::string> env = {
      {"TRAINYARD_CONFIG", dir.Sub("yardctl.conf")},
      {"TRAINYARD_ENDPOINT", "env:1"},
      {"TRAINYARD_METRICS_ENDPOINT", ""}};
  g_env = &env;
  {
    Cli cli(&FakeEnv);
    Args args("yardctl get");
    cli.AddGlobalFlags(args);
    ASSERT_OK(args.Parse({"--cost-endpoint", "flag:4", "j"}));
    ASSERT_OK(cli.Resolve());
    EXPECT_EQ(cli.connection().endpoint, "env:1");
    EXPECT_EQ(cli.connection().metrics_endpoint, "file:3");
    EXPECT_EQ(cli.connection().cost_endpoint, "flag:4");
    EXPECT_EQ(cli.connection().scheduler_endpoint, "127.0.0.1:7102");
    EXPECT_EQ(cli.connection().token, "t-file");
  }
  {
    Cli cli(&FakeEnv);
    Args args("yardctl get");
    cli.AddGlobalFlags(args);
    ASSERT_OK(args.Parse({"--endpoint=flag:1", "--as", "manager"}));
    ASSERT_OK(cli.Resolve());
    EXPECT_EQ(cli.connection().endpoint, "flag:1");
    EXPECT_EQ(cli.connection().token, "t-mgr");
  }
  {
    Cli cli(&FakeEnv);
    Args args("yardctl get");
    cli.AddGlobalFlags(args);
    ASSERT_OK(args.Parse({"--as", "admin"}));
    EXPECT_THAT(cli.Resolve(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("no token of role \"admin\"")));
  }
  g_env = nullptr;
}

// R-DASH-08: `curve --export png -o loss.png` names the file; commands that
// write no file still take only formats.
// --metrics-endpoint lists the metrics shards in order: each job's calls go
// to its shard (common/shard: "job-1" is shard 0's of 2, "job-2" shard 1's).
TEST(Settings, MetricsEndpointListRoutesByJobShard) {
  std::map<std::string, std::string> env;
  g_env = &env;
  Cli cli(&FakeEnv);
  Args args("yardctl events");
  cli.AddGlobalFlags(args);
  ASSERT_OK(args.Parse({"--metrics-endpoint", "127.0.0.1:1,127.0.0.1:2"}));
  ASSERT_OK(cli.Resolve());
  EXPECT_EQ(cli.Metrics("job-1"), cli.Metrics("job-7f3a"));
  EXPECT_NE(cli.Metrics("job-1"), cli.Metrics("job-2"));

  Cli bad(&FakeEnv);
  Args bad_args("yardctl events");
  bad.AddGlobalFlags(bad_args);
  ASSERT_OK(bad_args.Parse({"--metrics-endpoint", "127.0.0.1:1,"}));
  EXPECT_THAT(bad.Resolve(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("metrics-endpoint")));
}

TEST(Settings, R_DASH_08_OutputNamesAFileOnlyWhereAccepted) {
  std::map<std::string, std::string> env;
  g_env = &env;
  {
    Cli cli(&FakeEnv);
    Args args("yardctl curve");
    args.AcceptOutputFile();
    cli.AddGlobalFlags(args);
    ASSERT_OK(args.Parse({"j", "-o", "loss.png"}));
    ASSERT_OK(cli.Resolve());
    EXPECT_EQ(cli.output_file(), "loss.png");
    EXPECT_EQ(cli.output(), "table");
  }
  {
    Cli cli(&FakeEnv);
    Args args("yardctl get");
    cli.AddGlobalFlags(args);
    ASSERT_OK(args.Parse({"j", "-o", "loss.png"}));
    EXPECT_THAT(cli.Resolve(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("not table, json or csv")));
  }
  g_env = nullptr;
}

TEST(Spec, FileThenFlagsOverride) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("job.json")) << R"({
    "displayName": "from-file",
    "config": {"preset": "PRESET_CONSERVATIVE", "baseModel": "m",
               "dataset": {"uri": "s3://d", "conversations": "100"},
               "gpuType": "GPU_TYPE_L40S"},
    "tags": ["a"]})";
  SpecFlags f;
  f.file = dir.Sub("job.json");
  f.gpu = "h100_80gb";
  f.on_demand = true;
  f.budget = "$49.99";
  f.budget_action = "pause";
  f.epochs = 2;
  auto spec = BuildSpec(f);
  ASSERT_OK(spec.status());
  EXPECT_EQ(spec->display_name(), "from-file");
  EXPECT_EQ(spec->config().preset(), v1::PRESET_CONSERVATIVE);
  EXPECT_EQ(spec->config().gpu_type(), v1::GPU_TYPE_H100_80GB);
  EXPECT_EQ(spec->config().pricing(), v1::PRICING_ON_DEMAND);
  EXPECT_EQ(spec->budget().limit().micros(), 49'990'000);
  EXPECT_EQ(spec->budget().action(), v1::BUDGET_ACTION_PAUSE);
  EXPECT_EQ(spec->config().hyperparameters().epochs(), 2);
  EXPECT_FALSE(spec->config().hyperparameters().has_lora_rank());
  EXPECT_THAT(spec->tags(), ::testing::ElementsAre("a"));
}

TEST(Spec, BadInputNamesTheFlagOrFile) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("typo.json")) << R"({"displayNme": "x"})";
  SpecFlags f;
  f.file = dir.Sub("typo.json");
  EXPECT_THAT(BuildSpec(f), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("typo.json")));
  SpecFlags g;
  g.gpu = "h200";
  EXPECT_THAT(BuildSpec(g),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--gpu: \"h200\" is not one of h100_80gb")));
  EXPECT_THAT(
      ParseDollars("12.3.4", "--budget"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--budget")));
  EXPECT_THAT(ParseDollars("0.5", "--budget"), IsOkAndHolds(500'000));
}

TEST(Render, R_DASH_01_PlainLineAndPanel) {
  JobView v;
  v.job.set_job_id("job-1");
  v.job.set_state(v1::JOB_STATE_TRAINING);
  v.job.mutable_spec()->set_display_name("bot");
  v.progress.set_step(450);
  v.progress.set_total_steps(1000);
  v.progress.set_percent(45);
  v.progress.mutable_estimated_remaining()->set_seconds(720);
  v.stages.set_current_stage(v1::STAGE_TRAINING);
  v.metrics.mutable_train_loss()->set_value(0.3421);
  v.metrics.mutable_train_loss()->set_trend(v1::TREND_IMPROVING);
  v.job.mutable_cost()->mutable_spend()->set_currency_code("USD");
  v.job.mutable_cost()->mutable_spend()->set_micros(22'180'000);
  v.job.mutable_cost()->set_level(v1::COST_LEVEL_GREEN);
  for (double x : {1.0, 0.8, 0.5, 0.3}) AddLossPoint(v, x);
  EXPECT_EQ(PlainLine(v),
            "job-1 TRAINING stage=TRAINING step=450/1000 (45%) loss=0.342 "
            "spend=$22.18");
  std::vector<std::string> panel = PanelLines(v, /*color=*/false);
  ASSERT_EQ(panel.size(), 4u);
  EXPECT_THAT(panel[1], HasSubstr("step 450/1000"));
  EXPECT_THAT(panel[1], HasSubstr("ETA 12m00s"));
  EXPECT_THAT(panel[2], HasSubstr("loss 0.3421 ↓"));
  EXPECT_THAT(panel[2], HasSubstr("█▆▃▁"));
  EXPECT_THAT(panel[3], HasSubstr("spend $22.18"));
  EXPECT_THAT(panel[3], HasSubstr("GREEN"));
  EXPECT_EQ(ProgressBar(50, 4), "[██░░]");
}

TEST(Help, EveryCommandHasAnExampleAndCompletion) {
  std::vector<Command> commands = AllCommands();
  std::string completion = BashCompletion(commands);
  for (const char* name :
       {"submit", "get", "list", "watch", "cancel", "pause", "resume", "retry",
        "delete", "events", "curve", "queue", "promote", "approve", "deny",
        "cost", "rates"}) {
    auto it = std::find_if(commands.begin(), commands.end(),
                           [&](const Command& c) { return c.name == name; });
    ASSERT_NE(it, commands.end()) << name;
    EXPECT_THAT(it->usage, HasSubstr(absl::StrCat("yardctl ", name))) << name;
    EXPECT_THAT(completion, HasSubstr(absl::StrCat("    ", name, ") flags=")));
  }
  EXPECT_THAT(completion, HasSubstr("--from-stage"));
  EXPECT_THAT(completion, HasSubstr("complete -F _yardctl yardctl"));
}

}  // namespace
}  // namespace trainyard::yardctl
