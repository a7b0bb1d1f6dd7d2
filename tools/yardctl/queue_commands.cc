// Copyright 2026 Trainyard authors.
//
// Commands on the queue (SchedulerService): queue, promote, approve, deny.
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/format.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace trainyard::yardctl {
namespace {

namespace v1 = ::trainyard::common::v1;
namespace sv1 = ::trainyard::scheduler::v1;
using Runner = std::function<int(Cli&, const Args&)>;
using sv1::SchedulerService;

std::string ConfidenceName(sv1::Confidence c) {
  return ShortEnumName(sv1::Confidence_Name(c), "CONFIDENCE_");
}

Command Queue() {
  return {
      "queue",
      "the queue: slots in use, queued jobs with position, ETA and confidence",
      "yardctl queue\nyardctl queue --analytics\nyardctl queue -o json",
      [](Args& args) -> Runner {
        auto analytics = std::make_shared<bool>(false);
        args.AddBool("analytics",
                     "also waits, throughput and estimate accuracy",
                     analytics.get());
        return [analytics](Cli& cli, const Args& args) {
          if (!args.positional().empty())
            return cli.Usage("queue takes no arguments");
          auto stub = SchedulerService::NewStub(cli.Scheduler());
          sv1::ListActiveSlotsResponse slots;
          sv1::ListQueueEntriesResponse queue;
          {
            auto ctx = cli.Context();
            grpc::Status s = stub->ListActiveSlots(
                ctx.get(), sv1::ListActiveSlotsRequest(), &slots);
            if (!s.ok()) return cli.Fail("queue", s);
          }
          {
            sv1::ListQueueEntriesRequest req;
            req.set_page_size(500);
            auto ctx = cli.Context();
            grpc::Status s = stub->ListQueueEntries(ctx.get(), req, &queue);
            if (!s.ok()) return cli.Fail("queue", s);
          }
          if (cli.output() == "json") {
            std::printf("{\"slots\": %s,\n \"queue\": %s}\n",
                        ToJson(slots).c_str(), ToJson(queue).c_str());
          } else {
            if (cli.output() == "table") {
              std::printf("Slots %d of %d in use\n", slots.used_slots(),
                          slots.concurrency_limit());
              for (const sv1::Slot& s : slots.slots()) {
                std::printf(
                    "  #%d %s \"%s\" %s %.0f%% done at %s\n", s.slot_index(),
                    s.job_id().c_str(), s.display_name().c_str(),
                    StateName(s.job_state()).c_str(), s.progress().percent(),
                    FormatTime(s.progress().estimated_completion_time())
                        .c_str());
              }
              std::printf("Queued: %d\n", queue.total_size());
            }
            Table t;
            t.header = {"POS",        "JOB",      "NAME",      "BY",
                        "GPU",        "PRICING",  "EST START", "WAIT",
                        "CONFIDENCE", "PROMOTION"};
            for (const sv1::QueueEntry& e : queue.entries()) {
              t.rows.push_back(
                  {absl::StrCat(e.position()), e.job_id(), e.display_name(),
                   e.created_by().user_id(), GpuName(e.config().gpu_type()),
                   PricingName(e.config().pricing()),
                   FormatTime(e.estimated_start_time()),
                   FormatDuration(e.estimated_wait()),
                   ConfidenceName(e.confidence()),
                   e.promoted()
                       ? "promoted"
                       : (e.pending_promotion_id().empty()
                              ? ""
                              : "pending " + e.pending_promotion_id())});
            }
            PrintTable(t, cli.output());
          }
          if (!*analytics) return static_cast<int>(kExitOk);
          sv1::GetQueueAnalyticsResponse a;
          auto ctx = cli.Context();
          grpc::Status s = stub->GetQueueAnalytics(
              ctx.get(), sv1::GetQueueAnalyticsRequest(), &a);
          if (!s.ok()) return cli.Fail("queue --analytics", s);
          if (cli.output() == "json") {
            std::printf("%s\n", ToJson(a, true).c_str());
          } else {
            std::printf(
                "Analytics: average wait %s, longest %s, %.1f jobs/day, depth "
                "%d (%s); start estimates: %d samples, mean abs error %s\n",
                FormatDuration(a.average_wait()).c_str(),
                FormatDuration(a.longest_wait()).c_str(),
                a.throughput_jobs_per_day(), a.current_depth(),
                ShortEnumName(sv1::DepthLevel_Name(a.depth_level()),
                              "DEPTH_LEVEL_")
                    .c_str(),
                a.estimate_accuracy().sample_count(),
                FormatDuration(a.estimate_accuracy().mean_absolute_error())
                    .c_str());
          }
          return static_cast<int>(kExitOk);
        };
      }};
}

void PrintPromotion(const Cli& cli, const sv1::Promotion& p) {
  if (cli.output() == "json") {
    std::printf("%s\n", ToJson(p, true).c_str());
    return;
  }
  std::printf(
      "%s %s job %s: %s\n", p.promotion_id().c_str(),
      ShortEnumName(sv1::PromotionState_Name(p.state()), "PROMOTION_STATE_")
          .c_str(),
      p.job_id().c_str(), p.impact().summary().c_str());
}

Command Promote() {
  return {
      "promote", "ask to move a queued job to the front (manager)",
      "yardctl promote JOB_ID --reason client_deadline --justification "
      "'Client demo on Friday needs ...(100-500 chars)'\n"
      "Reasons: client_deadline, critical_business_need, testing_urgent_fix, "
      "manager_override. Another manager or an admin approves.",
      [](Args& args) -> Runner {
        struct State {
          std::string reason, justification;
          bool validate_only = false;
        };
        auto st = std::make_shared<State>();
        args.flags().AddString("reason", "why (the reasons are listed above)",
                               &st->reason);
        args.flags().AddString("justification", "100..500 characters",
                               &st->justification);
        args.AddBool("validate-only", "only show the impact",
                     &st->validate_only);
        return [st](Cli& cli, const Args& args) {
          if (args.positional().size() != 1) {
            return cli.Usage("promote needs one JOB_ID");
          }
          if (st->reason.empty())
            return cli.Usage("promote: --reason is required");
          auto reason = ParseEnum(sv1::PromotionReason_descriptor(),
                                  "PROMOTION_REASON_", st->reason, "--reason");
          if (!reason.ok()) return cli.Fail("promote", reason.status());
          sv1::RequestPromotionRequest req;
          req.set_request_id(NewRequestId());
          req.set_job_id(args.positional()[0]);
          req.set_reason(static_cast<sv1::PromotionReason>(*reason));
          req.set_justification(st->justification);
          req.set_validate_only(st->validate_only);
          sv1::RequestPromotionResponse resp;
          auto ctx = cli.Context();
          grpc::Status s = SchedulerService::NewStub(cli.Scheduler())
                               ->RequestPromotion(ctx.get(), req, &resp);
          if (!s.ok()) return cli.Fail("promote " + req.job_id(), s);
          PrintPromotion(cli, resp.promotion());
          return static_cast<int>(kExitOk);
        };
      }};
}

// approve and deny: the same shape.
Command Decide(bool approve) {
  std::string name = approve ? "approve" : "deny";
  return {
      name,
      approve ? "approve a promotion request (another manager or an admin)"
              : "deny a promotion request (another manager or an admin)",
      absl::StrCat("yardctl ", name,
                   " PROMOTION_ID --comment 'ok for Friday'\n",
                   "The id is printed by `yardctl promote` and shown by "
                   "`yardctl queue`."),
      [approve, name](Args& args) -> Runner {
        auto comment = std::make_shared<std::string>();
        args.flags().AddString("comment", "for the requester", comment.get());
        return [approve, name, comment](Cli& cli, const Args& args) {
          if (args.positional().size() != 1) {
            return cli.Usage(name + " needs one PROMOTION_ID");
          }
          const std::string& id = args.positional()[0];
          auto stub = SchedulerService::NewStub(cli.Scheduler());
          // The decision names the version the approver saw: the current one.
          sv1::GetPromotionRequest get;
          get.set_promotion_id(id);
          sv1::GetPromotionResponse current;
          {
            auto ctx = cli.Context();
            grpc::Status s = stub->GetPromotion(ctx.get(), get, &current);
            if (!s.ok()) return cli.Fail(name + " " + id, s);
          }
          const std::string& etag = current.promotion().etag();
          auto ctx = cli.Context();
          grpc::Status s;
          sv1::Promotion promotion;
          if (approve) {
            sv1::ApprovePromotionRequest req;
            req.set_promotion_id(id);
            req.set_etag(etag);
            req.set_comment(*comment);
            sv1::ApprovePromotionResponse resp;
            s = stub->ApprovePromotion(ctx.get(), req, &resp);
            promotion = resp.promotion();
            if (s.ok() && cli.output() != "json") {
              std::printf("job %s is now #%d\n", resp.entry().job_id().c_str(),
                          resp.entry().position());
            }
          } else {
            sv1::DenyPromotionRequest req;
            req.set_promotion_id(id);
            req.set_etag(etag);
            req.set_comment(*comment);
            sv1::DenyPromotionResponse resp;
            s = stub->DenyPromotion(ctx.get(), req, &resp);
            promotion = resp.promotion();
          }
          if (!s.ok()) return cli.Fail(name + " " + id, s);
          PrintPromotion(cli, promotion);
          return static_cast<int>(kExitOk);
        };
      }};
}

}  // namespace

void AddQueueCommands(std::vector<Command>& out) {
  out.push_back(Queue());
  out.push_back(Promote());
  out.push_back(Decide(true));
  out.push_back(Decide(false));
}

}  // namespace trainyard::yardctl
