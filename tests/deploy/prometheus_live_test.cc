// Copyright 2026 Trainyard authors.
//
// A real Prometheus (Debian's `prometheus`) on an ephemeral port scrapes the
// four real service binaries with the rules of deploy/prometheus/rules. The
// test waits (polling the HTTP API, never sleeping for time to pass) until
// every target is up and scraped twice, then checks that metrics'
// grpc_server_handled_total has values, that the recording rules produce
// series and every rule evaluates without error, that every expression of the
// Grafana dashboard runs, and that the dashboard and the rules name only
// metrics a running service exports (live /metrics scrapes), the rules
// record, or other exporters provide (a list below).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/http/client.h"
#include "common/testing/status_matchers.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::trainyard::testing::Subprocess;
using ::trainyard::testing::TempDir;

// Other exporters' metrics that alerts use: Prometheus itself, node_exporter
// (systemd installs), the kubelet (Kubernetes).
const std::set<std::string> kExternal = {
    "up",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_capacity_bytes",
};

const char* const kServices[] = {"jobs", "scheduler", "metrics", "cost"};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls `done` every 100 ms until it is true or `deadline` (generous: the
// machine may be loaded) passes.
bool PollUntil(const std::function<bool()>& done,
               absl::Duration deadline = absl::Minutes(3)) {
  RealClock clock;
  absl::Time end = clock.Now() + deadline;
  while (!done()) {
    if (clock.Now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// One of our service binaries on ephemeral ports.
struct Service {
  std::string name;
  std::optional<Subprocess> process;
  int grpc_port = 0;
  int admin_port = 0;
};

void StartService(const std::string& name, const TempDir& dir,
                  const std::vector<std::string>& extra, Service* s) {
  s->name = name;
  std::string ports = dir.Sub(name + ".ports");
  std::vector<std::string> argv = {
      absl::StrCat(Env("TRAINYARD_BINARY_DIR"), "/services/", name,
                   "/trainyard-", name),
      "--grpc_address=127.0.0.1:0", "--admin_address=127.0.0.1:0",
      "--data_dir=" + dir.Sub(name), "--ports_file=" + ports};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = Subprocess::Start(argv, dir.Sub(name + ".log"));
  ASSERT_OK(p.status());
  s->process.emplace(std::move(*p));
  ASSERT_TRUE(PollUntil([&] {
    std::ifstream in(ports);
    return static_cast<bool>(in >> s->grpc_port >> s->admin_port);
  })) << s->process->Log();
}

// Sample names of a /metrics text exposition.
std::set<std::string> ScrapeNames(int admin_port) {
  http::HttpClient client(absl::StrCat("http://127.0.0.1:", admin_port));
  auto r = client.Send(http::Method::kGet, "/metrics");
  EXPECT_OK(r.status());
  std::set<std::string> names;
  if (!r.ok()) return names;
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(std::string(line.substr(0, line.find_first_of("{ "))));
  }
  return names;
}

// The metric names an expression selects: what is left after removing
// strings, label matchers, ranges, offsets, grouping clauses, numbers,
// keywords and function names.
std::set<std::string> MetricNames(std::string e) {
  for (const char* re :
       {R"("(\\.|[^"\\])*")", R"(\{[^}]*\})", R"(\[[^\]]*\])",
        R"(\boffset\s+\w+)",
        R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))",
        R"(\b\d+(\.\d+)?([eE][+-]?\d+)?)"}) {
    e = std::regex_replace(e, std::regex(re), " ");
  }
  static const std::set<std::string> kKeywords = {
      "and", "or", "unless", "bool", "inf", "nan", "by", "without"};
  std::set<std::string> names;
  std::regex ident(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  for (auto it = std::sregex_iterator(e.begin(), e.end(), ident);
       it != std::sregex_iterator(); ++it) {
    size_t next = e.find_first_not_of(" \n\t", it->position() + it->length());
    bool is_call = next != std::string::npos && e[next] == '(';
    if (!is_call && !kKeywords.contains(it->str())) names.insert(it->str());
  }
  return names;
}

TEST(MetricNamesTest, KeepsSelectorsDropsFunctionsLabelsAndNumbers) {
  EXPECT_EQ(MetricNames(R"(histogram_quantile(0.99, sum by (service, le) )"
                        R"((rate(a_bucket{grpc_type="unary"}[5m]))) / 1e6 )"
                        R"(> 1.5 * b offset 1d or c:rec:rate5m and on (x) d)"),
            (std::set<std::string>{"a_bucket", "b", "c:rec:rate5m", "d"}));
}

class Prometheus {
 public:
  // Starts Debian's prometheus on 127.0.0.1:0 with `config`; the port is read
  // from its "Listening on" log line.
  void Start(const std::string& binary, const TempDir& dir) {
    auto p = Subprocess::Start(
        {binary, "--config.file=" + dir.Sub("prometheus.yml"),
         "--storage.tsdb.path=" + dir.Sub("tsdb"),
         "--web.listen-address=127.0.0.1:0", "--log.level=info"},
        dir.Sub("prometheus.log"));
    ASSERT_OK(p.status());
    process_.emplace(std::move(*p));
    std::smatch m;
    std::regex listening(R"(msg="Listening on" address=127\.0\.0\.1:(\d+))");
    ASSERT_TRUE(PollUntil([&] {
      std::string log = process_->Log();
      if (!std::regex_search(log, m, listening)) return false;
      port_ = std::stoi(m[1].str());
      return true;
    })) << process_->Log();
    client_.emplace(absl::StrCat("http://127.0.0.1:", port_));
  }

  // GET /api/v1/<path>; the `data` member of a success answer, else null
  // (with the reason in `error`).
  std::optional<Value> Api(const std::string& path, std::string* error) {
    auto r = client_->Send(http::Method::kGet, "/api/v1/" + path);
    if (!r.ok()) {
      *error = r.status().ToString();
      return std::nullopt;
    }
    Struct answer;
    if (!google::protobuf::util::JsonStringToMessage(r->body, &answer).ok() ||
        answer.fields().at("status").string_value() != "success") {
      *error = r->body;
      return std::nullopt;
    }
    return answer.fields().at("data");
  }

  // The result vector of an instant query (empty on error, see `error`).
  std::vector<Value> Query(const std::string& expr, std::string* error) {
    std::string escaped;
    for (unsigned char c : expr) {
      if (absl::ascii_isalnum(c)) {
        escaped += c;
      } else {
        absl::StrAppend(&escaped, "%", absl::Hex(c, absl::kZeroPad2));
      }
    }
    std::optional<Value> data = Api("query?query=" + escaped, error);
    if (!data) return {};
    const auto& result = data->struct_value().fields().at("result");
    return {result.list_value().values().begin(),
            result.list_value().values().end()};
  }

  std::string Log() const { return process_->Log(); }

 private:
  std::optional<Subprocess> process_;
  std::optional<http::HttpClient> client_;
  int port_ = 0;
};

// Calls that make metrics export its lazily labelled families and move its
// counters (ratios of rates exist only while calls come in): an event by
// IngestEvents (accepted the first time, then a duplicate), and a webhook
// without a signature (401).
void MakeMetricsTraffic(const Service& metrics) {
  auto stub = metrics::v1::MetricsService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", metrics.grpc_port),
                          grpc::InsecureChannelCredentials()));
  metrics::v1::IngestEventsRequest req;
  metrics::v1::IngestEvent* e = req.add_events();
  e->set_job_id("deploy-test");
  e->set_event_id("e1");
  e->set_type(common::v1::EVENT_TYPE_METRICS);
  e->set_attempt(1);
  e->set_attempt_seq(1);
  *e->mutable_occurred_time() = ToProto(RealClock().Now());
  e->mutable_metrics()->set_step(1);
  e->mutable_metrics()->set_train_loss(1.0);
  metrics::v1::IngestEventsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status status = stub->IngestEvents(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(resp.results_size(), 1);
  ASSERT_NE(resp.results(0).outcome(), metrics::v1::INGEST_OUTCOME_REJECTED)
      << resp.DebugString();

  http::HttpClient client(
      absl::StrCat("http://127.0.0.1:", metrics.admin_port));
  auto r = client.Send(http::Method::kPost, "/v1/webhooks/runpod/deploy-test",
                       {}, R"({"type":"status"})", "application/json");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 401) << r->body;
}

TEST(PrometheusLiveTest, ScrapesTheSuiteRecordsAndRunsTheDashboard) {
  std::string prometheus = Env("TRAINYARD_PROMETHEUS");
  if (prometheus.empty()) {
    GTEST_SKIP() << "prometheus not installed (Debian package prometheus)";
  }
  std::string deploy = Env("TRAINYARD_SOURCE_DIR") + "/deploy";
  TempDir dir;
  std::ofstream(dir.Sub("master.key"))
      << "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n";
  std::vector<Service> services(std::size(kServices));
  for (size_t i = 0; i < services.size(); ++i) {
    std::vector<std::string> extra;
    // Both derive the pods' webhook secrets from the master key.
    if (std::string(kServices[i]) == "metrics" ||
        std::string(kServices[i]) == "jobs") {
      extra = {"--webhook_master_key_file=" + dir.Sub("master.key")};
    }
    ASSERT_NO_FATAL_FAILURE(
        StartService(kServices[i], dir, extra, &services[i]));
  }
  const Service& metrics = services[2];
  ASSERT_NO_FATAL_FAILURE(MakeMetricsTraffic(metrics));

  // deploy/prometheus.yml's job and labels, on ephemeral ports, at 1 s.
  std::string config = absl::StrCat(
      "global: {scrape_interval: 1s, evaluation_interval: 1s}\n",
      "rule_files: [\"", deploy, "/prometheus/rules/*.yml\"]\n",
      "scrape_configs:\n  - job_name: trainyard\n    static_configs:\n");
  for (const Service& s : services) {
    absl::StrAppend(&config, "      - targets: [\"127.0.0.1:", s.admin_port,
                    "\"]\n        labels: {service: ", s.name, "}\n");
  }
  std::ofstream(dir.Sub("prometheus.yml")) << config;
  Prometheus prom;
  ASSERT_NO_FATAL_FAILURE(prom.Start(prometheus, dir));

  std::string error;
  // Every target up, each scraped at least twice.
  ASSERT_TRUE(PollUntil([&] {
    std::optional<Value> targets = prom.Api("targets?state=active", &error);
    if (!targets) return false;
    const auto& active =
        targets->struct_value().fields().at("activeTargets").list_value();
    if (active.values_size() != static_cast<int>(services.size())) {
      error = absl::StrCat(active.values_size(), " active targets");
      return false;
    }
    for (const Value& t : active.values()) {
      if (t.struct_value().fields().at("health").string_value() != "up") {
        error = absl::StrCat("target not up: ", t.ShortDebugString());
        return false;
      }
    }
    return prom.Query(R"(min(count_over_time(up{job="trainyard"}[5m])) >= 2)",
                      &error)
               .size() == 1;
  })) << error
      << "\n"
      << prom.Log();

  // A known series has values: the IngestEvents call above, counted once.
  std::vector<Value> handled = prom.Query(
      R"(grpc_server_handled_total{service="metrics",grpc_method="IngestEvents",grpc_code="OK"})",
      &error);
  ASSERT_EQ(handled.size(), 1u) << error;
  EXPECT_EQ(handled[0]
                .struct_value()
                .fields()
                .at("value")
                .list_value()
                .values(1)
                .string_value(),
            "1");

  // The recording rules produce series (with calls coming in), and every
  // rule evaluates cleanly.
  for (
      const char* recorded :
      {R"(service:grpc_server_handled:rate5m{service="metrics"})",
       R"(service:grpc_server_error_ratio:rate5m{service="metrics"})",
       R"(service:grpc_server_handling_seconds:p99_5m{service="metrics"})",
       R"(service:trainyard_webhooks_rejected:ratio_rate5m{service="metrics"})",
       R"(service:trainyard_events_ingested:rate5m{service="metrics",type="metrics"})",
       R"(service:trainyard_rocksdb_write_stall:ratio_rate5m{service="jobs"})"}) {
    error.clear();
    EXPECT_TRUE(PollUntil([&] {
      MakeMetricsTraffic(metrics);
      return !prom.Query(recorded, &error).empty();
    })) << recorded
        << " has no series " << error;
  }
  std::set<std::string> recorded_names;
  std::vector<std::pair<std::string, std::string>> expressions;  // where, expr
  ASSERT_TRUE(PollUntil([&] {
    recorded_names.clear();
    expressions.clear();
    std::optional<Value> rules = prom.Api("rules", &error);
    if (!rules) return false;
    for (const Value& g :
         rules->struct_value().fields().at("groups").list_value().values()) {
      for (const Value& r :
           g.struct_value().fields().at("rules").list_value().values()) {
        const auto& f = r.struct_value().fields();
        if (f.at("health").string_value() != "ok") {
          error = r.ShortDebugString();
          return false;
        }
        if (f.at("type").string_value() == "recording") {
          recorded_names.insert(f.at("name").string_value());
        }
        expressions.emplace_back("rule " + f.at("name").string_value(),
                                 f.at("query").string_value());
      }
    }
    return recorded_names.size() >= 9;
  })) << "a rule does not evaluate: "
      << error;

  // Every dashboard expression runs.
  Struct dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ReadFile(deploy + "/grafana/trainyard.json"), &dashboard)
                  .ok());
  std::function<void(const Value&)> walk = [&](const Value& panels) {
    for (const Value& p : panels.list_value().values()) {
      const auto& f = p.struct_value().fields();
      if (f.contains("panels")) walk(f.at("panels"));
      if (!f.contains("targets")) continue;
      for (const Value& t : f.at("targets").list_value().values()) {
        expressions.emplace_back(
            "panel " + f.at("title").string_value(),
            absl::StrReplaceAll(
                t.struct_value().fields().at("expr").string_value(),
                {{"$__rate_interval", "1m"}}));
      }
    }
  };
  walk(dashboard.fields().at("panels"));
  for (const auto& [where, expr] : expressions) {
    if (!absl::StartsWith(where, "panel ")) continue;
    error.clear();
    prom.Query(expr, &error);
    EXPECT_EQ(error, "") << where << ": " << expr;
  }

  // Every metric name is exported by a running service, recorded, or
  // external.
  std::set<std::string> live;
  for (const Service& s : services) live.merge(ScrapeNames(s.admin_port));
  for (const auto& [where, expr] : expressions) {
    for (const std::string& name : MetricNames(expr)) {
      EXPECT_TRUE(live.contains(name) || recorded_names.contains(name) ||
                  kExternal.contains(name))
          << where << " names " << name << ", which no service exports";
    }
  }
  for (Service& s : services) s.process->Signal(SIGTERM);
  for (Service& s : services) {
    EXPECT_THAT(s.process->Wait(absl::Seconds(30)),
                ::trainyard::testing::IsOkAndHolds(0))
        << s.process->Log();
  }
}

}  // namespace
}  // namespace trainyard
