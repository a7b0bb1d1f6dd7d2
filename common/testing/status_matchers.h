// Copyright 2026 Trainyard authors.
//
// gMock matchers for absl::Status and absl::StatusOr<T>:
//   EXPECT_THAT(store.Get("x"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(Parse("--port=1"), StatusIs(kInvalidArgument,
//   HasSubstr("port"))); EXPECT_THAT(store.Get("a"), IsOkAndHolds(Eq(job)));
//   EXPECT_OK(db.Put(...));  ASSERT_OK_AND_ASSIGN(auto v, MakeV());
#pragma once

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace trainyard::testing {

namespace internal {
inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

MATCHER_P(StatusIs, code,
          std::string(negation ? "status code isn't " : "status code is ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(status.message()), result_listener);
}

MATCHER(IsOk, negation ? "isn't OK" : "is OK") {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace trainyard::testing

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::trainyard::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::trainyard::testing::IsOk())

#define TY_TEST_CONCAT_INNER_(a, b) a##b
#define TY_TEST_CONCAT_(a, b) TY_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                \
  auto TY_TEST_CONCAT_(_ty_sor_, __LINE__) = (rexpr);   \
  ASSERT_TRUE(TY_TEST_CONCAT_(_ty_sor_, __LINE__).ok()) \
      << TY_TEST_CONCAT_(_ty_sor_, __LINE__).status();  \
  lhs = std::move(TY_TEST_CONCAT_(_ty_sor_, __LINE__)).value()
