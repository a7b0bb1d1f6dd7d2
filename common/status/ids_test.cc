// Copyright 2026 Trainyard authors.
#include "common/status/ids.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::trainyard::testing::StatusIs;

TEST(Ids, TheRuleOfCommonProto) {
  for (std::string_view ok : {"j", "job-0123456789ab", "jc_12", "evt_1_2"}) {
    EXPECT_TRUE(IsValidId(ok)) << ok;
  }
  EXPECT_TRUE(IsValidId(std::string(64, 'a')));
  for (std::string_view bad :
       {"", "../etc", "Job-1", "job 1", "job/1", "job.1", "j\xc3\xa9"}) {
    EXPECT_FALSE(IsValidId(bad)) << bad;
  }
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
}

TEST(Ids, OneErrorTextNamingTheField) {
  EXPECT_THAT(ValidateId("job_id", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "job_id: required"));
  absl::Status s = ValidateId("job_ids[2]", "../x");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          "job_ids[2]: must be 1 to 64 characters of a-z, "
                          "0-9, '_' and '-'"));
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "job_ids[2]");
  EXPECT_OK(ValidateId("job_id", "job-1"));
}

TEST(Ids, IdViolationIsWhatValidateIdReports) {
  EXPECT_EQ(IdViolation("job_id", "job-1"), std::nullopt);
  for (std::string_view bad : {"", "../x", "Job-1"}) {
    std::optional<FieldViolation> v = IdViolation("held_jobs[0].job_id", bad);
    ASSERT_TRUE(v.has_value()) << bad;
    EXPECT_EQ(FieldViolations(ValidateId("held_jobs[0].job_id", bad)),
              std::vector<FieldViolation>{*v})
        << bad;
  }
}

}  // namespace
}  // namespace trainyard
