#include "services/metrics/series/series_codec.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
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

TEST(SeriesCodecTest, R_DASH_04_PointsRoundTripBitForBit) {
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

TEST(SeriesCodecTest, R_DASH_04_TypicalPointTakesTenBytes) {
  std::vector<SeriesPoint> points;
  for (int i = 0; i < 256; ++i) points.push_back({1000 + i, 0.5 / (i + 1), 2});
  EXPECT_LE(EncodePoints(points).size(), 2 + 3 + 256 * 10u);
}

TEST(SeriesCodecTest, R_DASH_04_CorruptPointBlocksAreDataLoss) {
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

std::vector<SeriesPoint> RandomPoints(std::mt19937_64& rng, size_t n) {
  std::vector<SeriesPoint> points;
  int64_t step = static_cast<int64_t>(rng() % 1000);
  for (size_t i = 0; i < n; ++i) {
    double v = static_cast<double>(rng() % 7) - 3;
    if (rng() % 20 == 0) v = std::numeric_limits<double>::quiet_NaN();
    points.push_back({step, v, 1 + static_cast<int32_t>(rng() % 3)});
    step += 1 + static_cast<int64_t>(rng() % (rng() % 10 == 0 ? 1000 : 3));
  }
  return points;
}

TEST(SeriesCodecTest, R_DASH_04_TailSegmentsRoundTrip) {
  std::vector<TailEntry> entries = {
      {"train_loss", false, {{7, 0.5, 1}, {8, 0.4, 1}}},
      {"val_loss", true, {}},  // A reset to an empty tail.
      {"extra.reward", true, {{kMaxStep, -1, 3}}},
  };
  std::vector<TailEntry> decoded;
  ASSERT_OK(DecodeTailSegment(EncodeTailSegment(entries), &decoded));
  ASSERT_EQ(decoded.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(decoded[i].series, entries[i].series);
    EXPECT_EQ(decoded[i].reset, entries[i].reset);
    EXPECT_EQ(decoded[i].points, entries[i].points);
  }
}

TEST(SeriesCodecTest, R_DASH_04_CorruptTailSegmentsAreDataLoss) {
  const std::string good =
      EncodeTailSegment(std::vector<TailEntry>{{"loss", false, {{1, 2, 1}}}});
  std::vector<TailEntry> out;
  for (size_t n = 0; n < good.size(); ++n) {
    if (n == 1) continue;  // The format byte alone: no entries, valid.
    EXPECT_THAT(DecodeTailSegment(good.substr(0, n), &out),
                StatusIs(absl::StatusCode::kDataLoss))
        << n;
  }
  std::string bad_reset = good;
  bad_reset[1 + 1 + 4] = 2;
  EXPECT_THAT(DecodeTailSegment(bad_reset, &out),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SeriesCodecTest, R_DASH_04_ChunksRoundTripWithBlockExtremes) {
  std::mt19937_64 rng(1);
  for (int block_points : {1, 3, 32, 1000}) {
    for (size_t n : {1u, 2u, 31u, 32u, 33u, 256u, 300u}) {
      SCOPED_TRACE(::testing::Message() << block_points << " " << n);
      std::vector<SeriesPoint> points = RandomPoints(rng, n);
      std::string bytes = EncodeChunk(points, block_points);
      std::vector<SeriesPoint> decoded;
      ASSERT_OK(DecodePoints(bytes, &decoded));
      ASSERT_EQ(decoded, points);

      ChunkView view;
      ASSERT_OK(view.Parse(bytes));
      EXPECT_EQ(view.count(), static_cast<int64_t>(n));
      size_t per = static_cast<size_t>(block_points);
      ASSERT_EQ(view.blocks(), (n + per - 1) / per);
      for (size_t b = 0; b < view.blocks(); ++b) {
        std::vector<SeriesPoint> block(
            points.begin() + b * per,
            points.begin() + std::min(n, (b + 1) * per));
        Extremes expected;
        for (const SeriesPoint& p : block) expected.Add(p);
        EXPECT_EQ(view.first_step(b), block.front().step);
        EXPECT_EQ(view.extremes(b), expected);
        std::vector<SeriesPoint> one;
        ASSERT_OK(view.Decode(b, &one));
        EXPECT_EQ(one, block);
      }
    }
  }
}

TEST(SeriesCodecTest, R_DASH_04_CorruptChunksAreDataLoss) {
  std::mt19937_64 rng(2);
  std::string good = EncodeChunk(RandomPoints(rng, 100), 32);
  std::vector<SeriesPoint> out;
  ChunkView view;
  // Every truncation and every single-byte change is caught or decodes to
  // something well-formed; none crashes (run under ASan).
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_THAT(DecodePoints(good.substr(0, len), &out),
                StatusIs(absl::StatusCode::kDataLoss))
        << len;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    out.clear();
    absl::Status status = DecodePoints(bad, &out);
    if (status.ok()) {
      for (size_t k = 1; k < out.size(); ++k) {
        ASSERT_LT(out[k - 1].step, out[k].step);
      }
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
    }
  }
}

TEST(SeriesCodecTest, R_DASH_04_ChunkMetaRoundTrips) {
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
