// Copyright 2026 Trainyard authors.
#include "common/config/token_file.h"

#include <fstream>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::config {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TempDir;

TEST(ReadFirstToken, SkipsCommentsAndBlankLinesAndTakesTheFirstWord) {
  TempDir dir;
  std::ofstream(dir.Sub("t")) << "# written by make run\n\n  ty_abc role x\n"
                              << "ty_second\n";
  EXPECT_THAT(ReadFirstToken("service_token_file", dir.Sub("t")),
              IsOkAndHolds("ty_abc"));
}

TEST(ReadFirstToken, MissingOrEmptyFileNamesTheFlag) {
  TempDir dir;
  EXPECT_THAT(ReadFirstToken("service_token_file", dir.Sub("none")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("service_token_file: cannot read")));
  std::ofstream(dir.Sub("empty")) << "# only a comment\n\n";
  EXPECT_THAT(ReadFirstToken("provider_api_key_file", dir.Sub("empty")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds no token")));
}

}  // namespace
}  // namespace trainyard::config
