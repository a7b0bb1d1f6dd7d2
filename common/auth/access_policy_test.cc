// Copyright 2026 Trainyard authors.
#include "common/auth/access_policy.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard::auth {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

AccessPolicy MakePolicy() {
  return AccessPolicy("t.v1.TestService", {{"Get", Role::kViewer},
                                           {"Create", Role::kEngineer},
                                           {"Approve", Role::kManager},
                                           {"Ingest", Role::kService}});
}

TEST(RolesTest, SatisfiesOrdering) {
  EXPECT_TRUE(Satisfies(Role::kEngineer, Role::kViewer));
  EXPECT_FALSE(Satisfies(Role::kViewer, Role::kEngineer));
  EXPECT_TRUE(Satisfies(Role::kAdmin, Role::kService));
  EXPECT_TRUE(Satisfies(Role::kService, Role::kEngineer));
  EXPECT_FALSE(Satisfies(Role::kService, Role::kManager));
  EXPECT_FALSE(Satisfies(Role::kManager, Role::kService));
}

TEST(AccessPolicyTest, LowRoleIsPermissionDeniedWithDetail) {
  AccessPolicy policy = MakePolicy();
  EXPECT_OK(policy.Authorize({"v", Role::kViewer}, "Get"));
  EXPECT_THAT(policy.Authorize({"v", Role::kViewer}, "Create"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "t.v1.TestService/Create needs role engineer; v has "
                       "role viewer"));
  EXPECT_THAT(policy.Authorize({"e", Role::kEngineer}, "Ingest"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_OK(policy.Authorize({"jobs", Role::kService}, "Ingest"));
}

TEST(AccessPolicyTest, UnknownMethodIsDenied) {
  EXPECT_THAT(MakePolicy().Authorize({"a", Role::kAdmin}, "Drop"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not open to any role")));
}

TEST(AccessPolicyTest, CoversServiceFindsMissingAndExtraRules) {
  google::protobuf::FileDescriptorProto file;
  file.set_name("t.proto");
  file.set_package("t.v1");
  auto* msg = file.add_message_type();
  msg->set_name("M");
  auto* svc = file.add_service();
  svc->set_name("TestService");
  for (const char* name : {"Get", "Create", "Approve", "List"}) {
    auto* m = svc->add_method();
    m->set_name(name);
    m->set_input_type(".t.v1.M");
    m->set_output_type(".t.v1.M");
  }
  google::protobuf::DescriptorPool pool;
  const auto* fd = pool.BuildFile(file);
  ASSERT_NE(fd, nullptr);
  EXPECT_THAT(MakePolicy().CoversService(*fd->service(0)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("no rule for List"),
                             HasSubstr("rule for unknown method Ingest"))));
}

}  // namespace
}  // namespace trainyard::auth
