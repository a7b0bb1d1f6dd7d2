#include "common/storage/rocksdb_status.h"

#include <string>

#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::storage {
namespace {

using ::testing::HasSubstr;
using Code = absl::StatusCode;
using RStatus = rocksdb::Status;

TEST(RocksDbStatusTest, MapsEachRocksDbCodeToTheMostSpecificAbslCode) {
  struct Case {
    RStatus in;
    Code out;
  };
  const Case cases[] = {
      {RStatus::OK(), Code::kOk},
      {RStatus::NotFound("k"), Code::kNotFound},
      {RStatus::Corruption("bad block"), Code::kDataLoss},
      {RStatus::InvalidArgument("x"), Code::kInvalidArgument},
      {RStatus::NotSupported("x"), Code::kUnimplemented},
      {RStatus::IOError("EIO"), Code::kUnavailable},
      {RStatus::IOError(RStatus::kPathNotFound), Code::kUnavailable},
      {RStatus::NoSpace("disk full"), Code::kResourceExhausted},
      {RStatus::IOError(RStatus::kSpaceLimit), Code::kResourceExhausted},
      {RStatus(RStatus::IOError("EIO"), RStatus::kFatalError),
       Code::kUnavailable},
      {RStatus(RStatus::IOError("EIO"), RStatus::kUnrecoverableError),
       Code::kUnavailable},
      {RStatus(RStatus::IOError("EIO"), RStatus::kHardError),
       Code::kUnavailable},
      {RStatus::Busy("x"), Code::kUnavailable},
      {RStatus::TimedOut("x"), Code::kUnavailable},
      {RStatus::TryAgain("x"), Code::kUnavailable},
      {RStatus::Incomplete("Write stall"), Code::kUnavailable},
      {RStatus::ShutdownInProgress("x"), Code::kUnavailable},
      {RStatus::Aborted("x"), Code::kAborted},
      {RStatus::MemoryLimit(), Code::kResourceExhausted},
      {RStatus::Aborted(RStatus::kLockLimit), Code::kResourceExhausted},
      {RStatus::Expired("x"), Code::kAborted},
      {RStatus::CompactionTooLarge("x"), Code::kResourceExhausted},
      {RStatus::ColumnFamilyDropped("x"), Code::kFailedPrecondition},
      {RStatus::MergeInProgress("x"), Code::kInternal},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ToStatusCode(c.in), c.out) << c.in.ToString();
    EXPECT_EQ(FromRocksDbStatus(c.in, "Op").code(), c.out) << c.in.ToString();
  }
}

TEST(RocksDbStatusTest, IoErrorsCarryTheStorageReason) {
  EXPECT_EQ(ErrorReason(FromRocksDbStatus(RStatus::NoSpace("full"), "Put")),
            "STORAGE_FULL");
  EXPECT_EQ(ErrorReason(FromRocksDbStatus(
                RStatus::IOError(RStatus::kSpaceLimit), "Put")),
            "STORAGE_FULL");
  EXPECT_EQ(ErrorReason(FromRocksDbStatus(RStatus::IOError("EIO"), "Put")),
            "STORAGE_ERROR");
  EXPECT_EQ(ErrorReason(FromRocksDbStatus(
                RStatus(RStatus::IOError("EIO"), RStatus::kFatalError), "Put")),
            "STORAGE_ERROR");
  // Not a disk problem: the code's own name.
  EXPECT_EQ(ErrorReason(FromRocksDbStatus(RStatus::Busy("x"), "Put")),
            "UNAVAILABLE");
}

TEST(RocksDbStatusTest, MessageNamesOperationColumnFamilyAndPrintableKey) {
  absl::Status s = FromRocksDbStatus(RStatus::Corruption("block checksum"),
                                     "Get", "jobs", std::string("id\x01", 3));
  EXPECT_EQ(s.code(), Code::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("Get cf=jobs key=\"id\\x01\""));
  EXPECT_THAT(s.message(), HasSubstr("block checksum"));
}

TEST(RocksDbStatusTest, OmitsEmptyContextAndKeepsOkOk) {
  absl::Status s = FromRocksDbStatus(RStatus::IOError("EIO"), "Write");
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("Write: "));
  EXPECT_TRUE(FromRocksDbStatus(RStatus::OK(), "Get", "jobs", "k").ok());
}

}  // namespace
}  // namespace trainyard::storage
