// Copyright 2026 Trainyard authors.
#include "common/testing/service_process.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "common/testing/test_server.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace trainyard::testing {

std::string BinaryDir() {
  const char* dir = std::getenv("TRAINYARD_BINARY_DIR");
  return dir != nullptr ? dir : "";
}

absl::Status WaitForPorts(const std::string& path, Subprocess& process,
                          int* first, int* second) {
  for (int i = 0; i < 6000; ++i) {
    std::ifstream in(path);
    if (second != nullptr ? static_cast<bool>(in >> *first >> *second)
                          : static_cast<bool>(in >> *first)) {
      return absl::OkStatus();
    }
    if (process.Wait(absl::ZeroDuration()).ok()) break;  // it exited
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return absl::UnavailableError(
      absl::StrCat("no ports file ", path, "; log:\n", process.Log()));
}

namespace {

// Waits (bounded) for the server at `address` to serve: its health goes
// SERVING once its module is warm (RunService: Start writes the ports file,
// then Warmup, then MarkServing). Every host registers the health service
// itself, so that is the name watched.
absl::Status WaitForServing(const std::string& address, Subprocess& process) {
  using grpc::health::v1::HealthCheckResponse;
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("grpc.health.v1.Health");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
      stub->Watch(&ctx, req);
  HealthCheckResponse resp;
  bool serving = false;
  while (!serving && watch->Read(&resp)) {
    serving = resp.status() == HealthCheckResponse::SERVING;
  }
  ctx.TryCancel();
  grpc::Status ended = watch->Finish();
  if (serving) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("not serving at ", address, " (",
                                             ended.error_message(), "); log:\n",
                                             process.Log()));
}

}  // namespace

SharedFiles::SharedFiles(const TempDir& dir)
    : master_key_file(dir.Sub("master.key")),
      tokens_file(dir.Sub("tokens")),
      service_token_file(dir.Sub("service.token")) {
  std::ofstream(master_key_file) << kTestMasterKey << "\n";
  std::ofstream(tokens_file) << TestServer::TokensText();
  std::ofstream(service_token_file)
      << TestServer::TokenFor(auth::Role::kService) << "\n";
}

ServiceProcess::ServiceProcess(std::string name, std::string data_dir,
                               std::string log_dir,
                               std::vector<std::string> flags,
                               std::string binary)
    : name_(std::move(name)),
      binary_(binary.empty() ? name_ : std::move(binary)),
      data_dir_(std::move(data_dir)),
      log_dir_(std::move(log_dir)),
      flags_(std::move(flags)) {}

absl::Status ServiceProcess::Start() {
  const bool path = absl::StrContains(binary_, '/');
  if (!path && BinaryDir().empty()) {
    return absl::FailedPreconditionError("TRAINYARD_BINARY_DIR is not set");
  }
  const std::string ports = absl::StrCat(log_dir_, "/", name_, ".ports");
  std::remove(ports.c_str());
  std::vector<std::string> argv = {
      path ? binary_
           : absl::StrCat(BinaryDir(), "/services/", binary_, "/trainyard-",
                          binary_),
      "--grpc_address=127.0.0.1:0",
      "--admin_address=127.0.0.1:0",
      "--data_dir=" + data_dir_,
      "--ports_file=" + ports,
      "--drain_timeout=2s"};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  argv_ = argv;
  ++runs_;
  ASSIGN_OR_RETURN(Subprocess p,
                   Subprocess::Start(argv, absl::StrCat(log_dir_, "/", name_,
                                                        ".", runs_, ".log")));
  process_ = std::make_unique<Subprocess>(std::move(p));
  RETURN_IF_ERROR(WaitForPorts(ports, *process_, &grpc_port_, &admin_port_));
  return WaitForServing(GrpcAddress(), *process_);
}

void ServiceProcess::Kill() { process_.reset(); }  // SIGKILL and reap

absl::Status ServiceProcess::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  process_->Signal(SIGTERM);
  absl::StatusOr<int> code = process_->Wait(absl::Seconds(60));
  const std::string log = process_->Log();
  process_.reset();
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(
        absl::StrCat(name_, " exited with ", *code, "; its log:\n", log));
  }
  return absl::OkStatus();
}

int ServiceProcess::pid() const {
  return process_ != nullptr ? static_cast<int>(process_->pid()) : -1;
}

std::string ServiceProcess::CommandLine() const {
  return absl::StrJoin(argv_, " ");
}

std::string ServiceProcess::GrpcAddress() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

std::string ServiceProcess::AdminUrl() const {
  return absl::StrCat("http://127.0.0.1:", admin_port_);
}

std::string ServiceProcess::Log() const {
  std::string out;
  for (int run = 1; run <= runs_; ++run) {
    std::ifstream in(absl::StrCat(log_dir_, "/", name_, ".", run, ".log"));
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    absl::StrAppend(&out, "--- ", name_, " run ", run, "\n", text);
  }
  return out;
}

}  // namespace trainyard::testing
