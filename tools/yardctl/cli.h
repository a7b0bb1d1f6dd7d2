// Copyright 2026 Trainyard authors.
//
// What every yardctl command shares: its arguments (flags through
// common/config's FlagSet, positional arguments apart), the connection
// settings (endpoint and token from flags, then TRAINYARD_* variables, then
// the config file `make run` writes), gRPC channels to the four services, and
// the one-line error with the exit codes of orchestration.md:
//
//   0 completed / ok   1 job failed   2 job cancelled   3 invalid input or
//   usage   4 unreachable (or the server cannot serve the call)
//   5 unauthenticated or permission denied
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/config/flags.h"

namespace trainyard::yardctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitJobFailed = 1,
  kExitJobCancelled = 2,
  kExitUsage = 3,
  kExitUnreachable = 4,
  kExitDenied = 5,
};

// The exit code for a failed call: INVALID_ARGUMENT, NOT_FOUND,
// FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED, OUT_OF_RANGE -> 3 (the input
// or the job's state is wrong); UNAUTHENTICATED, PERMISSION_DENIED -> 5;
// everything else (UNAVAILABLE, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
// ...) -> 4. REQUIRES: !status.ok().
ExitCode ExitCodeFor(const absl::Status& status);

// One line for a failed call: "<what>: <CODE> <REASON>: <message>", with the
// field violations appended when the message does not already name them,
// and a hint for UNIMPLEMENTED and unreachable servers.
std::string DescribeError(const std::string& what, const absl::Status& status);

// A fresh idempotency key for calls that take `request_id` (32 hex digits).
std::string NewRequestId();

// Connection settings, resolved per setting: flag, then environment, then
// the config file, then the default (the `make run` ports on loopback).
struct Connection {
  std::string endpoint = "127.0.0.1:7101";  // jobs; TRAINYARD_ENDPOINT
  std::string scheduler_endpoint = "127.0.0.1:7102";
  // One host:port, or one per metrics shard, comma-separated (shard i at i).
  std::string metrics_endpoint = "127.0.0.1:7103";
  std::string cost_endpoint = "127.0.0.1:7104";
  std::string token;        // TRAINYARD_TOKEN
  std::string tokens_file;  // `<token> <user> <role>` lines, for --as
  std::string as_role;      // take the token of this role from tokens_file
  absl::Duration timeout = absl::Seconds(30);  // per unary call
};

// Parsed arguments of one command. Flags are declared on flags() before
// Parse; positional arguments are those not starting with '-' and not the
// value of a preceding non-boolean flag ("--reason testing").
class Args {
 public:
  explicit Args(std::string program) : flags_(std::move(program)) {}

  config::FlagSet& flags() { return flags_; }
  // Declares a boolean flag (remembered so its next argument stays
  // positional).
  void AddBool(std::string name, std::string help, bool* out);

  absl::Status Parse(const std::vector<std::string>& args);
  const std::vector<std::string>& positional() const { return positional_; }
  bool help_requested() const { return flags_.help_requested(); }

  // The command writes a file: `-o` may name it (`curve --export png -o
  // loss.png`) instead of an output format. Before Cli::AddGlobalFlags.
  void AcceptOutputFile() { output_file_ok_ = true; }
  bool output_file_ok() const { return output_file_ok_; }

 private:
  bool output_file_ok_ = false;
  config::FlagSet flags_;
  std::set<std::string> bool_flags_;
  std::vector<std::string> positional_;
};

// The shared state of a yardctl run.
class Cli {
 public:
  // `env` looks up environment variables (getenv in main, a map in tests).
  using EnvLookup = std::string (*)(const char*);
  explicit Cli(EnvLookup env);

  // Declares the connection and output flags on `args`.
  void AddGlobalFlags(Args& args);
  // After Parse: fills unset settings from the environment and the config
  // file, reads the --as token. kInvalidArgument names the bad setting.
  absl::Status Resolve();

  const Connection& connection() const { return conn_; }
  // "table" (default), "json" or "csv".
  const std::string& output() const { return output_; }
  // The file `-o` named, for commands that accept one (Args::AcceptOutputFile);
  // "" otherwise.
  const std::string& output_file() const { return output_file_; }
  // Whether stdout is a terminal (panels and colours only then).
  bool stdout_is_tty() const { return tty_; }

  std::shared_ptr<grpc::Channel> Jobs();
  std::shared_ptr<grpc::Channel> Scheduler();
  // The metrics shard of `job_id` (common/shard).
  std::shared_ptr<grpc::Channel> Metrics(std::string_view job_id);
  std::shared_ptr<grpc::Channel> Cost();

  // A context with the bearer token and, unless `stream`, the unary timeout.
  std::unique_ptr<grpc::ClientContext> Context(bool stream = false) const;

  // Prints DescribeError to stderr and returns its exit code.
  int Fail(const std::string& what, const absl::Status& status) const;
  int Fail(const std::string& what, const grpc::Status& status) const;
  // Prints "yardctl: <message>" to stderr and returns kExitUsage.
  int Usage(const std::string& message) const;

  // The config file found: $TRAINYARD_CONFIG, else var/dev/yardctl.conf in
  // the working directory or the nearest parent that has one; "" if none.
  std::string ConfigPath() const;

 private:
  std::shared_ptr<grpc::Channel> Channel(const std::string& endpoint);

  EnvLookup env_;
  Connection conn_;
  // conn_.metrics_endpoint split into its shards (Resolve).
  std::vector<std::string> metrics_shards_;
  // Settings given on the command line (they win over env and file).
  Connection flagged_;
  std::string timeout_text_;
  std::string output_ = "table";
  std::string output_file_;
  bool output_file_ok_ = false;
  bool tty_ = false;
  std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> channels_;
};

}  // namespace trainyard::yardctl
