// Copyright 2026 Trainyard authors.
#include "tools/yardctl/cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/shard/shard.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"

namespace trainyard::yardctl {

ExitCode ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitDenied;
    default:
      return kExitUnreachable;
  }
}

std::string DescribeError(const std::string& what, const absl::Status& status) {
  std::string code = CodeName(status.code());
  std::string reason = ErrorReason(status);
  std::string line = absl::StrCat(what, ": ", code);
  if (reason != code) absl::StrAppend(&line, " ", reason);
  absl::StrAppend(&line, ": ", status.message());
  for (const FieldViolation& v : FieldViolations(status)) {
    if (status.message().find(v.field) == absl::string_view::npos) {
      absl::StrAppend(&line, "; ", v.field, ": ", v.description);
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kUnimplemented:
      absl::StrAppend(&line, status.message().empty() ? "" : " ",
                      "(this server does not serve this call yet)");
      break;
    case absl::StatusCode::kUnavailable:
      absl::StrAppend(&line,
                      " (is the suite running? `make run`, or set "
                      "--endpoint / TRAINYARD_ENDPOINT)");
      break;
    case absl::StatusCode::kUnauthenticated:
      absl::StrAppend(&line, " (set --token / TRAINYARD_TOKEN)");
      break;
    default:
      break;
  }
  return line;
}

std::string NewRequestId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

void Args::AddBool(std::string name, std::string help, bool* out) {
  bool_flags_.insert(name);
  flags_.AddBool(std::move(name), std::move(help), out);
}

absl::Status Args::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> flag_args;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (!a.starts_with("-") || a == "-") {
      positional_.push_back(a);
      continue;
    }
    flag_args.push_back(a);
    std::string name = a.substr(a.starts_with("--") ? 2 : 1);
    bool has_value = name.find('=') != std::string::npos;
    bool is_bool =
        bool_flags_.contains(name) ||
        (name.starts_with("no") && bool_flags_.contains(name.substr(2)));
    if (!has_value && !is_bool && name != "help" && i + 1 < args.size()) {
      flag_args.push_back(args[++i]);
    }
  }
  return flags_.ParseArgs(flag_args);
}

Cli::Cli(EnvLookup env) : env_(env), tty_(isatty(STDOUT_FILENO) == 1) {
  // Only what the command line sets may win over the environment and file.
  flagged_.endpoint.clear();
  flagged_.scheduler_endpoint.clear();
  flagged_.metrics_endpoint.clear();
  flagged_.cost_endpoint.clear();
}

void Cli::AddGlobalFlags(Args& args) {
  config::FlagSet& f = args.flags();
  f.AddString("endpoint",
              "job-control host:port (env TRAINYARD_ENDPOINT; default "
              "127.0.0.1:7101)",
              &flagged_.endpoint);
  f.AddString("scheduler-endpoint", "queue-scheduler host:port",
              &flagged_.scheduler_endpoint);
  f.AddString("metrics-endpoint", "metrics-ingest host:port",
              &flagged_.metrics_endpoint);
  f.AddString("cost-endpoint", "cost host:port", &flagged_.cost_endpoint);
  f.AddString("token", "bearer token (env TRAINYARD_TOKEN)", &flagged_.token);
  f.AddString("as",
              "use the token of this role (viewer, engineer, manager, admin) "
              "from the tokens file of the config",
              &flagged_.as_role);
  f.AddDuration("timeout", "deadline of each call", &conn_.timeout);
  f.AddString("o",
              args.output_file_ok() ? "output: table, json or csv, or a file"
                                    : "output: table, json or csv",
              &output_);
  output_file_ok_ = args.output_file_ok();
}

std::string Cli::ConfigPath() const {
  if (std::string p = env_("TRAINYARD_CONFIG"); !p.empty()) return p;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::current_path(ec);
  while (!ec && !dir.empty()) {
    std::filesystem::path candidate = dir / "var" / "dev" / "yardctl.conf";
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return "";
}

absl::Status Cli::Resolve() {
  if (output_file_ok_ && output_ != "table" && output_ != "json" &&
      output_ != "csv") {
    output_file_ = std::exchange(output_, "table");
  }
  if (output_ != "table" && output_ != "json" && output_ != "csv") {
    return absl::InvalidArgumentError(
        absl::StrCat("-o: \"", output_, "\" is not table, json or csv"));
  }
  Connection file;
  file.endpoint.clear();
  file.scheduler_endpoint.clear();
  file.metrics_endpoint.clear();
  file.cost_endpoint.clear();
  if (std::string path = ConfigPath(); !path.empty()) {
    config::FlagSet f("yardctl.conf");
    f.AddString("endpoint", "", &file.endpoint);
    f.AddString("scheduler_endpoint", "", &file.scheduler_endpoint);
    f.AddString("metrics_endpoint", "", &file.metrics_endpoint);
    f.AddString("cost_endpoint", "", &file.cost_endpoint);
    f.AddString("token", "", &file.token);
    f.AddString("tokens_file", "", &file.tokens_file);
    if (absl::Status s = f.ParseArgs({"--config=" + path}); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config file ", path, ": ", s.message()));
    }
    // A relative tokens file is relative to the repository the file is in
    // (var/dev/yardctl.conf -> ../..).
    if (!file.tokens_file.empty() && file.tokens_file[0] != '/') {
      std::filesystem::path root =
          std::filesystem::path(path).parent_path().parent_path().parent_path();
      file.tokens_file = (root / file.tokens_file).string();
    }
  }
  auto pick = [&](std::string& out, const std::string& flagged, const char* env,
                  const std::string& from_file) {
    if (!flagged.empty()) {
      out = flagged;
    } else if (std::string v = env != nullptr ? env_(env) : ""; !v.empty()) {
      out = v;
    } else if (!from_file.empty()) {
      out = from_file;
    }
  };
  pick(conn_.endpoint, flagged_.endpoint, "TRAINYARD_ENDPOINT", file.endpoint);
  pick(conn_.scheduler_endpoint, flagged_.scheduler_endpoint,
       "TRAINYARD_SCHEDULER_ENDPOINT", file.scheduler_endpoint);
  pick(conn_.metrics_endpoint, flagged_.metrics_endpoint,
       "TRAINYARD_METRICS_ENDPOINT", file.metrics_endpoint);
  pick(conn_.cost_endpoint, flagged_.cost_endpoint, "TRAINYARD_COST_ENDPOINT",
       file.cost_endpoint);
  pick(conn_.token, flagged_.token, "TRAINYARD_TOKEN", file.token);
  ASSIGN_OR_RETURN(
      metrics_shards_,
      shard::ParseShardList("metrics-endpoint", conn_.metrics_endpoint));
  pick(conn_.tokens_file, "", "TRAINYARD_TOKENS_FILE", file.tokens_file);
  conn_.as_role = flagged_.as_role;
  if (conn_.as_role.empty()) return absl::OkStatus();
  if (conn_.tokens_file.empty()) {
    return absl::InvalidArgumentError(
        "--as: no tokens file (the config file of `make run` names one)");
  }
  std::ifstream in(conn_.tokens_file);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--as: cannot read ", conn_.tokens_file));
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string token, user, role;
    if (line.starts_with("#") || !(words >> token >> user >> role)) continue;
    if (role == conn_.as_role) {
      conn_.token = token;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--as: no token of role \"", conn_.as_role, "\" in ", conn_.tokens_file));
}

std::shared_ptr<grpc::Channel> Cli::Channel(const std::string& endpoint) {
  for (const auto& [e, ch] : channels_) {
    if (e == endpoint) return ch;
  }
  auto ch = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  channels_.emplace_back(endpoint, ch);
  return ch;
}

std::shared_ptr<grpc::Channel> Cli::Jobs() { return Channel(conn_.endpoint); }
std::shared_ptr<grpc::Channel> Cli::Scheduler() {
  return Channel(conn_.scheduler_endpoint);
}
std::shared_ptr<grpc::Channel> Cli::Metrics(std::string_view job_id) {
  if (metrics_shards_.empty()) return Channel(conn_.metrics_endpoint);
  return Channel(metrics_shards_[shard::ShardOf(
      job_id, static_cast<int>(metrics_shards_.size()))]);
}
std::shared_ptr<grpc::Channel> Cli::Cost() {
  return Channel(conn_.cost_endpoint);
}

std::unique_ptr<grpc::ClientContext> Cli::Context(bool stream) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!conn_.token.empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", conn_.token));
  }
  if (!stream) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(conn_.timeout));
  }
  return ctx;
}

int Cli::Fail(const std::string& what, const absl::Status& status) const {
  std::fprintf(stderr, "yardctl: %s\n", DescribeError(what, status).c_str());
  return ExitCodeFor(status);
}

int Cli::Fail(const std::string& what, const grpc::Status& status) const {
  return Fail(what, FromGrpcStatus(status));
}

int Cli::Usage(const std::string& message) const {
  std::fprintf(stderr, "yardctl: %s\n", message.c_str());
  return kExitUsage;
}

}  // namespace trainyard::yardctl
