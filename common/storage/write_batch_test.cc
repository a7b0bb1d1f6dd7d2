#include "common/storage/write_batch.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/storage/wal_fault_file_system.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace trainyard::storage {
namespace {

using ::google::protobuf::Timestamp;
using ::trainyard::storage::testing::TestOptions;
using ::trainyard::storage::testing::WalFault;
using ::trainyard::storage::testing::WalFaultFileSystem;
using ::trainyard::testing::IsOk;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TempDir;

TEST(WriteBatchTest, AppliesPutsAndDeletesAcrossColumnFamilies) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Db>> db =
      Db::Open(TestOptions(dir.Sub("db"), {"a", "b"}));
  ASSERT_THAT(db, IsOk());
  ASSERT_THAT((*db)->PutRaw("a", "old", "x"), IsOk());
  for (char c : std::string("01234")) {
    ASSERT_THAT((*db)->PutRaw("b", std::string("r") + c, "x"), IsOk());
  }

  Timestamp ts;
  ts.set_seconds(7);
  WriteBatch batch;
  batch.PutRaw("a", "raw", "bytes");
  batch.Put("b", "proto", ts);
  batch.Delete("a", "old");
  batch.DeleteRange("b", "r1", "r3");  // Removes r1, r2.
  EXPECT_EQ(batch.Count(), 4u);
  ASSERT_THAT(batch.status(), IsOk());
  ASSERT_THAT((*db)->Write(batch), IsOk());

  EXPECT_EQ((*db)->GetRaw("a", "raw").value_or(""), "bytes");
  Timestamp read;
  ASSERT_THAT((*db)->Get("b", "proto", &read), IsOk());
  EXPECT_EQ(read.seconds(), 7);
  EXPECT_THAT((*db)->GetRaw("a", "old"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*db)->GetRaw("b", "r0"), IsOk());
  EXPECT_THAT((*db)->GetRaw("b", "r1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*db)->GetRaw("b", "r2"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*db)->GetRaw("b", "r3"), IsOk());
}

TEST(WriteBatchTest, EmptyBatchIsNoOpAndClearResets) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Db>> db =
      Db::Open(TestOptions(dir.Sub("db"), {"a"}));
  ASSERT_THAT(db, IsOk());
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_THAT((*db)->Write(batch), IsOk());
  batch.Put("a", "k", google::protobuf::UninterpretedOption::NamePart());
  EXPECT_THAT(batch.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  batch.Clear();
  EXPECT_THAT(batch.status(), IsOk());
  EXPECT_TRUE(batch.empty());
}

TEST(WriteBatchTest, BatchWithUnknownColumnFamilyWritesNothing) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Db>> db =
      Db::Open(TestOptions(dir.Sub("db"), {"a"}));
  ASSERT_THAT(db, IsOk());
  WriteBatch batch;
  batch.PutRaw("a", "first", "1");
  batch.PutRaw("no-such-cf", "second", "2");
  batch.PutRaw("a", "third", "3");
  EXPECT_THAT((*db)->Write(batch),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*db)->GetRaw("a", "first"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*db)->GetRaw("a", "third"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(WriteBatchTest, BatchWithUnserializableMessageWritesNothing) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Db>> db =
      Db::Open(TestOptions(dir.Sub("db"), {"a"}));
  ASSERT_THAT(db, IsOk());
  WriteBatch batch;
  batch.PutRaw("a", "first", "1");
  // Required fields unset: sticky kInvalidArgument, later ops ignored.
  batch.Put("a", "bad", google::protobuf::UninterpretedOption::NamePart());
  batch.PutRaw("a", "third", "3");
  EXPECT_EQ(batch.Count(), 1u);
  EXPECT_THAT((*db)->Write(batch),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*db)->GetRaw("a", "first"),
              StatusIs(absl::StatusCode::kNotFound));
}

// Total size of the WAL files (*.log) in `dir`.
uintmax_t WalBytes(const std::string& dir) {
  uintmax_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") total += entry.file_size();
  }
  return total;
}

// Opens a database on `fs`, writes "before", then writes a three-key batch
// across two column families while the WAL misbehaves as `fault`; checks that
// none of the batch is visible, live and after a reopen with a healthy WAL.
void ExpectFailedBatchInvisible(WalFault fault) {
  TempDir dir;
  auto fs = std::make_shared<WalFaultFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  Options options = TestOptions(dir.Sub("db"), {"a", "b"});
  options.env = env.get();
  {
    absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(options);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->PutRaw("a", "before", "kept"), IsOk());

    const uintmax_t wal_before = WalBytes(options.path);
    fs->set_fault(fault);
    WriteBatch batch;
    batch.PutRaw("a", "x", std::string(4000, 'x'));
    batch.PutRaw("b", "y", std::string(4000, 'y'));
    batch.Delete("a", "before");
    EXPECT_THAT((*db)->Write(batch), StatusIs(absl::StatusCode::kUnavailable));
    // The fault did what it claims: half the record (about 4 KB) reached the
    // file, or nothing did.
    const uintmax_t wal_growth = WalBytes(options.path) - wal_before;
    if (fault == WalFault::kTorn) {
      EXPECT_GE(wal_growth, 4000u);
      EXPECT_LT(wal_growth, 8000u);
    } else {
      EXPECT_EQ(wal_growth, 0u);
    }

    EXPECT_THAT((*db)->GetRaw("a", "x"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT((*db)->GetRaw("b", "y"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ((*db)->GetRaw("a", "before").value_or(""), "kept");
    // RocksDB stops writing after a WAL error; closing with the fault still
    // active guarantees the buffered batch is not retried on the way out.
    (*db)->Close().IgnoreError();
  }
  fs->set_fault(WalFault::kNone);
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(options);
  ASSERT_THAT(db, IsOk());
  EXPECT_THAT((*db)->GetRaw("a", "x"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*db)->GetRaw("b", "y"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ((*db)->GetRaw("a", "before").value_or(""), "kept");
  EXPECT_THAT((*db)->PutRaw("a", "after", "ok"), IsOk());
}

TEST(WriteBatchAtomicityTest, BatchWhoseWalAppendFailsIsNotVisible) {
  ExpectFailedBatchInvisible(WalFault::kFail);
}

TEST(WriteBatchAtomicityTest, BatchTornInTheWalIsDroppedWholeOnReopen) {
  ExpectFailedBatchInvisible(WalFault::kTorn);
}

}  // namespace
}  // namespace trainyard::storage
