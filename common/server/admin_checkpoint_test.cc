// Copyright 2026 Trainyard authors.
#include "common/server/admin_checkpoint.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/storage/db.h"
#include "common/storage/options.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::server {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::TempDir;

constexpr char kTokens[] =
    "ty_admin  ann  admin\n"
    "ty_svc    jobs service\n"
    "ty_eng    eve  engineer\n";

class AdminCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options options;
    options.path = dir_.Sub("db");
    options.name = "test";
    options.column_families = {"a"};
    ASSERT_OK_AND_ASSIGN(db_, storage::Db::Open(options));
    ASSERT_OK(db_->PutRaw("a", "k", "v"));
    ASSERT_OK_AND_ASSIGN(authn_,
                         auth::Authenticator::FromTokensText(kTokens, "test"));
  }

  http::HttpResponse Post(const std::string& token, const std::string& name,
                          const std::string& root) {
    storage::Checkpointer checkpointer(*db_, root);
    AdminCheckpoint handler(checkpointer, *authn_, clock_, logger_);
    http::HttpRequest request;
    request.method = http::Method::kPost;
    request.path = "/admin/checkpoint";
    if (!token.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + token});
    }
    if (!name.empty()) request.query_params.push_back({"name", name});
    return handler.Handle(request);
  }
  std::string Root() { return dir_.Sub("checkpoints"); }

  TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<auth::Authenticator> authn_;
  FakeClock clock_{absl::FromUnixMillis(1764385200123)};
  std::string log_;
  Logger logger_{clock_, LogFormat::kText, LogLevel::kInfo,
                 [this](std::string_view line) { log_.append(line); }};
};

TEST_F(AdminCheckpointTest, AdminWritesANamedCheckpointThatOpens) {
  http::HttpResponse r = Post("ty_admin", "nightly-1", Root());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_THAT(r.body, HasSubstr("\"name\":\"nightly-1\""));
  EXPECT_THAT(r.body, HasSubstr("\"path\":\"" + Root() + "/nightly-1\""));
  EXPECT_THAT(r.body, HasSubstr("\"sequence\":"));
  storage::Options options;
  options.path = Root() + "/nightly-1";
  options.name = "copy";
  options.column_families = {"a"};
  ASSERT_OK_AND_ASSIGN(auto copy, storage::Db::Open(options));
  EXPECT_THAT(copy->GetRaw("a", "k"), IsOkAndHolds("v"));
  EXPECT_THAT(log_, HasSubstr("storage.checkpoint"));
}

TEST_F(AdminCheckpointTest, WithoutANameItIsNamedByTheTime) {
  http::HttpResponse r = Post("ty_admin", "", Root());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_THAT(r.body, HasSubstr("\"name\":\"ckpt-20251129T030000.123Z\""));
  EXPECT_TRUE(
      std::filesystem::is_directory(Root() + "/ckpt-20251129T030000.123Z"));
}

TEST_F(AdminCheckpointTest, NeedsAnAdminToken) {
  EXPECT_EQ(Post("", "c1", Root()).status, 401);
  EXPECT_EQ(Post("ty_unknown", "c1", Root()).status, 401);
  http::HttpResponse service = Post("ty_svc", "c1", Root());
  EXPECT_EQ(service.status, 403);
  EXPECT_THAT(service.body, HasSubstr("needs role admin"));
  EXPECT_EQ(Post("ty_eng", "c1", Root()).status, 403);
  EXPECT_FALSE(std::filesystem::exists(Root()));
}

TEST_F(AdminCheckpointTest, RejectsPathTraversalNamingTheField) {
  for (const char* name : {"../../etc", "a/b", "..", ".x"}) {
    http::HttpResponse r = Post("ty_admin", name, Root());
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_THAT(r.body, HasSubstr("\"field\":\"name\"")) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("etc")));
}

TEST_F(AdminCheckpointTest, AnExistingNameIsConflict) {
  ASSERT_EQ(Post("ty_admin", "c1", Root()).status, 201);
  EXPECT_EQ(Post("ty_admin", "c1", Root()).status, 409);
}

TEST_F(AdminCheckpointTest, DisabledIsConflictSayingWhichSetting) {
  http::HttpResponse r = Post("ty_admin", "c1", "");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(r.body, HasSubstr("--checkpoint_dir"));
}

TEST_F(AdminCheckpointTest, AClosedDatabaseIsUnavailable) {
  ASSERT_OK(db_->Close());
  EXPECT_EQ(Post("ty_admin", "c1", Root()).status, 503);
}

}  // namespace
}  // namespace trainyard::server
