// Copyright 2026 Trainyard authors.
//
// Commands on a job's event log and loss curve (MetricsService, and
// JobService.ExportLossCurveImage for PNG): events, curve.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/format.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::yardctl {
namespace {

namespace v1 = ::trainyard::common::v1;
using metrics::v1::Event;
using metrics::v1::MetricsService;
using Runner = std::function<int(Cli&, const Args&)>;

absl::StatusOr<v1::ExportFormat> ParseFormat(const std::string& text,
                                             const std::string& flag) {
  auto f =
      ParseEnum(v1::ExportFormat_descriptor(), "EXPORT_FORMAT_", text, flag);
  if (!f.ok()) return f.status();
  return static_cast<v1::ExportFormat>(*f);
}

std::string EventLine(const Event& e) {
  return absl::StrFormat(
      "%6d  %s  %-10s %s", e.job_seq(), FormatTime(e.occurred_time()),
      ShortEnumName(v1::EventType_Name(e.type()), "EVENT_TYPE_"), e.message());
}

Command Events() {
  return {
      "events", "a job's event log: list, search, follow or export",
      "yardctl events JOB_ID --type error,warning\n"
      "yardctl events JOB_ID --search checkpoint --all\n"
      "yardctl events JOB_ID --follow\n"
      "yardctl events JOB_ID --export csv > events.csv",
      [](Args& args) -> Runner {
        struct State {
          std::string types, search, export_format, order = "oldest";
          int64_t page_size = 50;
          bool all = false, follow = false;
        };
        auto st = std::make_shared<State>();
        config::FlagSet& f = args.flags();
        f.AddString("type",
                    "comma-separated: status, metrics, checkpoint, warning, "
                    "error, info",
                    &st->types);
        f.AddString("search", "keyword in the message", &st->search);
        f.AddString("export", "csv, json or jsonl, to stdout",
                    &st->export_format);
        f.AddString("order", "oldest or newest first", &st->order);
        f.AddInt("page-size", "events per page (1..100)", &st->page_size);
        args.AddBool("all", "every page", &st->all);
        args.AddBool("follow",
                     "print new events as they come, until the job ends",
                     &st->follow);
        return [st](Cli& cli, const Args& args) {
          if (args.positional().size() != 1) {
            return cli.Usage("events needs one JOB_ID");
          }
          const std::string& id = args.positional()[0];
          metrics::v1::EventQuery query;
          std::vector<std::string> types =
              absl::StrSplit(st->types, ',', absl::SkipEmpty());
          for (const std::string& t : types) {
            auto type = ParseEnum(v1::EventType_descriptor(), "EVENT_TYPE_", t,
                                  "--type");
            if (!type.ok()) return cli.Fail("events", type.status());
            query.add_types(static_cast<v1::EventType>(*type));
          }
          query.set_keyword(st->search);
          if (st->order != "oldest" && st->order != "newest") {
            return cli.Usage("events: --order is oldest or newest");
          }
          std::string order_by =
              st->order == "newest" ? "job_seq desc" : "job_seq";
          auto stub = MetricsService::NewStub(cli.Metrics(id));
          if (!st->export_format.empty()) {
            auto format = ParseFormat(st->export_format, "--export");
            if (!format.ok()) return cli.Fail("events", format.status());
            metrics::v1::ExportEventsRequest req;
            req.set_job_id(id);
            *req.mutable_query() = query;
            req.set_format(*format);
            req.set_order_by(order_by);
            auto ctx = cli.Context(/*stream=*/true);
            auto reader = stub->ExportEvents(ctx.get(), req);
            metrics::v1::ExportEventsResponse chunk;
            while (reader->Read(&chunk)) {
              std::fwrite(chunk.chunk().data(), 1, chunk.chunk().size(),
                          stdout);
            }
            grpc::Status s = reader->Finish();
            return s.ok() ? static_cast<int>(kExitOk)
                          : cli.Fail("events " + id, s);
          }
          uint64_t last_seq = 0;
          metrics::v1::ListEventsRequest req;
          req.set_job_id(id);
          *req.mutable_query() = query;
          req.set_page_size(static_cast<int32_t>(st->page_size));
          req.set_order_by(order_by);
          Table t;
          t.header = {"SEQ", "TIME", "TYPE", "MESSAGE"};
          std::vector<metrics::v1::ListEventsResponse> pages;
          do {
            metrics::v1::ListEventsResponse resp;
            auto ctx = cli.Context();
            grpc::Status s = stub->ListEvents(ctx.get(), req, &resp);
            if (!s.ok()) return cli.Fail("events " + id, s);
            req.set_page_token(resp.next_page_token());
            pages.push_back(std::move(resp));
          } while ((st->all || st->follow) && !req.page_token().empty());
          for (const auto& page : pages) {
            for (const auto& m : page.events()) {
              const Event& e = m.event();
              last_seq = std::max<uint64_t>(last_seq, e.job_seq());
              t.rows.push_back(
                  {absl::StrCat(e.job_seq()), FormatTime(e.occurred_time()),
                   ShortEnumName(v1::EventType_Name(e.type()), "EVENT_TYPE_"),
                   e.message()});
              t.messages.push_back(&e);
            }
          }
          PrintTable(t, cli.output());
          if (cli.output() == "table") {
            const auto& last = pages.back();
            if (!st->search.empty()) {
              std::fprintf(stderr, "%d matches in %d events\n",
                           last.match_count(), last.total_size());
            }
            if (!last.next_page_token().empty()) {
              std::fprintf(stderr,
                           "first %zu of %d; --all for every page, --order "
                           "newest for the latest\n",
                           t.rows.size(), last.total_size());
            }
          }
          if (!st->follow) return static_cast<int>(kExitOk);
          // New events, through SubscribeJob (resumed with its token).
          std::string token;
          while (true) {
            metrics::v1::SubscribeJobRequest sub;
            sub.set_job_id(id);
            sub.set_resume_token(token);
            sub.set_include_events(true);
            *sub.mutable_event_query()->mutable_types() = query.types();
            auto ctx = cli.Context(/*stream=*/true);
            auto reader = stub->SubscribeJob(ctx.get(), sub);
            metrics::v1::SubscribeJobResponse resp;
            bool ended = false;
            while (reader->Read(&resp)) {
              if (!resp.resume_token().empty()) token = resp.resume_token();
              const auto& events = resp.has_snapshot()
                                       ? resp.snapshot().recent_events()
                                       : resp.delta().events();
              for (const Event& e : events) {
                if (e.job_seq() <= last_seq) continue;
                last_seq = e.job_seq();
                if (!st->search.empty() &&
                    absl::AsciiStrToLower(e.message())
                            .find(absl::AsciiStrToLower(st->search)) ==
                        std::string::npos) {
                  continue;
                }
                std::printf("%s\n", cli.output() == "json"
                                        ? ToJson(e).c_str()
                                        : EventLine(e).c_str());
              }
              std::fflush(stdout);
              ended = ended || resp.has_end();
            }
            grpc::Status s = reader->Finish();
            if (ended) return static_cast<int>(kExitOk);
            if (!s.ok() && s.error_code() != grpc::StatusCode::UNAVAILABLE) {
              return cli.Fail("events --follow " + id, s);
            }
            absl::SleepFor(absl::Milliseconds(500));
          }
        };
      }};
}

Command Curve() {
  return {
      "curve", "a job's loss curve: table or CSV by step, or a PNG",
      "yardctl curve JOB_ID --export csv > loss.csv\n"
      "yardctl curve JOB_ID --last 500 --max-points 200\n"
      "yardctl curve JOB_ID --export png   # writes "
      "{job}-loss-curve-{time}.png\n"
      "yardctl curve JOB_ID --export png -o loss.png",
      [](Args& args) -> Runner {
        struct State {
          std::string series = "train_loss,val_loss", export_format, out;
          int64_t last = 0, max_points = 0;
        };
        auto st = std::make_shared<State>();
        config::FlagSet& f = args.flags();
        f.AddString("series", "comma-separated series", &st->series);
        f.AddInt("last", "only the most recent N steps", &st->last);
        f.AddInt("max-points", "points per series (downsampled)",
                 &st->max_points);
        f.AddString("export", "csv or png", &st->export_format);
        f.AddString("out", "file for --export png (default: the server's name)",
                    &st->out);
        args.AcceptOutputFile();
        return [st](Cli& cli, const Args& args) {
          if (args.positional().size() != 1) {
            return cli.Usage("curve needs one JOB_ID");
          }
          const std::string& id = args.positional()[0];
          std::vector<std::string> series =
              absl::StrSplit(st->series, ',', absl::SkipEmpty());
          if (st->export_format == "png") {
            jobs::v1::ExportLossCurveImageRequest req;
            req.set_job_id(id);
            for (const auto& s : series) req.add_series(s);
            req.set_last_steps(st->last);
            jobs::v1::ExportLossCurveImageResponse resp;
            auto ctx = cli.Context();
            grpc::Status s = jobs::v1::JobService::NewStub(cli.Jobs())
                                 ->ExportLossCurveImage(ctx.get(), req, &resp);
            if (!s.ok()) return cli.Fail("curve --export png " + id, s);
            std::string path = !st->out.empty()             ? st->out
                               : !cli.output_file().empty() ? cli.output_file()
                                                            : resp.filename();
            std::ofstream file(path, std::ios::binary);
            file << resp.png();
            if (!file.good()) {
              std::fprintf(stderr, "yardctl: cannot write %s\n", path.c_str());
              return static_cast<int>(kExitUsage);
            }
            std::printf("%s\n", path.c_str());
            return static_cast<int>(kExitOk);
          }
          if (!st->export_format.empty() && st->export_format != "csv") {
            return cli.Usage("curve: --export is csv or png");
          }
          if (!cli.output_file().empty()) {
            return cli.Usage(
                "curve: -o names a file only with --export png (else: table, "
                "json or csv)");
          }
          metrics::v1::GetLossCurveRequest req;
          req.set_job_id(id);
          for (const auto& s : series) req.add_series(s);
          req.set_last_steps(st->last);
          req.set_max_points(static_cast<int32_t>(st->max_points));
          metrics::v1::GetLossCurveResponse resp;
          auto ctx = cli.Context();
          grpc::Status s = MetricsService::NewStub(cli.Metrics(id))
                               ->GetLossCurve(ctx.get(), req, &resp);
          if (!s.ok()) return cli.Fail("curve " + id, s);
          if (cli.output() == "json" && st->export_format.empty()) {
            std::printf("%s\n", ToJson(resp.curve(), true).c_str());
            return static_cast<int>(kExitOk);
          }
          // One row per step, one column per series (empty when a series has
          // no point at that step).
          std::map<int64_t, std::vector<std::string>> rows;
          for (const auto& curve : resp.curve().series()) {
            auto it = std::find(series.begin(), series.end(), curve.name());
            if (curve.rolled_back() || it == series.end()) continue;
            size_t i = it - series.begin();
            for (const auto& p : curve.points()) {
              auto& row = rows[p.step()];
              row.resize(series.size());
              row[i] = absl::StrFormat("%.6g", p.value());
            }
          }
          Table t;
          t.header = {"step"};
          for (const auto& s : series) t.header.push_back(s);
          for (auto& [step, values] : rows) {
            std::vector<std::string> row = {absl::StrCat(step)};
            values.resize(series.size());
            row.insert(row.end(), values.begin(), values.end());
            t.rows.push_back(std::move(row));
          }
          PrintTable(t, st->export_format == "csv" ? "csv" : cli.output());
          return static_cast<int>(kExitOk);
        };
      }};
}

}  // namespace

void AddEventCommands(std::vector<Command>& out) {
  out.push_back(Events());
  out.push_back(Curve());
}

}  // namespace trainyard::yardctl
