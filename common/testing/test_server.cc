// Copyright 2026 Trainyard authors.
#include "common/testing/test_server.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::testing {
namespace {

template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::cerr << "TestServer: " << what << ": " << v.status() << "\n";
    std::abort();
  }
  return *std::move(v);
}

constexpr auth::Role kRoles[] = {auth::Role::kViewer, auth::Role::kEngineer,
                                 auth::Role::kManager, auth::Role::kAdmin,
                                 auth::Role::kService};

}  // namespace

std::string TestServer::TokenFor(auth::Role role) {
  return absl::StrCat("test-token-", ToAbsl(auth::RoleName(role)));
}

std::string TestServer::TokensText() {
  std::string tokens;
  for (auth::Role role : kRoles) {
    absl::StrAppend(&tokens, TokenFor(role), " ", ToAbsl(auth::RoleName(role)),
                    " ", ToAbsl(auth::RoleName(role)), "\n");
  }
  return tokens;
}

TestServer::TestServer(std::vector<std::string> column_families,
                       std::function<void(server::ServerConfig&)> tweak)
    : logger_(wall_clock_, LogFormat::kText, LogLevel::kDebug,
              [this](std::string_view line) {
                absl::MutexLock lock(&log_mu_);
                log_lines_.emplace_back(line);
              }) {
  config_.grpc_address = "127.0.0.1:0";
  config_.admin_address = "127.0.0.1:0";
  config_.data_dir = dir_.Sub("db");
  config_.rpc_threads = 4;
  if (tweak) tweak(config_);

  authenticator_ = OrDie(
      auth::Authenticator::FromTokensText(TokensText(), "test"), "tokens");

  storage::Options options;
  options.path = config_.data_dir;
  options.name = "test";
  options.column_families = std::move(column_families);
  options.block_cache_bytes = 8 << 20;
  options.memtable_bytes = 4 << 20;
  db_ = OrDie(storage::Db::Open(options), "open db");
  host_ = std::make_unique<server::ServiceHost>(config_, logger_, wall_clock_,
                                                *authenticator_);
}

TestServer::~TestServer() {
  host_->Shutdown();
  host_.reset();
  (void)db_->Close();
}

server::ServiceContext TestServer::Context() {
  return server::ServiceContext{config_,     logger_, clock_,
                                wall_clock_, *db_,    *host_};
}

absl::Status TestServer::Start() { return host_->Start(); }

std::shared_ptr<grpc::Channel> TestServer::Channel(
    const grpc::ChannelArguments& args) {
  return grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", host_->grpc_port()),
      grpc::InsecureChannelCredentials(), args);
}

void TestServer::Authorize(grpc::ClientContext& ctx, auth::Role role) {
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", TokenFor(role)));
}

std::string TestServer::AdminUrl() const {
  return absl::StrCat("http://127.0.0.1:", host_->admin_port());
}

std::vector<std::string> TestServer::LogLines() const {
  absl::MutexLock lock(&log_mu_);
  return log_lines_;
}

}  // namespace trainyard::testing
