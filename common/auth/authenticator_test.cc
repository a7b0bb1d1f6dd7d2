// Copyright 2026 Trainyard authors.
#include "common/auth/authenticator.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;

constexpr std::string_view kTokens =
    "# tokens\n"
    "tok-alice alice engineer\n"
    "\n"
    "tok-jobs  jobs  service\n";

TEST(AuthenticatorTest, KnownTokenGivesPrincipal) {
  ASSERT_OK_AND_ASSIGN(auto auth, Authenticator::FromTokensText(kTokens, "t"));
  EXPECT_THAT(auth->Authenticate("Bearer tok-alice"),
              IsOkAndHolds(Principal{"alice", Role::kEngineer}));
  EXPECT_THAT(auth->Authenticate("bearer tok-jobs"),
              IsOkAndHolds(Principal{"jobs", Role::kService}));
  EXPECT_FALSE(auth->open());
}

TEST(AuthenticatorTest, MissingTokenIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(auto auth, Authenticator::FromTokensText(kTokens, "t"));
  EXPECT_THAT(
      auth->Authenticate(std::nullopt),
      StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("missing")));
  EXPECT_THAT(auth->Authenticate(""),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(AuthenticatorTest, BadTokenIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(auto auth, Authenticator::FromTokensText(kTokens, "t"));
  EXPECT_THAT(
      auth->Authenticate("Bearer nope"),
      StatusIs(absl::StatusCode::kUnauthenticated, "unknown bearer token"));
  EXPECT_THAT(
      auth->Authenticate("Basic dXNlcjpwdw=="),
      StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not a Bearer")));
}

TEST(AuthenticatorTest, MalformedFileNamesLineNotToken) {
  EXPECT_THAT(
      Authenticator::FromTokensText("a b\n", "tokens.txt"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokens.txt:1:")));
  EXPECT_THAT(
      Authenticator::FromTokensText("\nsecret-x bob wizard\n", "tokens.txt"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("tokens.txt:2:"), HasSubstr("wizard"),
                     Not(HasSubstr("secret-x")))));
  EXPECT_THAT(
      Authenticator::FromTokensText("t a viewer\nt b viewer\n", "tokens.txt"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate")));
  EXPECT_THAT(Authenticator::FromTokensFile("/nonexistent/tokens"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/nonexistent/tokens")));
}

TEST(AuthenticatorTest, OpenModeAdmitsEveryoneAsLocalAdmin) {
  auto auth = Authenticator::Open();
  EXPECT_TRUE(auth->open());
  EXPECT_THAT(auth->Authenticate(std::nullopt),
              IsOkAndHolds(Principal{"local", Role::kAdmin}));
}

}  // namespace
}  // namespace trainyard::auth
