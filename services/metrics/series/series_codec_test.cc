#include "services/metrics/series/series_codec.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::trainyard::testing::StatusIs;

constexpr int64_t kMaxStep = std::numeric_limits<int64_t>::max();

TEST(SeriesCodecTest, PointsRoundTripBitForBit) {
  double payload_nan = std::bit_cast<double>(uint64_t{0x7ff8000000000abc});
  std::vector<SeriesPoint> points = {
      {0, 1.5, 1},
      {1, -0.0, 1},
      {2, std::numeric_limits<double>::infinity(), 2},
      {300, -std::numeric_limits<double>::infinity(), 1},
      {301, payload_nan, 7},
      {1LL << 40, std::numeric_limits<double>::denorm_min(), 3},
      {kMaxStep, -1e300, std::numeric_limits<int32_t>::max()},
  };
  std::string bytes = EncodePoints(points);
  std::vector<SeriesPoint> decoded;
  ASSERT_OK(DecodePoints(bytes, &decoded));
  EXPECT_EQ(decoded, points);  // operator== compares value bits.
}

TEST(SeriesCodecTest, TypicalPointTakesTenBytes) {
  std::vector<SeriesPoint> points;
  for (int i = 0; i < 256; ++i) points.push_back({1000 + i, 0.5 / (i + 1), 2});
  EXPECT_LE(EncodePoints(points).size(), 2 + 3 + 256 * 10u);
}

TEST(SeriesCodecTest, CorruptPointBlocksAreDataLoss) {
  std::string good =
      EncodePoints(std::vector<SeriesPoint>{{5, 1, 1}, {6, 2, 1}});
  std::vector<SeriesPoint> out;
  EXPECT_THAT(DecodePoints("", &out), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodePoints(good.substr(0, good.size() - 1), &out),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodePoints(good + "x", &out),
              StatusIs(absl::StatusCode::kDataLoss));
  std::string bad_format = good;
  bad_format[0] = 9;
  EXPECT_THAT(DecodePoints(bad_format, &out),
              StatusIs(absl::StatusCode::kDataLoss));
  // A repeated step (delta 0) is corrupt.
  std::string repeated = good;
  repeated[2 + 1 + 1 + 8] = 0;  // Second point's step delta.
  EXPECT_THAT(DecodePoints(repeated, &out),
              StatusIs(absl::StatusCode::kDataLoss));
  // A huge count is rejected before allocating.
  std::string huge = {1, '\xff', '\xff', '\xff', '\xff', '\x0f'};
  EXPECT_THAT(DecodePoints(huge, &out), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SeriesCodecTest, ChunkMetaRoundTrips) {
  std::vector<SeriesPoint> points = {{100, 3, 1}, {150, -2, 2}, {400, 9, 2}};
  ChunkMeta meta = MakeChunkMeta(points, 42);
  ChunkMeta decoded;
  ASSERT_OK(DecodeChunkMeta(100, EncodeChunkMeta(meta), &decoded));
  EXPECT_EQ(decoded, meta);
  EXPECT_EQ(decoded.extremes.count, 3);
  EXPECT_EQ(decoded.extremes.min, points[1]);
  EXPECT_EQ(decoded.extremes.max, points[2]);
  EXPECT_EQ(decoded.last, points[2]);

  EXPECT_THAT(DecodeChunkMeta(100, "", &decoded),
              StatusIs(absl::StatusCode::kDataLoss));
  std::string bytes = EncodeChunkMeta(meta);
  EXPECT_THAT(DecodeChunkMeta(100, bytes.substr(0, bytes.size() - 2), &decoded),
              StatusIs(absl::StatusCode::kDataLoss));
  // A first step that would push last_step past int64 is corrupt.
  EXPECT_THAT(DecodeChunkMeta(kMaxStep, bytes, &decoded),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace trainyard::metrics
