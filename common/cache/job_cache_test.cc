// Copyright 2026 Trainyard authors.
#include "common/cache/job_cache.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::cache {
namespace {

struct Value {
  std::atomic<int> loads{0};
  std::string data;
};

using Cache = JobCache<Value>;
constexpr size_t kOverhead = Cache::EntryOverhead();

// Gets `key`, "loads" it (once) and charges `bytes` for it.
void Load(Cache& cache, const std::string& key, size_t bytes) {
  Cache::Handle h = cache.Get(key);
  if (h->loads.fetch_add(1) == 0) h->data = key;
  cache.Charge(h, bytes);
}

bool Cached(const Cache& cache, const std::string& key) {
  return static_cast<bool>(cache.Find(key));
}

TEST(JobCacheTest, GetCreatesOnceThenHits) {
  Cache cache(1 << 20);
  {
    Cache::Handle a = cache.Get("job-a");
    EXPECT_EQ(a->loads.load(), 0);
    a->loads = 1;
    EXPECT_EQ(a.key(), "job-a");
  }
  Cache::Handle again = cache.Get("job-a");
  EXPECT_EQ(again->loads.load(), 1);
  Cache::Stats stats = cache.stats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.bytes, kOverhead + 5);
}

TEST(JobCacheTest, EvictsLeastRecentlyUsedByBytes) {
  // Room for three entries of 1000 bytes with keys of 2 bytes.
  Cache cache(3 * (kOverhead + 2 + 1000));
  Load(cache, "j1", 1000);
  Load(cache, "j2", 1000);
  Load(cache, "j3", 1000);
  cache.Get("j1");  // j2 is now the least recently used
  Load(cache, "j4", 1000);
  EXPECT_TRUE(Cached(cache, "j1"));
  EXPECT_FALSE(Cached(cache, "j2"));
  EXPECT_TRUE(Cached(cache, "j3"));
  EXPECT_TRUE(Cached(cache, "j4"));
  EXPECT_LE(cache.stats().bytes, cache.capacity());
  EXPECT_EQ(cache.stats().evictions, 1u);
  // A growing entry pushes out as many others as needed.
  Load(cache, "j4", 2500);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_TRUE(Cached(cache, "j4"));
}

TEST(JobCacheTest, FindDoesNotCreateOrRefresh) {
  Cache cache(2 * (kOverhead + 2 + 100));
  EXPECT_FALSE(cache.Find("j1"));
  EXPECT_EQ(cache.stats().entries, 0u);
  Load(cache, "j1", 100);
  Load(cache, "j2", 100);
  EXPECT_TRUE(cache.Find("j1"));  // does not make j1 recent
  Load(cache, "j3", 100);
  EXPECT_FALSE(Cached(cache, "j1"));
  EXPECT_TRUE(Cached(cache, "j2"));
}

TEST(JobCacheTest, PinnedEntriesAreNotEvicted) {
  Cache cache(2 * (kOverhead + 2 + 100));
  Cache::Handle pinned = cache.Get("j1");
  pinned->data = "checked out";
  cache.Charge(pinned, 100);
  Load(cache, "j2", 100);
  Load(cache, "j3", 100);  // over budget: j1 is pinned, so j2 goes
  EXPECT_TRUE(Cached(cache, "j1"));
  EXPECT_FALSE(Cached(cache, "j2"));
  EXPECT_TRUE(Cached(cache, "j3"));
  // Pinned entries may exceed the budget together.
  Cache::Handle other = cache.Get("j4");
  cache.Charge(other, 100);
  Cache::Handle third = cache.Get("j3");
  cache.Charge(third, 200);
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_GT(cache.stats().bytes, cache.capacity());
  // Once unpinned, the next eviction takes the least recently used.
  pinned = Cache::Handle();
  third = Cache::Handle();
  cache.Charge(other, 100);
  EXPECT_FALSE(Cached(cache, "j1"));
  EXPECT_TRUE(Cached(cache, "j4"));
  EXPECT_LE(cache.stats().bytes, cache.capacity());
}

TEST(JobCacheTest, HandlesOutliveEvictionAndErase) {
  Cache cache(1 << 20);
  Cache::Handle h = cache.Get("j1");
  h->data = "kept";
  cache.Erase("j1");
  EXPECT_FALSE(Cached(cache, "j1"));
  EXPECT_EQ(h->data, "kept");
  cache.Charge(h, 1 << 30);  // not cached any more: no effect
  EXPECT_EQ(cache.stats().bytes, 0u);
  Cache::Handle fresh = cache.Get("j1");
  EXPECT_EQ(fresh->data, "");
}

TEST(JobCacheTest, EraseOnlyTheGivenEntry) {
  Cache cache(1 << 20);
  Cache::Handle first = cache.Get("j1");
  cache.Erase("j1");
  Cache::Handle second = cache.Get("j1");
  cache.Erase("j1", first.get());  // another entry now: kept
  EXPECT_TRUE(Cached(cache, "j1"));
  cache.Erase("j1", second.get());
  EXPECT_FALSE(Cached(cache, "j1"));
}

TEST(JobCacheTest, EvictDropsOnlyUnpinnedEntries) {
  Cache cache(1 << 20);
  EXPECT_FALSE(cache.Evict("j1"));  // not cached
  Cache::Handle h = cache.Get("j1");
  EXPECT_FALSE(cache.Evict("j1"));  // pinned
  h = Cache::Handle();
  EXPECT_TRUE(cache.Evict("j1"));
  EXPECT_FALSE(Cached(cache, "j1"));
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(JobCacheTest, ForEachVisitsCachedEntries) {
  Cache cache(1 << 20);
  Load(cache, "a", 1);
  Load(cache, "b", 1);
  std::vector<std::string> keys;
  cache.ForEach([&keys](std::string_view key, const Value& v) {
    EXPECT_EQ(v.loads.load(), 1);
    keys.emplace_back(key);
  });
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("a", "b"));
}

TEST(JobCacheTest, ConcurrentUseStaysWithinBudgetPlusPinned) {
  constexpr int kThreads = 4, kRounds = 20000, kKeys = 500;
  constexpr size_t kBytes = 1000;
  const size_t per_entry = kOverhead + 8 + kBytes;
  Cache cache(50 * per_entry);
  std::atomic<size_t> worst{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string key = absl::StrCat("job-", (i * 7 + t * 13) % kKeys);
        Cache::Handle h = cache.Get(key);
        h->loads.fetch_add(1);
        cache.Charge(h, kBytes);
        size_t bytes = cache.stats().bytes;
        size_t seen = worst.load();
        while (bytes > seen && !worst.compare_exchange_weak(seen, bytes)) {
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  // Each thread pins one entry at a time, and a new entry is charged its
  // bytes only after its Get: at most one entry's worth per thread over.
  EXPECT_LE(worst.load(), cache.capacity() + kThreads * per_entry);
  Cache::Stats stats = cache.stats();
  EXPECT_LE(stats.bytes, cache.capacity());
  EXPECT_EQ(stats.hits + stats.misses, uint64_t{kThreads} * kRounds);
  EXPECT_GT(stats.evictions, 0u);
}

}  // namespace
}  // namespace trainyard::cache
