#include "common/storage/db.h"

#include <stdlib.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"
#include "rocksdb/convenience.h"
#include "rocksdb/statistics.h"

namespace trainyard::storage {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Timestamp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trainyard::storage::testing::TestOptions;
using ::trainyard::testing::IsOk;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TempDir;

Timestamp MakeTimestamp(int64_t seconds, int32_t nanos) {
  Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

std::unique_ptr<Db> MustOpen(const Options& options) {
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(options);
  EXPECT_THAT(db, IsOk());
  return db.ok() ? *std::move(db) : nullptr;
}

TEST(DbOpenTest, CreatesDeclaredColumnFamiliesPlusDefault) {
  TempDir dir;
  std::unique_ptr<Db> db =
      MustOpen(TestOptions(dir.Sub("db"), {"jobs", "queue"}));
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->ColumnFamilies(), ElementsAre("default", "jobs", "queue"));
  EXPECT_EQ(db->name(), "test");
}

TEST(DbOpenTest, DataSurvivesCloseAndReopen) {
  TempDir dir;
  Options options = TestOptions(dir.Sub("db"), {"jobs"});
  {
    std::unique_ptr<Db> db = MustOpen(options);
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(db->Put("jobs", "job-1", MakeTimestamp(42, 7)), IsOk());
    ASSERT_THAT(db->PutRaw("default", "raw", "bytes"), IsOk());
    ASSERT_THAT(db->Close(), IsOk());
  }
  std::unique_ptr<Db> db = MustOpen(options);
  ASSERT_NE(db, nullptr);
  Timestamp read;
  ASSERT_THAT(db->Get("jobs", "job-1", &read), IsOk());
  EXPECT_EQ(read.seconds(), 42);
  EXPECT_EQ(read.nanos(), 7);
  EXPECT_EQ(db->GetRaw("default", "raw").value_or(""), "bytes");
}

TEST(DbOpenTest, ColumnFamilyOnDiskButNotDeclaredIsOpenedAndKept) {
  TempDir dir;
  {
    std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {"a", "b"}));
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(db->PutRaw("b", "k", "v"), IsOk());
  }
  // A shorter list (e.g. an older binary) still opens, and "b" is usable.
  {
    std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {"a"}));
    ASSERT_NE(db, nullptr);
    EXPECT_THAT(db->ColumnFamilies(), ElementsAre("a", "b", "default"));
    EXPECT_EQ(db->GetRaw("b", "k").value_or(""), "v");
  }
  // Still on disk afterwards: it was not dropped.
  std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {}));
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->ColumnFamilies(), ElementsAre("a", "b", "default"));
  EXPECT_EQ(db->GetRaw("b", "k").value_or(""), "v");
}

TEST(DbOpenTest, NewlyDeclaredColumnFamilyIsCreatedOnReopen) {
  TempDir dir;
  {
    std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {"a"}));
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(db->PutRaw("a", "k", "v"), IsOk());
  }
  std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {"a", "c"}));
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->ColumnFamilies(), ElementsAre("a", "c", "default"));
  EXPECT_THAT(db->PutRaw("c", "k2", "v2"), IsOk());
  EXPECT_EQ(db->GetRaw("a", "k").value_or(""), "v");
}

TEST(DbOpenTest, PathThatIsARegularFileIsFailedPrecondition) {
  TempDir dir;
  std::string file = dir.Sub("file");
  std::ofstream(file) << "not a database";
  EXPECT_THAT(Db::Open(TestOptions(file, {"a"})),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(DbOpenTest, MissingDatabaseWithoutCreateIfMissingIsNotFound) {
  TempDir dir;
  Options options = TestOptions(dir.Sub("db"), {"a"});
  options.create_if_missing = false;
  EXPECT_THAT(Db::Open(options), StatusIs(absl::StatusCode::kNotFound));
}

TEST(DbOpenTest, SecondOpenOfSameDirectoryIsUnavailable) {
  TempDir dir;
  std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {"a"}));
  ASSERT_NE(db, nullptr);
  // The LOCK file is held: an I/O error, mapped to "retry later".
  EXPECT_THAT(Db::Open(TestOptions(dir.Sub("db"), {"a"})),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(DbOpenTest, InvalidOptionsAreInvalidArgument) {
  TempDir dir;
  EXPECT_THAT(Db::Open(TestOptions("", {"a"})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Options no_name = TestOptions(dir.Sub("db"), {"a"});
  no_name.name.clear();
  EXPECT_THAT(Db::Open(no_name), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Db::Open(TestOptions(dir.Sub("db"), {"a", "a"})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Db::Open(TestOptions(dir.Sub("db"), {""})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Options half_memory = TestOptions(dir.Sub("db"), {"a"});
  half_memory.shared_memory.block_cache = rocksdb::NewLRUCache(1 << 20);
  EXPECT_THAT(Db::Open(half_memory),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Options bad_sizes = TestOptions(dir.Sub("db"), {"a"});
  bad_sizes.memtable_bytes = bad_sizes.block_cache_bytes;
  EXPECT_THAT(Db::Open(bad_sizes),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DbOpenTest, TwoDatabasesShareOneMemoryBudget) {
  TempDir dir;
  absl::StatusOr<SharedMemory> memory =
      NewSharedMemory(size_t{16} << 20, size_t{8} << 20);
  ASSERT_THAT(memory, IsOk());
  Options first = TestOptions(dir.Sub("first"), {"a"});
  first.shared_memory = *memory;
  Options second = TestOptions(dir.Sub("second"), {"a"});
  second.shared_memory = *memory;
  std::unique_ptr<Db> db1 = MustOpen(first);
  std::unique_ptr<Db> db2 = MustOpen(second);
  ASSERT_NE(db1, nullptr);
  ASSERT_NE(db2, nullptr);
  ASSERT_THAT(db1->PutRaw("a", "k", std::string(1000, 'x')), IsOk());
  ASSERT_THAT(db2->PutRaw("a", "k", std::string(1000, 'y')), IsOk());
  EXPECT_EQ(db1->memory().block_cache, db2->memory().block_cache);
  // Memtables of both are charged to the one cache.
  EXPECT_GT(memory->write_buffer_manager->memory_usage(), 0u);
  EXPECT_GE(memory->block_cache->GetUsage(),
            memory->write_buffer_manager->memory_usage());
}

TEST(DbOpenTest, CompressionIsLz4OnThisBuild) {
  // Debian 12's librocksdb links liblz4; ChooseCompression checks at run time.
  EXPECT_EQ(ChooseCompression(), rocksdb::kLZ4Compression);
}

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = MustOpen(TestOptions(dir_.Sub("db"), {"jobs", "queue"}));
    ASSERT_NE(db_, nullptr);
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(DbTest, PutGetProtoRoundTrip) {
  Struct value;
  (*value.mutable_fields())["state"].set_string_value("RUNNING");
  (*value.mutable_fields())["gpus"].set_number_value(8);
  ASSERT_THAT(db_->Put("jobs", "job-1", value), IsOk());
  Struct read;
  ASSERT_THAT(db_->Get("jobs", "job-1", &read), IsOk());
  EXPECT_EQ(read.fields().at("state").string_value(), "RUNNING");
  EXPECT_EQ(read.fields().at("gpus").number_value(), 8);
}

TEST_F(DbTest, GetMissingKeyIsNotFoundNamingCfAndKey) {
  Timestamp read;
  absl::Status status = db_->Get("jobs", std::string("job\x00-9", 6), &read);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(status.message(), HasSubstr("cf=jobs"));
  EXPECT_THAT(status.message(), HasSubstr("key=\"job\\x00-9\""));
  EXPECT_THAT(db_->GetRaw("queue", "nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DbTest, MultiGetReadsPresentAndAbsentKeysInOrder) {
  ASSERT_THAT(db_->PutRaw("queue", "a", "1"), IsOk());
  ASSERT_THAT(db_->PutRaw("queue", "c", "3"), IsOk());
  ASSERT_THAT(db_->PutRaw("queue", "b", "2"), IsOk());
  auto values = db_->MultiGetRaw("queue", {"c", "nope", "a", "b", "a"});
  ASSERT_THAT(values, IsOk());
  EXPECT_THAT(*values,
              ::testing::ElementsAre("3", std::nullopt, "1", "2", "1"));
  EXPECT_THAT(db_->MultiGetRaw("queue", {}), IsOk());
  EXPECT_THAT(db_->MultiGetRaw("no_such_cf", {"a"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DbTest, UnknownColumnFamilyIsInvalidArgumentNotNotFound) {
  Timestamp read;
  EXPECT_THAT(db_->Get("nope", "k", &read),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(db_->PutRaw("nope", "k", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(db_->Delete("nope", "k"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DbTest, CorruptValueParsedIntoProtoIsDataLoss) {
  // Field 1, length-delimited, claims 5 bytes but only 2 follow.
  ASSERT_THAT(db_->PutRaw("jobs", "job-1",
                          std::string("\x0a\x05"
                                      "ab",
                                      4)),
              IsOk());
  Timestamp read;
  absl::Status status = db_->Get("jobs", "job-1", &read);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(status.message(), HasSubstr("google.protobuf.Timestamp"));
}

TEST_F(DbTest, PutOfIncompleteProto2MessageIsInvalidArgument) {
  // NamePart has required fields; an empty one cannot be serialized.
  google::protobuf::UninterpretedOption::NamePart incomplete;
  EXPECT_THAT(db_->Put("jobs", "k", incomplete),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(db_->GetRaw("jobs", "k"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DbTest, DeleteRemovesKeyAndMissingDeleteIsOk) {
  ASSERT_THAT(db_->PutRaw("jobs", "k", "v"), IsOk());
  ASSERT_THAT(db_->Delete("jobs", "k"), IsOk());
  EXPECT_THAT(db_->GetRaw("jobs", "k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db_->Delete("jobs", "never-there"), IsOk());
}

TEST_F(DbTest, ColumnFamiliesAreSeparateKeySpaces) {
  ASSERT_THAT(db_->PutRaw("jobs", "k", "in jobs"), IsOk());
  ASSERT_THAT(db_->PutRaw("queue", "k", "in queue"), IsOk());
  EXPECT_EQ(db_->GetRaw("jobs", "k").value_or(""), "in jobs");
  EXPECT_EQ(db_->GetRaw("queue", "k").value_or(""), "in queue");
  EXPECT_THAT(db_->GetRaw("default", "k"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DbTest, EveryOperationAfterCloseIsFailedPrecondition) {
  ASSERT_THAT(db_->Close(), IsOk());
  constexpr auto kClosed = absl::StatusCode::kFailedPrecondition;
  Timestamp read;
  EXPECT_THAT(db_->Get("jobs", "k", &read), StatusIs(kClosed));
  EXPECT_THAT(db_->GetRaw("jobs", "k"), StatusIs(kClosed));
  EXPECT_THAT(db_->Put("jobs", "k", read), StatusIs(kClosed));
  EXPECT_THAT(db_->PutRaw("jobs", "k", "v"), StatusIs(kClosed));
  EXPECT_THAT(db_->Delete("jobs", "k"), StatusIs(kClosed));
  WriteBatch batch;
  EXPECT_THAT(db_->Write(batch), StatusIs(kClosed));
  batch.PutRaw("jobs", "k", "v");
  EXPECT_THAT(db_->Write(batch), StatusIs(kClosed));
  EXPECT_THAT(db_->NewIterator("jobs", KeyRange::All(), Direction::kForward),
              StatusIs(kClosed));
  EXPECT_THAT(
      db_->Scan("jobs", KeyRange::All(), Direction::kForward,
                [](std::string_view, std::string_view) { return true; }),
      StatusIs(kClosed));
  EXPECT_THAT(db_->GetIntProperty("rocksdb.is-write-stopped"),
              StatusIs(kClosed));
  EXPECT_THAT(db_->Close(), StatusIs(kClosed));
  EXPECT_TRUE(db_->ColumnFamilies().empty());
}

TEST_F(DbTest, CloseReleasesTheDirectoryForAnotherOpen) {
  ASSERT_THAT(db_->PutRaw("jobs", "k", "v"), IsOk());
  ASSERT_THAT(db_->Close(), IsOk());
  std::unique_ptr<Db> again =
      MustOpen(TestOptions(dir_.Sub("db"), {"jobs", "queue"}));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->GetRaw("jobs", "k").value_or(""), "v");
}

TEST_F(DbTest, CloseWithLiveIteratorIsFailedPreconditionAndKeepsDbOpen) {
  ASSERT_THAT(db_->PutRaw("jobs", "k", "v"), IsOk());
  {
    absl::StatusOr<std::unique_ptr<Iterator>> it =
        db_->NewIterator("jobs", KeyRange::All(), Direction::kForward);
    ASSERT_THAT(it, IsOk());
    EXPECT_THAT(db_->Close(), StatusIs(absl::StatusCode::kFailedPrecondition));
    // Still open, and the iterator still works.
    ASSERT_TRUE((*it)->Valid());
    EXPECT_EQ((*it)->key(), "k");
    EXPECT_EQ(db_->GetRaw("jobs", "k").value_or(""), "v");
  }
  EXPECT_THAT(db_->Close(), IsOk());
}

TEST(DbDeathTest, DestroyingDbWithLiveIteratorAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The threadsafe style re-runs this test in a child process that dies
  // without running destructors. The child reuses the parent's directory,
  // passed through the environment, so that the parent's TempDir removes it.
  constexpr char kDirEnv[] = "TRAINYARD_STORAGE_DEATH_TEST_DB";
  std::optional<TempDir> dir;
  std::string path;
  if (const char* inherited = getenv(kDirEnv); inherited != nullptr) {
    path = inherited;
  } else {
    dir.emplace();
    path = dir->Sub("db");
    setenv(kDirEnv, path.c_str(), /*overwrite=*/1);
  }
  EXPECT_DEATH(
      {
        std::unique_ptr<Db> db = MustOpen(TestOptions(path, {"a"}));
        absl::StatusOr<std::unique_ptr<Iterator>> it =
            db->NewIterator("a", KeyRange::All(), Direction::kForward);
        db.reset();
      },
      "destroyed with 1 live iterators");
  if (dir.has_value()) unsetenv(kDirEnv);
}

TEST_F(DbTest, IntPropertiesDatabaseWideAndAggregated) {
  ASSERT_THAT(db_->PutRaw("jobs", "k", std::string(100, 'x')), IsOk());
  EXPECT_EQ(db_->GetIntProperty("rocksdb.is-write-stopped").value_or(99), 0u);
  EXPECT_GT(db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables")
                .value_or(0),
            0u);
  EXPECT_THAT(db_->GetIntProperty("rocksdb.no-such-property"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DbSyncTest, SyncWritesFsyncTheWalAndDefaultDoesNot) {
  for (bool sync : {false, true}) {
    SCOPED_TRACE(sync ? "sync_writes" : "no sync_writes");
    TempDir dir;
    Options options = TestOptions(dir.Sub("db"), {"a"});
    options.sync_writes = sync;
    std::unique_ptr<Db> db = MustOpen(options);
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(db->sync_writes(), sync);
    uint64_t before = db->statistics().getTickerCount(rocksdb::WAL_FILE_SYNCED);
    ASSERT_THAT(db->PutRaw("a", "k", "v"), IsOk());
    WriteBatch batch;
    batch.PutRaw("a", "k2", "v2");
    ASSERT_THAT(db->Write(batch), IsOk());
    uint64_t syncs =
        db->statistics().getTickerCount(rocksdb::WAL_FILE_SYNCED) - before;
    if (sync) {
      EXPECT_EQ(syncs, 2u);  // One per write group; these were sequential.
    } else {
      EXPECT_EQ(syncs, 0u);
    }
    // Either way the write went through the WAL.
    EXPECT_GT(db->statistics().getTickerCount(rocksdb::WAL_FILE_BYTES), 0u);
  }
}

TEST(DbConcurrencyTest, ConcurrentWritersAndReadersSeeTheirWrites) {
  TempDir dir;
  Options options = TestOptions(dir.Sub("db"), {"a"});
  options.sync_writes = true;
  std::unique_ptr<Db> db = MustOpen(options);
  ASSERT_NE(db, nullptr);
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&db, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_THAT(db->PutRaw("a", key, key), IsOk());
        EXPECT_EQ(db->GetRaw("a", key).value_or(""), key);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int count = 0;
  ASSERT_THAT(db->Scan("a", KeyRange::All(), Direction::kForward,
                       [&count](std::string_view, std::string_view) {
                         ++count;
                         return true;
                       }),
              IsOk());
  EXPECT_EQ(count, kThreads * kWritesPerThread);
  // Group commit never needs more fsyncs than writes.
  EXPECT_LE(db->statistics().getTickerCount(rocksdb::WAL_FILE_SYNCED),
            static_cast<uint64_t>(kThreads * kWritesPerThread));
}

TEST(DbConcurrencyTest, CloseRacingWithOperationsIsSafe) {
  TempDir dir;
  std::unique_ptr<Db> db = MustOpen(TestOptions(dir.Sub("db"), {"a"}));
  ASSERT_NE(db, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&db] {
      for (int i = 0; i < 200; ++i) {
        absl::Status s = db->PutRaw("a", "k" + std::to_string(i), "v");
        EXPECT_TRUE(s.ok() || absl::IsFailedPrecondition(s)) << s;
        absl::StatusOr<std::string> v = db->GetRaw("a", "k0");
        EXPECT_TRUE(v.ok() || absl::IsNotFound(v.status()) ||
                    absl::IsFailedPrecondition(v.status()))
            << v.status();
      }
    });
  }
  EXPECT_THAT(db->Close(), IsOk());
  for (std::thread& thread : threads) thread.join();
}

}  // namespace
}  // namespace trainyard::storage
