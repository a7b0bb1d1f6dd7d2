#include "common/storage/keys.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::storage {
namespace {

using ::testing::Optional;

TEST(Uint64Test, BigEndianByteOrderEqualsNumericOrder) {
  // Sorted numerically, including byte-carry and sign-bit edges.
  const std::vector<uint64_t> values = {0,
                                        1,
                                        255,
                                        256,
                                        257,
                                        65535,
                                        65536,
                                        (uint64_t{1} << 32) - 1,
                                        uint64_t{1} << 32,
                                        (uint64_t{1} << 63) - 1,
                                        uint64_t{1} << 63,
                                        (uint64_t{1} << 63) + 1,
                                        ~uint64_t{0}};
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    EXPECT_LT(EncodeUint64(values[i]), EncodeUint64(values[i + 1]))
        << values[i] << " vs " << values[i + 1];
  }
  EXPECT_EQ(EncodeUint64(256), std::string("\0\0\0\0\0\0\x01\x00", 8));
  EXPECT_EQ(EncodeUint64(uint64_t{1} << 63),
            std::string("\x80\0\0\0\0\0\0\0", 8));
}

TEST(Uint64Test, RandomPairsCompareLikeNumbers) {
  std::mt19937_64 rng(42);  // Fixed seed: deterministic.
  for (int i = 0; i < 10000; ++i) {
    uint64_t a = rng() >> (rng() % 64);
    uint64_t b = rng() >> (rng() % 64);
    EXPECT_EQ(a < b, EncodeUint64(a) < EncodeUint64(b)) << a << " " << b;
  }
}

TEST(Uint64Test, RoundTripAndShortInput) {
  for (uint64_t v : {uint64_t{0}, uint64_t{255}, uint64_t{256},
                     uint64_t{1} << 63, ~uint64_t{0}}) {
    std::string encoded = "x";
    AppendUint64(&encoded, v);
    encoded += "tail";
    std::string_view input(encoded);
    input.remove_prefix(1);
    uint64_t decoded = 1;
    ASSERT_TRUE(ConsumeUint64(&input, &decoded));
    EXPECT_EQ(decoded, v);
    EXPECT_EQ(input, "tail");
  }
  std::string_view short_input("\x01\x02\x03", 3);
  uint64_t untouched = 7;
  EXPECT_FALSE(ConsumeUint64(&short_input, &untouched));
  EXPECT_EQ(untouched, 7u);
  EXPECT_EQ(short_input.size(), 3u);
}

TEST(PrefixSuccessorTest, IncrementsLastNonFfByte) {
  EXPECT_THAT(PrefixSuccessor("a"), Optional(std::string("b")));
  EXPECT_THAT(PrefixSuccessor("job|"), Optional(std::string("job}")));
  EXPECT_THAT(PrefixSuccessor("a\xff"), Optional(std::string("b")));
  EXPECT_THAT(PrefixSuccessor("a\xff\xff"), Optional(std::string("b")));
  EXPECT_THAT(PrefixSuccessor(std::string("a\x00", 2)),
              Optional(std::string("a\x01")));
  EXPECT_THAT(PrefixSuccessor(std::string("\xfe\xff", 2)),
              Optional(std::string("\xff")));
}

TEST(PrefixSuccessorTest, NoneForEmptyOrAllFf) {
  EXPECT_EQ(PrefixSuccessor(""), std::nullopt);
  EXPECT_EQ(PrefixSuccessor("\xff"), std::nullopt);
  EXPECT_EQ(PrefixSuccessor("\xff\xff\xff"), std::nullopt);
}

TEST(PrefixSuccessorTest, BoundsEveryExtensionOfThePrefix) {
  const std::string prefix = "ab\xff";
  std::optional<std::string> limit = PrefixSuccessor(prefix);
  ASSERT_TRUE(limit.has_value());
  for (const std::string& suffix :
       {std::string(""), std::string("\x00", 1), std::string("\xff\xff\xff")}) {
    EXPECT_LT(prefix + suffix, *limit);
  }
  EXPECT_GE(std::string("ac"), *limit);
}

TEST(KeyBuilderTest, TupleOrderEqualsByteOrder) {
  using Tuple = std::tuple<std::string, uint64_t>;
  std::vector<Tuple> tuples = {
      {"", 5},
      {"a", 0},
      {"a", 1},
      {"a", ~uint64_t{0}},
      {std::string("a\x00", 2), 0},
      {std::string("a\x00\x01", 3), 0},
      {"a\x01", 0},
      {"ab", 0},
      {"b", 0},
      {"\xff", 0},
  };
  ASSERT_TRUE(std::is_sorted(tuples.begin(), tuples.end()));
  std::vector<std::string> keys;
  for (const auto& [s, n] : tuples) {
    keys.push_back(KeyBuilder().AddString(s).AddUint64(n).Build());
  }
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    EXPECT_LT(keys[i], keys[i + 1]) << "tuple " << i;
  }
}

TEST(KeyBuilderTest, PrefixOfOneIdDoesNotMatchALongerId) {
  std::string job1 = KeyBuilder().AddString("job1").Build();
  std::string job10_key =
      KeyBuilder().AddString("job10").AddString("loss").AddUint64(0).Build();
  EXPECT_FALSE(job10_key.starts_with(job1));
  std::string job1_key =
      KeyBuilder().AddString("job1").AddString("loss").AddUint64(0).Build();
  EXPECT_TRUE(job1_key.starts_with(job1));
}

TEST(KeyBuilderTest, ComponentsWithSeparatorBytesRoundTrip) {
  const std::string tricky[] = {"",
                                std::string("\x00", 1),
                                std::string("\x00\x01", 2),
                                std::string("\x00\xff", 2),
                                std::string("a\x00\x00z", 4),
                                "\xff\xff"};
  for (const std::string& s : tricky) {
    KeyBuilder builder;
    builder.AddString(s).AddUint64(0xff00ff00ff00ff00).AddString("next");
    KeyReader reader(builder.key());
    std::string first, second;
    uint64_t n = 0;
    ASSERT_TRUE(reader.ReadString(&first));
    ASSERT_TRUE(reader.ReadUint64(&n));
    ASSERT_TRUE(reader.ReadString(&second));
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(first, s);
    EXPECT_EQ(n, 0xff00ff00ff00ff00u);
    EXPECT_EQ(second, "next");
  }
}

TEST(KeyBuilderTest, BuildEmptiesTheBuilder) {
  KeyBuilder builder;
  builder.AddString("a");
  std::string key = builder.Build();
  EXPECT_EQ(key, std::string("a\x00\x01", 3));
  EXPECT_TRUE(builder.key().empty());
}

TEST(KeyReaderTest, RejectsMalformedComponents) {
  std::string out;
  uint64_t n = 0;
  const std::string no_terminator = "abc";
  EXPECT_FALSE(KeyReader(no_terminator).ReadString(&out));
  const std::string cut_after_escape("a\x00", 2);
  EXPECT_FALSE(KeyReader(cut_after_escape).ReadString(&out));
  const std::string bad_escape("a\x00\x02", 3);
  EXPECT_FALSE(KeyReader(bad_escape).ReadString(&out));
  const std::string seven_bytes = "1234567";
  EXPECT_FALSE(KeyReader(seven_bytes).ReadUint64(&n));
  const std::string key("a\x00\x01rest", 7);
  KeyReader reader(key);
  ASSERT_TRUE(reader.ReadString(&out));
  EXPECT_EQ(out, "a");
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(reader.remaining(), "rest");
}

TEST(PrintableKeyTest, EscapesBinaryAndTruncatesLongKeys) {
  EXPECT_EQ(PrintableKey("job-1"), "job-1");
  EXPECT_EQ(PrintableKey(std::string("a\x00\xff\"", 4)), "a\\x00\\xff\\\"");
  std::string long_key(100, 'k');
  std::string printed = PrintableKey(long_key);
  EXPECT_EQ(printed, std::string(64, 'k') + "...(100 bytes)");
}

}  // namespace
}  // namespace trainyard::storage
