// Copyright 2026 Trainyard authors.
//
// Commands on money (CostService): cost, rates.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/format.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"

namespace trainyard::yardctl {
namespace {

namespace v1 = ::trainyard::common::v1;
namespace cv1 = ::trainyard::cost::v1;
using Runner = std::function<int(Cli&, const Args&)>;
using cv1::CostService;

std::string PhaseName(v1::CostPhase p) {
  return ShortEnumName(v1::CostPhase_Name(p), "COST_PHASE_");
}

Command Cost() {
  return {
      "cost", "a job's cost: spend, estimate, projection, phases and ledger",
      "yardctl cost JOB_ID\nyardctl cost JOB_ID -o json", [](Args&) -> Runner {
        return [](Cli& cli, const Args& args) {
          if (args.positional().size() != 1)
            return cli.Usage("cost needs one JOB_ID");
          const std::string& id = args.positional()[0];
          auto stub = CostService::NewStub(cli.Cost());
          cv1::GetJobCostRequest req;
          req.set_job_id(id);
          cv1::GetJobCostResponse cost;
          {
            auto ctx = cli.Context();
            grpc::Status s = stub->GetJobCost(ctx.get(), req, &cost);
            if (!s.ok()) return cli.Fail("cost " + id, s);
          }
          cv1::ListLedgerEntriesRequest lreq;
          lreq.set_job_id(id);
          lreq.set_page_size(1000);
          cv1::ListLedgerEntriesResponse ledger;
          {
            auto ctx = cli.Context();
            grpc::Status s = stub->ListLedgerEntries(ctx.get(), lreq, &ledger);
            if (!s.ok()) return cli.Fail("cost " + id, s);
          }
          if (cli.output() == "json") {
            std::printf("{\"cost\": %s,\n \"ledger\": %s}\n",
                        ToJson(cost).c_str(), ToJson(ledger).c_str());
            return static_cast<int>(kExitOk);
          }
          const v1::CostTracker& c = cost.cost();
          if (cli.output() == "table") {
            std::printf(
                "spend %s (%.0f%% of estimate %s–%s, %s)%s\n"
                "rate %s/h %s %s x%d; projected final %s\n"
                "active %s, paused %s (storage %s)\n",
                FormatMoney(c.spend()).c_str(), c.percent_of_estimate(),
                FormatMoney(c.estimate().low()).c_str(),
                FormatMoney(c.estimate().high()).c_str(),
                ShortEnumName(v1::CostLevel_Name(c.level()), "COST_LEVEL_")
                    .c_str(),
                c.final() ? ", final" : "",
                FormatMoney(c.hourly_rate()).c_str(),
                PricingName(c.pricing()).c_str(), GpuName(c.gpu_type()).c_str(),
                c.gpu_count(), FormatMoney(c.projected_final()).c_str(),
                FormatDuration(cost.active_duration()).c_str(),
                FormatDuration(cost.paused_duration()).c_str(),
                FormatMoney(c.paused_storage()).c_str());
            if (!c.alert_text().empty())
              std::printf("%s\n", c.alert_text().c_str());
            for (const v1::PhaseCost& p : c.by_phase()) {
              std::printf("  %-16s %s\n", PhaseName(p.phase()).c_str(),
                          FormatMoney(p.amount()).c_str());
            }
          }
          Table t;
          t.header = {"PHASE",   "ATTEMPT", "START",  "DURATION",   "GPU",
                      "PRICING", "RATE",    "AMOUNT", "DESCRIPTION"};
          for (const cv1::LedgerEntry& e : ledger.entries()) {
            t.rows.push_back(
                {PhaseName(e.phase()), absl::StrCat(e.attempt()),
                 FormatTime(e.start_time()), FormatDuration(e.duration()),
                 GpuName(e.gpu_type()), PricingName(e.pricing()),
                 FormatMoney(e.unit_rate()),
                 FormatMoney(e.amount()) + (e.provisional() ? "*" : ""),
                 e.description()});
          }
          PrintTable(t, cli.output());
          if (cli.output() == "table") {
            std::printf("ledger total %s (* = open meter)\n",
                        FormatMoney(ledger.total_amount()).c_str());
          }
          return static_cast<int>(kExitOk);
        };
      }};
}

Command Rates() {
  return {"rates", "the rate card: $/GPU-hour spot and on-demand",
          "yardctl rates\nyardctl rates -o csv", [](Args&) -> Runner {
            return [](Cli& cli, const Args& args) {
              if (!args.positional().empty())
                return cli.Usage("rates takes no arguments");
              cv1::GetRateCardResponse resp;
              auto ctx = cli.Context();
              grpc::Status s =
                  CostService::NewStub(cli.Cost())
                      ->GetRateCard(ctx.get(), cv1::GetRateCardRequest(),
                                    &resp);
              if (!s.ok()) return cli.Fail("rates", s);
              Table t;
              t.header = {"GPU", "NAME", "SPOT", "ON DEMAND", "AVAILABLE"};
              for (const cv1::GpuRate& r : resp.rate_card().gpu_rates()) {
                t.rows.push_back({GpuName(r.gpu_type()), r.display_name(),
                                  FormatMoney(r.spot_hourly()),
                                  FormatMoney(r.on_demand_hourly()),
                                  r.available() ? "yes" : "no"});
                t.messages.push_back(&r);
              }
              PrintTable(t, cli.output());
              if (cli.output() == "table") {
                std::printf(
                    "paused storage %s per GB-month (rate card v%d)\n",
                    FormatMoney(resp.rate_card().paused_storage_per_gb_month())
                        .c_str(),
                    static_cast<int>(resp.rate_card().version()));
              }
              return static_cast<int>(kExitOk);
            };
          }};
}

}  // namespace

void AddCostCommands(std::vector<Command>& out) {
  out.push_back(Cost());
  out.push_back(Rates());
}

}  // namespace trainyard::yardctl
