// Copyright 2026 Trainyard authors.
//
// Commands on jobs (JobService): submit, get, list, cancel, pause, resume,
// retry, delete.
#include <cstdio>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/follow.h"
#include "tools/yardctl/format.h"
#include "tools/yardctl/spec.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::yardctl {
namespace {

namespace v1 = ::trainyard::common::v1;
using jobs::v1::Job;
using jobs::v1::JobService;

using Runner = std::function<int(Cli&, const Args&)>;

// The single JOB_ID argument most commands take.
bool OneJob(const Args& args, std::string& job_id) {
  if (args.positional().size() != 1) return false;
  job_id = args.positional()[0];
  return true;
}

// Retries a call that carries a request_id while the server is unreachable
// (safe: the request_id makes it idempotent), for at most the call timeout.
template <typename Call>
grpc::Status WithRetry(const Cli& cli, Call call) {
  absl::Time give_up = absl::Now() + cli.connection().timeout;
  absl::Duration backoff = absl::Milliseconds(200);
  while (true) {
    auto ctx = cli.Context();
    grpc::Status s = call(ctx.get());
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE ||
        absl::Now() + backoff > give_up) {
      return s;
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

// Prints the job as -o asks: its id (table), or JSON.
void PrintJobId(const Cli& cli, const Job& job) {
  if (cli.output() == "json") {
    std::printf("%s\n", ToJson(job).c_str());
  } else {
    std::printf("%s\n", job.job_id().c_str());
  }
  std::fflush(stdout);
}

void PrintJobDetail(const Job& j) {
  const v1::TrainingConfig& c = j.spec().config();
  const v1::Hyperparameters& h = c.hyperparameters();
  auto line = [](const std::string& k, const std::string& v) {
    std::printf("%-14s %.*s\n", std::string(k).c_str(),
                static_cast<int>(v.size()), v.data());
  };
  line("job", j.job_id());
  line("name", j.spec().display_name());
  line("state",
       absl::StrCat(StateName(j.state()), j.state_message().empty() ? "" : "  ",
                    j.state_message()));
  line("config",
       absl::StrFormat("%s, %s x%d %s, rank %d alpha %d lr %g, %d epochs, "
                       "batch %d x%d",
                       PresetName(c.preset()), GpuName(c.gpu_type()),
                       c.gpu_count(), PricingName(c.pricing()), h.lora_rank(),
                       h.lora_alpha(), h.learning_rate(), h.epochs(),
                       h.batch_size(), h.gradient_accumulation_steps()));
  line("model", c.base_model());
  line("dataset", absl::StrCat(c.dataset().uri(), " (",
                               c.dataset().conversations(), " conversations)"));
  line("created", absl::StrCat(FormatTime(j.create_time()), " by ",
                               j.created_by().user_id()));
  line("started", FormatTime(j.start_time()));
  if (j.has_end_time()) line("ended", FormatTime(j.end_time()));
  line("progress",
       absl::StrFormat("step %d/%d (%.1f%%), attempt %d", j.progress().step(),
                       j.progress().total_steps() > 0
                           ? j.progress().total_steps()
                           : c.total_steps(),
                       j.progress().percent(), j.attempt()));
  line("time", absl::StrCat("active ", FormatDuration(j.active_time()),
                            ", paused ", FormatDuration(j.paused_time())));
  line("cost",
       absl::StrCat("spend ", FormatMoney(j.cost().spend()), ", estimate ",
                    FormatMoney(j.cost().estimate().low()), "–",
                    FormatMoney(j.cost().estimate().high()), ", projected ",
                    FormatMoney(j.cost().projected_final()),
                    j.cost().final() ? " (final)" : ""));
  if (j.spec().has_budget()) {
    line("budget",
         absl::StrCat(
             FormatMoney(j.spec().budget().limit()), ", then ",
             ShortEnumName(v1::BudgetAction_Name(j.spec().budget().action()),
                           "BUDGET_ACTION_")));
  }
  if (j.has_pause()) {
    line("paused", absl::StrCat("at step ", j.pause().paused_at_step(), " (",
                                j.pause_cycles(), " cycles)"));
  }
  if (j.has_failure()) {
    line("failure", absl::StrCat(j.failure().code(), " in ",
                                 StageName(j.failure().stage()), ": ",
                                 j.failure().message()));
  }
  if (j.has_cancellation()) {
    line("cancelled",
         absl::StrCat(ShortEnumName(jobs::v1::CancelReason_Name(
                                        j.cancellation().reason()),
                                    "CANCEL_REASON_"),
                      " by ", j.cancellation().cancelled_by().user_id()));
  }
  if (!j.spec().tags().empty())
    line("tags", absl::StrJoin(j.spec().tags(), ", "));
  line("artifacts", absl::StrCat(j.artifacts_size()));
}

// --wait / --watch after a command that set a job going.
int FollowIf(Cli& cli, const std::string& job_id, bool wait, bool watch) {
  if (!wait && !watch) return kExitOk;
  FollowOptions opts;
  opts.progress = watch;
  return FollowJob(cli, job_id, opts);
}

Command Submit() {
  return {
      "submit", "submit a job (prints its id); --wait for CI",
      "yardctl submit -f job.json --wait\n"
      "yardctl submit --name support-bot --preset balanced --gpu h100_80gb "
      "--spot \\\n"
      "    --model meta-llama/Meta-Llama-3-8B --dataset s3://data/chats.jsonl "
      "--conversations 2000 --watch\n"
      "Exit codes with --wait: 0 completed, 1 failed, 2 cancelled.",
      [](Args& args) -> Runner {
        struct State {
          SpecFlags spec;
          bool wait = false, watch = false, validate_only = false;
          std::string request_id;
        };
        auto st = std::make_shared<State>();
        config::FlagSet& f = args.flags();
        f.AddString("f", "JSON file with a JobSpec (protobuf JSON names)",
                    &st->spec.file);
        f.AddString("name", "display name", &st->spec.name);
        f.AddString("preset", "conservative, balanced, aggressive or custom",
                    &st->spec.preset);
        f.AddString("gpu", "h100_80gb, a100_80gb, l40s, rtx_a6000, rtx_4090",
                    &st->spec.gpu);
        f.AddInt("gpu-count", "GPUs per pod", &st->spec.gpu_count);
        args.AddBool("spot", "spot pricing (the default)", &st->spec.spot);
        args.AddBool("on-demand", "on-demand pricing", &st->spec.on_demand);
        f.AddString("budget", "spending limit in dollars", &st->spec.budget);
        f.AddString("budget-action", "alert, pause or cancel",
                    &st->spec.budget_action);
        f.AddString("model", "base model (Hugging Face id)", &st->spec.model);
        f.AddString("dataset", "dataset URI", &st->spec.dataset);
        f.AddInt("conversations", "conversations in the dataset",
                 &st->spec.conversations);
        f.AddInt("dataset-tokens", "total tokens in the dataset",
                 &st->spec.dataset_tokens);
        f.AddInt("epochs", "epochs (overrides the preset)", &st->spec.epochs);
        f.AddDouble("lr", "learning rate (overrides the preset)",
                    &st->spec.learning_rate);
        f.AddInt("rank", "LoRA rank (overrides the preset)",
                 &st->spec.lora_rank);
        f.AddInt("batch-size", "per-device batch size", &st->spec.batch_size);
        f.AddInt("grad-accum", "gradient accumulation steps",
                 &st->spec.grad_accum);
        f.AddString("tags", "comma-separated tags", &st->spec.tags);
        f.AddString("notes", "free text", &st->spec.notes);
        args.AddBool("wait", "block until the job ends; exit 0/1/2", &st->wait);
        args.AddBool("watch", "show progress until the job ends", &st->watch);
        args.AddBool("validate-only",
                     "validate and estimate without submitting",
                     &st->validate_only);
        f.AddString("request-id", "idempotency key (default: random)",
                    &st->request_id);
        return [st](Cli& cli, const Args& args) {
          if (!args.positional().empty()) {
            return cli.Usage(
                "submit takes no arguments (the spec is -f or flags)");
          }
          auto spec = BuildSpec(st->spec);
          if (!spec.ok()) return cli.Fail("submit", spec.status());
          jobs::v1::CreateJobRequest req;
          *req.mutable_spec() = *spec;
          req.set_request_id(st->request_id.empty() ? NewRequestId()
                                                    : st->request_id);
          req.set_validate_only(st->validate_only);
          jobs::v1::CreateJobResponse resp;
          auto stub = JobService::NewStub(cli.Jobs());
          grpc::Status s = WithRetry(cli, [&](grpc::ClientContext* ctx) {
            return stub->CreateJob(ctx, req, &resp);
          });
          if (!s.ok()) return cli.Fail("submit", s);
          for (const std::string& w : resp.warnings()) {
            std::fprintf(stderr, "warning: %s\n", w.c_str());
          }
          if (st->validate_only) {
            const Job& j = resp.job();
            std::printf("valid: %d total steps, estimate %s–%s\n",
                        static_cast<int>(j.spec().config().total_steps()),
                        FormatMoney(j.cost().estimate().low()).c_str(),
                        FormatMoney(j.cost().estimate().high()).c_str());
            return static_cast<int>(kExitOk);
          }
          PrintJobId(cli, resp.job());
          return FollowIf(cli, resp.job().job_id(), st->wait, st->watch);
        };
      }};
}

Command Get() {
  return {
      "get", "show one job", "yardctl get JOB_ID\nyardctl get JOB_ID -o json",
      [](Args&) -> Runner {
        return [](Cli& cli, const Args& args) {
          std::string id;
          if (!OneJob(args, id)) return cli.Usage("get needs one JOB_ID");
          jobs::v1::GetJobRequest req;
          req.set_job_id(id);
          jobs::v1::GetJobResponse resp;
          auto ctx = cli.Context();
          grpc::Status s =
              JobService::NewStub(cli.Jobs())->GetJob(ctx.get(), req, &resp);
          if (!s.ok()) return cli.Fail("get " + id, s);
          if (cli.output() == "table") {
            PrintJobDetail(resp.job());
          } else {
            std::printf("%s\n", ToJson(resp.job(), true).c_str());
          }
          return static_cast<int>(kExitOk);
        };
      }};
}

Command List() {
  return {
      "list", "list jobs with filters and sort, like the API",
      "yardctl list --state training,queued --order-by 'cost desc'\n"
      "yardctl list --filter 'gpu_type = H100_80GB AND cost > 50' -o csv",
      [](Args& args) -> Runner {
        struct State {
          std::string filter, keyword, order_by, state, page_token;
          int64_t page_size = 25;
          bool all = false;
        };
        auto st = std::make_shared<State>();
        config::FlagSet& f = args.flags();
        f.AddString("filter", "AIP-160 filter (see ListJobsRequest.filter)",
                    &st->filter);
        f.AddString("state", "comma-separated states (an OR group)",
                    &st->state);
        f.AddString("keyword", "search in name, notes and tags", &st->keyword);
        f.AddString("order-by", "e.g. 'create_time desc', 'cost asc'",
                    &st->order_by);
        f.AddInt("page-size", "jobs per page (1..100)", &st->page_size);
        f.AddString("page-token", "from the previous page", &st->page_token);
        args.AddBool("all", "every page", &st->all);
        return [st](Cli& cli, const Args& args) {
          if (!args.positional().empty())
            return cli.Usage("list takes no arguments");
          jobs::v1::ListJobsRequest req;
          std::string filter = st->filter;
          if (!st->state.empty()) {
            std::vector<std::string> terms;
            std::vector<std::string> states = absl::StrSplit(st->state, ',');
            for (const std::string& s : states) {
              terms.push_back(
                  absl::StrCat("state = ", absl::AsciiStrToUpper(s)));
            }
            std::string group =
                absl::StrCat("(", absl::StrJoin(terms, " OR "), ")");
            filter =
                filter.empty() ? group : absl::StrCat(filter, " AND ", group);
          }
          req.set_filter(filter);
          req.set_keyword(st->keyword);
          req.set_order_by(st->order_by);
          req.set_page_size(static_cast<int32_t>(st->page_size));
          req.set_page_token(st->page_token);
          std::vector<jobs::v1::ListJobsResponse> pages;
          auto stub = JobService::NewStub(cli.Jobs());
          do {
            jobs::v1::ListJobsResponse resp;
            auto ctx = cli.Context();
            grpc::Status s = stub->ListJobs(ctx.get(), req, &resp);
            if (!s.ok()) return cli.Fail("list", s);
            req.set_page_token(resp.next_page_token());
            pages.push_back(std::move(resp));
          } while (st->all && !req.page_token().empty());
          Table t;
          t.header = {"JOB",      "NAME",     "STATE",      "PRESET",
                      "GPU",      "PRICING",  "CREATED BY", "STARTED",
                      "DURATION", "PROGRESS", "COST"};
          for (const auto& page : pages) {
            for (const Job& j : page.jobs()) {
              const v1::TrainingConfig& c = j.spec().config();
              t.rows.push_back(
                  {j.job_id(), j.spec().display_name(), StateName(j.state()),
                   PresetName(c.preset()), GpuName(c.gpu_type()),
                   PricingName(c.pricing()), j.created_by().user_id(),
                   FormatTime(j.start_time()), FormatDuration(j.duration()),
                   absl::StrFormat("%.0f%%", j.progress().percent()),
                   FormatMoney(j.cost().spend())});
              t.messages.push_back(&j);
            }
          }
          PrintTable(t, cli.output());
          const auto& last = pages.back();
          if (cli.output() == "table") {
            std::fprintf(stderr, "%d %s%s\n", last.total_size(),
                         last.total_size() == 1 ? "job matches" : "jobs match",
                         last.next_page_token().empty()
                             ? ""
                             : absl::StrCat("; next page: --page-token ",
                                            last.next_page_token())
                                   .c_str());
          }
          return static_cast<int>(kExitOk);
        };
      }};
}

Command Cancel() {
  return {
      "cancel", "cancel a job (reason required)",
      "yardctl cancel JOB_ID --reason testing\n"
      "yardctl cancel JOB_ID --reason other --reason-text 'dataset v2 is out' "
      "--wait\n"
      "Reasons: loss_not_decreasing, cost_too_high, wrong_configuration, "
      "testing, better_results_elsewhere, client_request, other.",
      [](Args& args) -> Runner {
        struct State {
          std::string reason, reason_text, notes;
          bool wait = false;
        };
        auto st = std::make_shared<State>();
        config::FlagSet& f = args.flags();
        f.AddString("reason", "why (the reasons are listed above)",
                    &st->reason);
        f.AddString("reason-text", "text for --reason other", &st->reason_text);
        f.AddString("notes", "notes for the audit trail (<= 500 chars)",
                    &st->notes);
        args.AddBool("wait", "block until CANCELLED (exit 2)", &st->wait);
        return [st](Cli& cli, const Args& args) {
          std::string id;
          if (!OneJob(args, id)) return cli.Usage("cancel needs one JOB_ID");
          if (st->reason.empty()) {
            return cli.Usage(
                "cancel: --reason is required (loss_not_decreasing, "
                "cost_too_high, wrong_configuration, testing, "
                "better_results_elsewhere, client_request, other)");
          }
          auto reason = ParseEnum(jobs::v1::CancelReason_descriptor(),
                                  "CANCEL_REASON_", st->reason, "--reason");
          if (!reason.ok()) return cli.Fail("cancel", reason.status());
          jobs::v1::CancelJobRequest req;
          req.set_job_id(id);
          req.set_reason(static_cast<jobs::v1::CancelReason>(*reason));
          req.set_reason_text(st->reason_text);
          req.set_notes(st->notes);
          req.set_request_id(NewRequestId());
          jobs::v1::CancelJobResponse resp;
          auto stub = JobService::NewStub(cli.Jobs());
          grpc::Status s = WithRetry(cli, [&](grpc::ClientContext* ctx) {
            return stub->CancelJob(ctx, req, &resp);
          });
          if (!s.ok()) return cli.Fail("cancel " + id, s);
          std::printf("%s\n", resp.toast_message().empty()
                                  ? StateName(resp.job().state()).c_str()
                                  : resp.toast_message().c_str());
          std::fflush(stdout);
          return st->wait ? FollowIf(cli, id, true, false)
                          : static_cast<int>(kExitOk);
        };
      }};
}

Command Pause() {
  return {"pause", "pause a training job at a checkpoint",
          "yardctl pause JOB_ID --wait", [](Args& args) -> Runner {
            struct State {
              std::string notes;
              bool wait = false;
            };
            auto st = std::make_shared<State>();
            args.flags().AddString("notes", "notes for the audit trail",
                                   &st->notes);
            args.AddBool("wait", "block until PAUSED", &st->wait);
            return [st](Cli& cli, const Args& args) {
              std::string id;
              if (!OneJob(args, id)) return cli.Usage("pause needs one JOB_ID");
              jobs::v1::PauseJobRequest req;
              req.set_job_id(id);
              req.set_notes(st->notes);
              req.set_request_id(NewRequestId());
              jobs::v1::PauseJobResponse resp;
              auto stub = JobService::NewStub(cli.Jobs());
              grpc::Status s = WithRetry(cli, [&](grpc::ClientContext* ctx) {
                return stub->PauseJob(ctx, req, &resp);
              });
              if (!s.ok()) return cli.Fail("pause " + id, s);
              std::printf("%s %s\n", id.c_str(),
                          StateName(resp.job().state()).c_str());
              std::fflush(stdout);
              if (!st->wait) return static_cast<int>(kExitOk);
              FollowOptions opts;
              opts.progress = false;
              opts.until = [](const Job& j) {
                return j.state() == v1::JOB_STATE_PAUSED;
              };
              return FollowJob(cli, id, opts);
            };
          }};
}

// --gpu and --spot/--on-demand of resume and retry.
struct Hardware {
  std::string gpu;
  bool spot = false, on_demand = false;

  void Declare(Args& args) {
    args.flags().AddString("gpu", "switch GPU type", &gpu);
    args.AddBool("spot", "switch to spot pricing", &spot);
    args.AddBool("on-demand", "switch to on-demand pricing", &on_demand);
  }
  // Sets gpu_type / pricing on `req` when asked.
  template <typename Req>
  absl::Status Apply(Req& req) const {
    if (!gpu.empty()) {
      auto g = ParseEnum(v1::GpuType_descriptor(), "GPU_TYPE_", gpu, "--gpu");
      if (!g.ok()) return g.status();
      req.set_gpu_type(static_cast<v1::GpuType>(*g));
    }
    if (spot && on_demand) {
      return absl::InvalidArgumentError(
          "--spot and --on-demand exclude each other");
    }
    if (spot) req.set_pricing(v1::PRICING_SPOT);
    if (on_demand) req.set_pricing(v1::PRICING_ON_DEMAND);
    return absl::OkStatus();
  }
};

Command Resume() {
  return {"resume", "resume a paused job, optionally on another GPU or pricing",
          "yardctl resume JOB_ID\nyardctl resume JOB_ID --gpu a100_80gb --spot "
          "--validate-only",
          [](Args& args) -> Runner {
            struct State {
              Hardware hw;
              bool validate_only = false, wait = false, watch = false;
            };
            auto st = std::make_shared<State>();
            st->hw.Declare(args);
            args.AddBool("validate-only", "only show the estimate",
                         &st->validate_only);
            args.AddBool("wait", "block until the job ends", &st->wait);
            args.AddBool("watch", "show progress until the job ends",
                         &st->watch);
            return [st](Cli& cli, const Args& args) {
              std::string id;
              if (!OneJob(args, id))
                return cli.Usage("resume needs one JOB_ID");
              jobs::v1::ResumeJobRequest req;
              req.set_job_id(id);
              req.set_validate_only(st->validate_only);
              req.set_request_id(NewRequestId());
              if (absl::Status s = st->hw.Apply(req); !s.ok()) {
                return cli.Fail("resume", s);
              }
              jobs::v1::ResumeJobResponse resp;
              auto stub = JobService::NewStub(cli.Jobs());
              grpc::Status s = WithRetry(cli, [&](grpc::ClientContext* ctx) {
                return stub->ResumeJob(ctx, req, &resp);
              });
              if (!s.ok()) return cli.Fail("resume " + id, s);
              std::printf(
                  "%s %s: from step %d (%.1f%%), %d steps left, ~%s, about "
                  "%s–%s more at %s/h\n",
                  id.c_str(), StateName(resp.job().state()).c_str(),
                  static_cast<int>(resp.resume_from_step()),
                  resp.resume_from_percent(),
                  static_cast<int>(resp.remaining_steps()),
                  FormatDuration(resp.estimated_remaining()).c_str(),
                  FormatMoney(resp.estimated_additional_cost().low()).c_str(),
                  FormatMoney(resp.estimated_additional_cost().high()).c_str(),
                  FormatMoney(resp.hourly_rate()).c_str());
              for (const std::string& w : resp.warnings()) {
                std::fprintf(stderr, "warning: %s\n", w.c_str());
              }
              std::fflush(stdout);
              if (st->validate_only) return static_cast<int>(kExitOk);
              return FollowIf(cli, id, st->wait, st->watch);
            };
          }};
}

Command Retry() {
  return {
      "retry", "retry a failed job from a stage",
      "yardctl retry JOB_ID --from-stage training --wait\n"
      "yardctl retry JOB_ID --from-stage training --gpu h100_80gb  # after an "
      "OOM",
      [](Args& args) -> Runner {
        struct State {
          std::string stage;
          Hardware hw;
          bool validate_only = false, wait = false, watch = false;
        };
        auto st = std::make_shared<State>();
        args.flags().AddString(
            "from-stage",
            "preprocessing, model_loading, training or finalization",
            &st->stage);
        st->hw.Declare(args);
        args.AddBool("validate-only", "only show the estimate",
                     &st->validate_only);
        args.AddBool("wait", "block until the job ends", &st->wait);
        args.AddBool("watch", "show progress until the job ends", &st->watch);
        return [st](Cli& cli, const Args& args) {
          std::string id;
          if (!OneJob(args, id)) return cli.Usage("retry needs one JOB_ID");
          if (st->stage.empty()) {
            return cli.Usage(
                "retry: --from-stage is required (see `yardctl get "
                "JOB_ID` for the failure)");
          }
          auto stage = ParseEnum(v1::Stage_descriptor(), "STAGE_", st->stage,
                                 "--from-stage");
          if (!stage.ok()) return cli.Fail("retry", stage.status());
          jobs::v1::RetryJobRequest req;
          req.set_job_id(id);
          req.set_from_stage(static_cast<v1::Stage>(*stage));
          req.set_validate_only(st->validate_only);
          req.set_request_id(NewRequestId());
          if (absl::Status s = st->hw.Apply(req); !s.ok()) {
            return cli.Fail("retry", s);
          }
          jobs::v1::RetryJobResponse resp;
          auto stub = JobService::NewStub(cli.Jobs());
          grpc::Status s = WithRetry(cli, [&](grpc::ClientContext* ctx) {
            return stub->RetryJob(ctx, req, &resp);
          });
          if (!s.ok()) return cli.Fail("retry " + id, s);
          std::printf(
              "%s %s: attempt %d from step %d, ~%s, about %s–%s more\n",
              id.c_str(), StateName(resp.job().state()).c_str(),
              resp.job().attempt(), static_cast<int>(resp.resume_from_step()),
              FormatDuration(resp.estimated_remaining()).c_str(),
              FormatMoney(resp.estimated_additional_cost().low()).c_str(),
              FormatMoney(resp.estimated_additional_cost().high()).c_str());
          std::fflush(stdout);
          if (st->validate_only) return static_cast<int>(kExitOk);
          return FollowIf(cli, id, st->wait, st->watch);
        };
      }};
}

Command Delete() {
  return {
      "delete", "delete a finished job (gone from lists, data purged)",
      "yardctl delete JOB_ID", [](Args&) -> Runner {
        return [](Cli& cli, const Args& args) {
          std::string id;
          if (!OneJob(args, id)) return cli.Usage("delete needs one JOB_ID");
          jobs::v1::DeleteJobRequest req;
          req.set_job_id(id);
          jobs::v1::DeleteJobResponse resp;
          auto ctx = cli.Context();
          grpc::Status s =
              JobService::NewStub(cli.Jobs())->DeleteJob(ctx.get(), req, &resp);
          if (!s.ok()) return cli.Fail("delete " + id, s);
          std::printf("%s deleted\n", id.c_str());
          return static_cast<int>(kExitOk);
        };
      }};
}

}  // namespace

void AddJobCommands(std::vector<Command>& out) {
  for (Command c : {Submit(), Get(), List(), Cancel(), Pause(), Resume(),
                    Retry(), Delete()}) {
    out.push_back(std::move(c));
  }
}

}  // namespace trainyard::yardctl
