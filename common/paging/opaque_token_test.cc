// Copyright 2026 Trainyard authors.
#include "common/paging/opaque_token.h"

#include "absl/strings/escaping.h"
#include "common/status/errors.h"
#include "common/storage/keys.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard::paging {
namespace {

using ::testing::Eq;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;

TEST(OpaqueToken, RoundTripsPayloadIncludingZeroBytes) {
  std::string payload = storage::EncodeUint64(42);
  payload.push_back('\0');
  std::string token =
      EncodeOpaqueToken("ledger", "job-1|phase=ACTIVE", payload);
  EXPECT_THAT(
      DecodeOpaqueToken("page_token", "ledger", "job-1|phase=ACTIVE", token),
      IsOkAndHolds(Eq(payload)));
  EXPECT_THAT(
      DecodeOpaqueToken("page_token", "ledger", "job-1|phase=ACTIVE",
                        EncodeOpaqueToken("ledger", "job-1|phase=ACTIVE", "")),
      IsOkAndHolds(Eq("")));
}

TEST(OpaqueToken, IsWebSafeWithoutPadding) {
  for (int n = 0; n < 40; ++n) {
    std::string token = EncodeOpaqueToken("k", "b", std::string(n, '\xff'));
    EXPECT_EQ(token.find_first_of("+/="), std::string::npos) << token;
  }
}

TEST(OpaqueToken, RefusesAnotherQueryOrKindNamingTheField) {
  std::string token = EncodeOpaqueToken("queue", "filter=a", "x");
  absl::Status other_binding =
      DecodeOpaqueToken("page_token", "queue", "filter=b", token).status();
  EXPECT_THAT(other_binding, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ErrorReason(other_binding), "INVALID_PAGE_TOKEN");
  ASSERT_EQ(FieldViolations(other_binding).size(), 1u);
  EXPECT_EQ(FieldViolations(other_binding)[0].field, "page_token");
  EXPECT_THAT(DecodeOpaqueToken("resume_token", "ledger", "filter=a", token),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The kind is length-prefixed: ("ab", "c") is not ("a", "bc").
  EXPECT_THAT(
      DecodeOpaqueToken("t", "a", "bc", EncodeOpaqueToken("ab", "c", "")),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OpaqueToken, RefusesMalformedText) {
  std::string token = EncodeOpaqueToken("k", "b", "payload");
  // Non-zero unused bits in the last character: Abseil decodes it, the
  // strict round trip refuses it.
  // (16 bytes: the last character carries 4 unused bits, so it is one of
  // A, Q, g, w; the next letter sets one of them.)
  std::string loose_bits = token;
  ++loose_bits.back();
  for (std::string bad : {std::string(""), std::string("!!!!"), token + "=",
                          loose_bits, std::string("AQ"), token.substr(0, 5)}) {
    EXPECT_THAT(DecodeOpaqueToken("page_token", "k", "b", bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  // Another version byte.
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &bytes));
  bytes[0] = 2;
  EXPECT_THAT(DecodeOpaqueToken("page_token", "k", "b",
                                absl::WebSafeBase64Escape(bytes)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace trainyard::paging
