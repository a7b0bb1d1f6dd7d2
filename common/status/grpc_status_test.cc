// Copyright 2026 Trainyard authors.
#include "common/status/grpc_status.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::testing::ElementsAre;

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(s.error_details()));
  return details;
}

TEST(GrpcStatusTest, OkMapsToOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, EveryCodeMapsOneToOne) {
  for (int c = 1; c <= 16; ++c) {
    absl::Status in(static_cast<absl::StatusCode>(c), "m");
    grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), c);
    EXPECT_EQ(out.error_message(), "m");
    EXPECT_EQ(FromGrpcStatus(out).code(), in.code());
  }
}

TEST(GrpcStatusTest, ErrorInfoAlwaysPresentWithDomain) {
  grpc::Status s = ToGrpcStatus(absl::NotFoundError("job j1 not found"));
  google::rpc::Status details = Details(s);
  EXPECT_EQ(details.code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "NOT_FOUND");
  EXPECT_EQ(info.domain(), "trainyard.dev");
}

TEST(GrpcStatusTest, FieldViolationsBecomeBadRequest) {
  grpc::Status s = ToGrpcStatus(
      WithReason(InvalidFieldError("notes", "at most 500 characters"),
                 "NOTES_TOO_LONG", {{"limit", "500"}}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details = Details(s);
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "NOTES_TOO_LONG");
  EXPECT_EQ(info.metadata().at("limit"), "500");
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "notes");
}

TEST(GrpcStatusTest, RoundTripRestoresDetails) {
  absl::Status in =
      WithReason(InvalidFieldError("page_size", "must not be negative"),
                 "INVALID_PAGE_SIZE");
  absl::Status out = FromGrpcStatus(ToGrpcStatus(in));
  EXPECT_EQ(out.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.message(), in.message());
  EXPECT_EQ(ErrorReason(out), "INVALID_PAGE_SIZE");
  EXPECT_THAT(FieldViolations(out),
              ElementsAre(FieldViolation{"page_size", "must not be negative"}));
}

TEST(GrpcStatusTest, ForeignStatusWithoutDetailsKeepsCodeAndMessage) {
  absl::Status out =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone"));
  EXPECT_EQ(out.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(out.message(), "gone");
  EXPECT_EQ(ErrorReason(out), "UNAVAILABLE");
}

}  // namespace
}  // namespace trainyard
