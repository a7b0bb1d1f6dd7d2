// Copyright 2026 Trainyard authors.
#include "common/storage/checkpoint.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::storage {
namespace {

using ::testing::Contains;
using ::trainyard::storage::testing::TestOptions;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TempDir;

std::string Key(int i) { return absl::StrCat("k", 100000000 + i); }

TEST(Checkpoint, HoldsEveryWriteAcknowledgedBeforeItDuringConcurrentWrites) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> db,
                       Db::Open(TestOptions(dir.Sub("db"), {"a", "b"})));
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      WriteBatch batch;
      batch.PutRaw("a", Key(i), "va");
      batch.PutRaw("b", Key(i), "vb");
      ASSERT_OK(db->Write(batch));
      acknowledged = i + 1;
    }
  });
  while (acknowledged < 2000) std::this_thread::yield();
  int before = acknowledged;
  Checkpointer checkpointer(*db, dir.Sub("checkpoints"));
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, checkpointer.Create("during"));
  stop = true;
  writer.join();
  EXPECT_EQ(info.path, dir.Sub("checkpoints") + "/during");
  EXPECT_GT(info.sequence, 0u);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> copy,
                       Db::Open(TestOptions(info.path, {"a", "b"})));
  for (int i = 0; i < before; ++i) {
    ASSERT_THAT(copy->GetRaw("a", Key(i)), IsOkAndHolds("va")) << i;
    ASSERT_THAT(copy->GetRaw("b", Key(i)), IsOkAndHolds("vb")) << i;
  }
  // One moment for both column families: a batch is whole or absent.
  int in_a = 0, in_b = 0;
  for (int i = before; i < acknowledged; ++i) {
    in_a += copy->GetRaw("a", Key(i)).ok();
    in_b += copy->GetRaw("b", Key(i)).ok();
  }
  EXPECT_EQ(in_a, in_b);
}

TEST(Checkpoint, IsIndependentOfTheDatabaseAfterwards) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> db,
                       Db::Open(TestOptions(dir.Sub("db"), {"a"})));
  ASSERT_OK(db->PutRaw("a", "before", "1"));
  Checkpointer checkpointer(*db, dir.Sub("checkpoints"));
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, checkpointer.Create("c1"));
  ASSERT_OK(db->PutRaw("a", "after", "2"));
  ASSERT_OK(db->Delete("a", "before"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> copy,
                       Db::Open(TestOptions(info.path, {"a"})));
  EXPECT_THAT(copy->GetRaw("a", "before"), IsOkAndHolds("1"));
  EXPECT_THAT(copy->GetRaw("a", "after"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(copy->ColumnFamilies(), Contains("a"));
}

TEST(Checkpoint, RejectsNamesThatAreNotOneDirectoryUnderTheRoot) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> db,
                       Db::Open(TestOptions(dir.Sub("db"), {"a"})));
  Checkpointer checkpointer(*db, dir.Sub("checkpoints"));
  for (const std::string& name : std::vector<std::string>{
           "", ".", "..", "../escape", "a/b", "/abs", ".hidden", "-dash",
           "x.tmp", "sp ace", "caf\xc3\xa9", std::string("nul\0x", 5),
           std::string(101, 'a')}) {
    EXPECT_THAT(checkpointer.Create(name),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << name;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("escape")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("checkpoints")));
  EXPECT_OK(ValidateCheckpointName("nightly-2026-12-05T13.00_01"));
}

TEST(Checkpoint, AnExistingNameIsAlreadyExistsAndLeftAlone) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> db,
                       Db::Open(TestOptions(dir.Sub("db"), {"a"})));
  ASSERT_OK(db->PutRaw("a", "k", "1"));
  Checkpointer checkpointer(*db, dir.Sub("checkpoints"));
  ASSERT_OK(checkpointer.Create("c1").status());
  ASSERT_OK(db->PutRaw("a", "k", "2"));
  EXPECT_THAT(checkpointer.Create("c1"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> copy,
                       Db::Open(TestOptions(dir.Sub("checkpoints/c1"), {"a"})));
  EXPECT_THAT(copy->GetRaw("a", "k"), IsOkAndHolds("1"));
}

TEST(Checkpoint, DisabledWithoutARoot) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> db,
                       Db::Open(TestOptions(dir.Sub("db"), {"a"})));
  Checkpointer checkpointer(*db, "");
  EXPECT_FALSE(checkpointer.enabled());
  EXPECT_THAT(checkpointer.Create("c1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(Checkpoint, AfterCloseIsFailedPrecondition) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Db> db,
                       Db::Open(TestOptions(dir.Sub("db"), {"a"})));
  ASSERT_OK(db->Close());
  Checkpointer checkpointer(*db, dir.Sub("checkpoints"));
  EXPECT_THAT(checkpointer.Create("c1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace trainyard::storage
