#include "services/metrics/series/chunk_index.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

// Metas of consecutive chunks of 1..5 points each, from `first_step`.
std::vector<ChunkMeta> RandomMetas(std::mt19937_64& rng, size_t n,
                                   int64_t first_step) {
  std::vector<ChunkMeta> metas;
  int64_t step = first_step;
  for (size_t i = 0; i < n; ++i) {
    std::vector<SeriesPoint> points;
    size_t count = 1 + rng() % 5;
    for (size_t k = 0; k < count; ++k) {
      points.push_back({step, static_cast<double>(rng() % 100), 1});
      step += 1 + static_cast<int64_t>(rng() % 3);
    }
    metas.push_back(MakeChunkMeta(points, i));
  }
  return metas;
}

Extremes BruteAggregate(const std::vector<ChunkMeta>& metas, size_t b,
                        size_t e) {
  Extremes result;
  for (size_t i = b; i < e; ++i) result.Merge(metas[i].extremes);
  return result;
}

void ExpectConsistent(const ChunkIndex& index,
                      const std::vector<ChunkMeta>& metas,
                      std::mt19937_64& rng) {
  ASSERT_EQ(index.size(), metas.size());
  ASSERT_EQ(index.ToVector(), metas);
  int64_t total = 0;
  for (const ChunkMeta& m : metas) total += m.extremes.count;
  EXPECT_EQ(index.total_count(), total);
  for (size_t i = 0; i < metas.size(); ++i) ASSERT_EQ(index.at(i), metas[i]);
  for (int k = 0; k < 200 && !metas.empty(); ++k) {
    size_t b = rng() % (metas.size() + 1);
    size_t e = b + rng() % (metas.size() - b + 1);
    ASSERT_EQ(index.Aggregate(b, e), BruteAggregate(metas, b, e)) << b << e;
    int64_t step = static_cast<int64_t>(rng() % (metas.back().last_step + 3));
    size_t ending = 0;
    while (ending < metas.size() && metas[ending].last_step < step) ++ending;
    ASSERT_EQ(index.FirstEndingAtOrAfter(step), ending);
    size_t starting = 0;
    while (starting < metas.size() && metas[starting].first_step <= step) {
      ++starting;
    }
    ASSERT_EQ(index.FirstStartingAfter(step), starting);
  }
}

TEST(ChunkIndexTest, R_DASH_04_AggregatesAndSearchesMatchBruteForce) {
  std::mt19937_64 rng(3);
  for (size_t group : {1u, 2u, 4u, 64u}) {
    for (size_t n : {0u, 1u, 3u, 4u, 5u, 17u, 100u}) {
      std::vector<ChunkMeta> metas = RandomMetas(rng, n, 0);
      ExpectConsistent(ChunkIndex::FromMetas(metas, group), metas, rng);
    }
  }
}

TEST(ChunkIndexTest, R_DASH_04_ReplaceSharesUntouchedGroupsAndStaysConsistent) {
  std::mt19937_64 rng(5);
  const size_t group = 4;
  std::vector<ChunkMeta> metas = RandomMetas(rng, 30, 0);
  ChunkIndex index = ChunkIndex::FromMetas(metas, group);
  for (int round = 0; round < 300; ++round) {
    // Drop a range, re-version a range (a rewrite in place), or append.
    size_t b = rng() % (metas.size() + 1);
    size_t e = b + rng() % std::min<size_t>(metas.size() - b + 1, 6);
    std::vector<ChunkMeta> replacement;
    switch (rng() % 3) {
      case 0:
        break;
      case 1:
        for (size_t i = b; i < e; ++i) {
          ChunkMeta m = metas[i];
          m.version += 1000;
          replacement.push_back(m);
        }
        break;
      default:
        b = e = metas.size();
        replacement = RandomMetas(
            rng, 1 + rng() % 5, metas.empty() ? 0 : metas.back().last_step + 1);
        break;
    }
    ChunkIndex next = index.Replace(b, e, replacement);
    metas.erase(metas.begin() + b, metas.begin() + e);
    metas.insert(metas.begin() + b, replacement.begin(), replacement.end());
    ExpectConsistent(next, metas, rng);
    index = next;
  }
}

TEST(ChunkIndexTest, R_DASH_04_AppendingToAFullGroupStartsANewOne) {
  std::mt19937_64 rng(9);
  std::vector<ChunkMeta> metas = RandomMetas(rng, 8, 0);
  ChunkIndex index = ChunkIndex::FromMetas(metas, 4);
  EXPECT_EQ(index.group_count(), 2u);
  std::vector<ChunkMeta> more = RandomMetas(rng, 1, metas.back().last_step + 1);
  ChunkIndex appended = index.Replace(8, 8, more);
  EXPECT_EQ(appended.group_count(), 3u);
  EXPECT_EQ(appended.size(), 9u);
  EXPECT_EQ(index.size(), 8u);  // The original is unchanged.
}

}  // namespace
}  // namespace trainyard::metrics
