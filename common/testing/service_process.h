// Copyright 2026 Trainyard authors.
//
// Our service binaries as real processes, for tests that meet a service only
// through its public surface (gRPC, signed webhooks): each on ephemeral ports
// (read back from its ports file) and its own data directory, restartable.
// SharedFiles holds what a suite's processes share: the bearer tokens of
// TestServer::TokenFor (so TestServer::Authorize works against them), the
// service token and the webhook master key.
//
//   TempDir dir;
//   SharedFiles files(dir);
//   ServiceProcess metrics("metrics", dir.Sub("metrics-data"), dir.path(),
//                          {"--tokens_file=" + files.tokens_file});
//   ASSERT_OK(metrics.Start());
//   auto channel = grpc::CreateChannel(metrics.GrpcAddress(), ...);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"

namespace trainyard::testing {

// The base64 webhook master key of the test suites.
inline constexpr char kTestMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

// The build tree holding the binaries: $TRAINYARD_BINARY_DIR (ctest sets
// it); empty when unset.
std::string BinaryDir();

// Reads whitespace-separated ports from `path` (`second` may be null), which
// `process` writes once it listens; waits for it, bounded, and gives up early
// when the process exited.
absl::Status WaitForPorts(const std::string& path, Subprocess& process,
                          int* first, int* second);

// The files a suite's processes share, written into `dir`.
struct SharedFiles {
  explicit SharedFiles(const TempDir& dir);
  std::string master_key_file;     // kTestMasterKey
  std::string tokens_file;         // TestServer::TokenFor of every role
  std::string service_token_file;  // TestServer::TokenFor(kService)
};

// One service binary ("metrics", "scheduler", "cost" or "jobs") with its
// data directory, restartable. `name` names its logs and ports file;
// `binary` is the service when it differs ("metrics" for "metrics-1"), or
// the path of the binary to run (with a '/': a benchmark's --server_binary).
class ServiceProcess {
 public:
  ServiceProcess(std::string name, std::string data_dir, std::string log_dir,
                 std::vector<std::string> flags, std::string binary = "");

  // Starts build/services/<binary>/trainyard-<binary> (or the path) on
  // loopback ports 0 and waits (bounded) for its ports file, then until it
  // serves (health SERVING: its Warmup is done).
  // REQUIRES: TRAINYARD_BINARY_DIR set, unless `binary` is a path.
  absl::Status Start();
  // SIGKILL and reap.
  void Kill();
  // SIGTERM, then waits (bounded) for a clean exit (0: RocksDB closed);
  // otherwise an error with the log.
  absl::Status Stop();
  // The process id while running (for /proc figures), else -1.
  int pid() const;
  // The command line of the last start.
  std::string CommandLine() const;
  // "127.0.0.1:<grpc port>", "http://127.0.0.1:<admin port>".
  std::string GrpcAddress() const;
  std::string AdminUrl() const;
  int AdminPort() const { return admin_port_; }
  // The logs of every run so far (the current one last).
  std::string Log() const;
  bool running() const { return process_ != nullptr; }

 private:
  const std::string name_;
  const std::string binary_;
  const std::string data_dir_;
  const std::string log_dir_;
  const std::vector<std::string> flags_;
  std::unique_ptr<Subprocess> process_;
  std::vector<std::string> argv_;
  int runs_ = 0;
  int grpc_port_ = 0;
  int admin_port_ = 0;
};

}  // namespace trainyard::testing
