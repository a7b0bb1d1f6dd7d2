// Copyright 2026 Trainyard authors.
#include "common/status/errors.h"

#include "common/status/reasons.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::trainyard::testing::StatusIs;

TEST(ErrorsTest, InvalidFieldErrorCarriesViolationAndNamesField) {
  absl::Status s = InvalidFieldError("page_size", "must not be negative");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          "page_size: must not be negative"));
  EXPECT_THAT(FieldViolations(s),
              ElementsAre(FieldViolation{"page_size", "must not be negative"}));
  EXPECT_EQ(ErrorReason(s), "INVALID_ARGUMENT");
}

TEST(ErrorsTest, InvalidFieldsErrorListsEveryViolation) {
  absl::Status s = InvalidFieldsError({{"a", "bad"}, {"b.c", "worse"}});
  EXPECT_EQ(s.message(), "a: bad; b.c: worse");
  EXPECT_EQ(FieldViolations(s).size(), 2u);
}

TEST(ErrorsTest, WithReasonSetsReasonAndMetadata) {
  absl::Status s = WithReason(absl::FailedPreconditionError("job is COMPLETED"),
                              "JOB_TERMINAL", {{"state", "COMPLETED"}});
  EXPECT_EQ(ErrorReason(s), "JOB_TERMINAL");
  EXPECT_EQ(ErrorMetadata(s).at("state"), "COMPLETED");
  EXPECT_THAT(FieldViolations(s), IsEmpty());
}

TEST(ErrorsTest, RequiredFieldErrorHasTheOneWording) {
  absl::Status s = RequiredFieldError("job_id");
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument, "job_id: required"));
  EXPECT_THAT(FieldViolations(s),
              ElementsAre(FieldViolation{"job_id", "required"}));
}

TEST(ErrorsTest, JobNotFoundErrorNamesTheJob) {
  absl::Status s = JobNotFoundError("job-7", "has no events");
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kNotFound, "job job-7 has no events"));
  EXPECT_EQ(ErrorReason(s), reasons::kJobNotFound);
  EXPECT_EQ(ErrorMetadata(s).at("job_id"), "job-7");
}

TEST(ErrorsTest, EtagMismatchErrorNamesTheCurrentEtag) {
  absl::Status s = EtagMismatchError("the job", "\"7\"");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted,
                          "the job changed since it was read (etag is now "
                          "\"7\"); read it again"));
  EXPECT_EQ(ErrorReason(s), reasons::kEtagMismatch);
}

TEST(ErrorsTest, ReasonDefaultsToCodeName) {
  EXPECT_EQ(ErrorReason(absl::NotFoundError("x")), "NOT_FOUND");
  EXPECT_EQ(ErrorReason(absl::OkStatus()), "");
  EXPECT_EQ(CodeName(absl::StatusCode::kResourceExhausted),
            "RESOURCE_EXHAUSTED");
}

TEST(ErrorsTest, WithReasonOnOkStaysOk) {
  EXPECT_TRUE(WithReason(absl::OkStatus(), "X").ok());
}

}  // namespace
}  // namespace trainyard
