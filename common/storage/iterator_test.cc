#include "common/storage/iterator.h"

#include <memory>
#include <string>
#include <vector>

#include "common/storage/db.h"
#include "common/storage/keys.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"

namespace trainyard::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::trainyard::storage::testing::TestOptions;
using ::trainyard::testing::IsOk;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TempDir;

class IteratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Db>> db =
        Db::Open(TestOptions(dir_.Sub("db"), {"s", "other"}));
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
    for (const std::string& key : kKeys) {
      ASSERT_THAT(db_->PutRaw("s", key, "v:" + key), IsOk());
    }
    // Same keys in another family must never show up.
    ASSERT_THAT(db_->PutRaw("other", "b", "other"), IsOk());
  }

  // Keys visited by Scan.
  std::vector<std::string> ScanKeys(const KeyRange& range,
                                    Direction direction) {
    std::vector<std::string> keys;
    EXPECT_THAT(db_->Scan("s", range, direction,
                          [&keys](std::string_view key, std::string_view) {
                            keys.emplace_back(key);
                            return true;
                          }),
                IsOk());
    return keys;
  }

  // Keys visited by an Iterator; must equal ScanKeys.
  std::vector<std::string> IterateKeys(const KeyRange& range,
                                       Direction direction) {
    std::vector<std::string> keys;
    absl::StatusOr<std::unique_ptr<Iterator>> it =
        db_->NewIterator("s", range, direction);
    EXPECT_THAT(it, IsOk());
    if (!it.ok()) return keys;
    for (; (*it)->Valid(); (*it)->Next()) {
      EXPECT_EQ((*it)->value(), "v:" + std::string((*it)->key()));
      keys.emplace_back((*it)->key());
    }
    EXPECT_THAT((*it)->status(), IsOk());
    return keys;
  }

  // Both ways, checked against each other.
  std::vector<std::string> Keys(const KeyRange& range, Direction direction) {
    std::vector<std::string> scanned = ScanKeys(range, direction);
    EXPECT_EQ(scanned, IterateKeys(range, direction));
    return scanned;
  }

  const std::vector<std::string> kKeys = {
      "a", "b", "b\x01", "ba", "bb", "b\xff", "b\xff\xff", "c", "\xff\xff"};
  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(IteratorTest, AllForwardAndReverse) {
  EXPECT_THAT(Keys(KeyRange::All(), Direction::kForward),
              ElementsAreArray(kKeys));
  std::vector<std::string> reversed(kKeys.rbegin(), kKeys.rend());
  EXPECT_THAT(Keys(KeyRange::All(), Direction::kReverse),
              ElementsAreArray(reversed));
}

TEST_F(IteratorTest, PrefixScanExcludesNeighboursBothDirections) {
  // "a" sorts before the prefix and "c" is its successor: both excluded.
  EXPECT_THAT(Keys(KeyRange::Prefix("b"), Direction::kForward),
              ElementsAre("b", "b\x01", "ba", "bb", "b\xff", "b\xff\xff"));
  EXPECT_THAT(Keys(KeyRange::Prefix("b"), Direction::kReverse),
              ElementsAre("b\xff\xff", "b\xff", "bb", "ba", "b\x01", "b"));
}

TEST_F(IteratorTest, PrefixEndingInFfUsesCarriedSuccessor) {
  // Successor of "b\xff" is "c".
  EXPECT_THAT(Keys(KeyRange::Prefix("b\xff"), Direction::kForward),
              ElementsAre("b\xff", "b\xff\xff"));
  EXPECT_THAT(Keys(KeyRange::Prefix("b\xff"), Direction::kReverse),
              ElementsAre("b\xff\xff", "b\xff"));
}

TEST_F(IteratorTest, AllFfPrefixHasNoUpperBoundAndReachesTheLastKey) {
  KeyRange range = KeyRange::Prefix("\xff");
  EXPECT_FALSE(range.limit.has_value());
  EXPECT_THAT(Keys(range, Direction::kForward), ElementsAre("\xff\xff"));
  EXPECT_THAT(Keys(range, Direction::kReverse), ElementsAre("\xff\xff"));
}

TEST_F(IteratorTest, PrefixWithNoKeysIsEmpty) {
  EXPECT_THAT(Keys(KeyRange::Prefix("bc"), Direction::kForward), IsEmpty());
  EXPECT_THAT(Keys(KeyRange::Prefix("bc"), Direction::kReverse), IsEmpty());
  EXPECT_THAT(Keys(KeyRange::Prefix("0"), Direction::kReverse), IsEmpty());
}

TEST_F(IteratorTest, RangeIsHalfOpenBothDirections) {
  // Start is an existing key (included), limit too (excluded).
  EXPECT_THAT(Keys(KeyRange::Between("b", "bb"), Direction::kForward),
              ElementsAre("b", "b\x01", "ba"));
  EXPECT_THAT(Keys(KeyRange::Between("b", "bb"), Direction::kReverse),
              ElementsAre("ba", "b\x01", "b"));
  // Bounds between keys.
  EXPECT_THAT(Keys(KeyRange::Between("b\x02", "bc"), Direction::kForward),
              ElementsAre("ba", "bb"));
  EXPECT_THAT(Keys(KeyRange::Between("b\x02", "bc"), Direction::kReverse),
              ElementsAre("bb", "ba"));
}

TEST_F(IteratorTest, SeekMovesForwardAndBackWithinTheRange) {
  absl::StatusOr<std::unique_ptr<Iterator>> it =
      db_->NewIterator("s", KeyRange::Between("b", "c"), Direction::kForward);
  ASSERT_THAT(it, IsOk());
  Iterator& iter = **it;
  iter.Seek("bb");  // an existing key
  ASSERT_TRUE(iter.Valid());
  EXPECT_EQ(iter.key(), "bb");
  EXPECT_EQ(iter.value(), "v:bb");
  iter.Seek("b\x02");  // back, between keys: the next one
  ASSERT_TRUE(iter.Valid());
  EXPECT_EQ(iter.key(), "ba");
  iter.Next();
  EXPECT_EQ(iter.key(), "bb");
  iter.Seek("a");  // before the range: its first key, never "a"
  ASSERT_TRUE(iter.Valid());
  EXPECT_EQ(iter.key(), "b");
  iter.Seek("b\xff\xff\x01");  // past the last key of the range
  EXPECT_FALSE(iter.Valid());
  iter.Seek("c");  // the limit itself is outside
  EXPECT_FALSE(iter.Valid());
  EXPECT_THAT(iter.status(), IsOk());
}

TEST_F(IteratorTest, RangeBoundsAtTheEdgesOfTheColumnFamily) {
  // Start before the first key, limit after the last.
  EXPECT_THAT(Keys(KeyRange::Between("", "\xff\xff\xff"), Direction::kForward),
              ElementsAreArray(kKeys));
  // Start exactly at the first key, limit exactly at the last (excluded).
  EXPECT_THAT(
      Keys(KeyRange::Between("a", "\xff\xff"), Direction::kReverse),
      ElementsAre("c", "b\xff\xff", "b\xff", "bb", "ba", "b\x01", "b", "a"));
  // Open-ended: from the last key.
  EXPECT_THAT(Keys(KeyRange::AtLeast("\xff\xff"), Direction::kForward),
              ElementsAre("\xff\xff"));
  EXPECT_THAT(Keys(KeyRange::AtLeast("c"), Direction::kReverse),
              ElementsAre("\xff\xff", "c"));
  // Limit at the first key: nothing before it.
  EXPECT_THAT(Keys(KeyRange::Between("", "a"), Direction::kReverse), IsEmpty());
  // Start past the last key.
  EXPECT_THAT(Keys(KeyRange::AtLeast(std::string("\xff\xff\x00", 3)),
                   Direction::kForward),
              IsEmpty());
}

TEST_F(IteratorTest, EmptyAndInvertedRangesYieldNothing) {
  EXPECT_TRUE(KeyRange::Between("b", "b").IsEmpty());
  EXPECT_TRUE(KeyRange::Between("c", "a").IsEmpty());
  EXPECT_FALSE(KeyRange::All().IsEmpty());
  for (Direction direction : {Direction::kForward, Direction::kReverse}) {
    EXPECT_THAT(Keys(KeyRange::Between("b", "b"), direction), IsEmpty());
    EXPECT_THAT(Keys(KeyRange::Between("c", "a"), direction), IsEmpty());
    // A non-empty range that holds no key.
    EXPECT_THAT(Keys(KeyRange::Between("bb\x01", "b\xff"), direction),
                IsEmpty());
  }
}

TEST_F(IteratorTest, ScanStopsWhenVisitorReturnsFalse) {
  std::vector<std::string> seen;
  ASSERT_THAT(db_->Scan("s", KeyRange::All(), Direction::kReverse,
                        [&seen](std::string_view key, std::string_view) {
                          seen.emplace_back(key);
                          return seen.size() < 2;
                        }),
              IsOk());
  EXPECT_THAT(seen, ElementsAre("\xff\xff", "c"));
}

TEST_F(IteratorTest, VisitorMayUseTheDb) {
  int found = 0;
  ASSERT_THAT(db_->Scan("s", KeyRange::Prefix("b"), Direction::kForward,
                        [&](std::string_view key, std::string_view) {
                          found += db_->GetRaw("s", key).ok() ? 1 : 0;
                          return true;
                        }),
              IsOk());
  EXPECT_EQ(found, 6);
}

TEST_F(IteratorTest, IteratorOwnsItsBounds) {
  std::unique_ptr<Iterator> it;
  {
    std::string start = "b";
    std::string limit = "bb";
    absl::StatusOr<std::unique_ptr<Iterator>> created = db_->NewIterator(
        "s", KeyRange::Between(start, limit), Direction::kForward);
    ASSERT_THAT(created, IsOk());
    it = *std::move(created);
    start.assign(100, 'z');  // Overwrite and free the caller's bounds.
    limit.assign(100, 'z');
  }
  std::vector<std::string> keys;
  for (; it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_THAT(keys, ElementsAre("b", "b\x01", "ba"));
}

TEST_F(IteratorTest, IteratorSeesSnapshotTakenAtCreation) {
  absl::StatusOr<std::unique_ptr<Iterator>> it =
      db_->NewIterator("s", KeyRange::Prefix("b"), Direction::kForward);
  ASSERT_THAT(it, IsOk());
  ASSERT_THAT(db_->PutRaw("s", "b0", "v:b0"), IsOk());
  ASSERT_THAT(db_->Delete("s", "ba"), IsOk());
  std::vector<std::string> keys;
  for (; (*it)->Valid(); (*it)->Next()) keys.emplace_back((*it)->key());
  EXPECT_THAT(keys,
              ElementsAre("b", "b\x01", "ba", "bb", "b\xff", "b\xff\xff"));
}

TEST_F(IteratorTest, ParseValueDecodesProtoOrReportsDataLoss) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(1234);
  ASSERT_THAT(db_->Put("other", "good", ts), IsOk());
  ASSERT_THAT(db_->PutRaw("other", "junk",
                          std::string("\x0a\x05"
                                      "ab",
                                      4)),
              IsOk());
  absl::StatusOr<std::unique_ptr<Iterator>> it = db_->NewIterator(
      "other", KeyRange::Between("g", "k"), Direction::kForward);
  ASSERT_THAT(it, IsOk());
  ASSERT_TRUE((*it)->Valid());
  google::protobuf::Timestamp read;
  ASSERT_THAT((*it)->ParseValue(&read), IsOk());
  EXPECT_EQ(read.seconds(), 1234);
  (*it)->Next();
  ASSERT_TRUE((*it)->Valid());
  EXPECT_EQ((*it)->key(), "junk");
  EXPECT_THAT((*it)->ParseValue(&read), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(IteratorTest, UnknownColumnFamilyIsInvalidArgument) {
  EXPECT_THAT(db_->NewIterator("nope", KeyRange::All(), Direction::kForward),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      db_->Scan("nope", KeyRange::All(), Direction::kForward,
                [](std::string_view, std::string_view) { return true; }),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(IteratorTest, BigEndianKeysScanInNumericOrder) {
  std::vector<uint64_t> steps = {256,          0,    uint64_t{1} << 63, 255, 1,
                                 ~uint64_t{0}, 65536};
  for (uint64_t step : steps) {
    ASSERT_THAT(
        db_->PutRaw("other",
                    KeyBuilder().AddString("job").AddUint64(step).Build(), ""),
        IsOk());
  }
  std::vector<uint64_t> seen;
  ASSERT_THAT(
      db_->Scan("other", KeyRange::Prefix(KeyBuilder().AddString("job").key()),
                Direction::kForward,
                [&seen](std::string_view key, std::string_view) {
                  KeyReader reader(key);
                  std::string job;
                  uint64_t step = 0;
                  EXPECT_TRUE(reader.ReadString(&job));
                  EXPECT_TRUE(reader.ReadUint64(&step));
                  EXPECT_TRUE(reader.done());
                  seen.push_back(step);
                  return true;
                }),
      IsOk());
  EXPECT_THAT(seen, ElementsAre(0, 1, 255, 256, 65536, uint64_t{1} << 63,
                                ~uint64_t{0}));
}

}  // namespace
}  // namespace trainyard::storage
