// SeriesStore on a real RocksDB in a temp dir: curves (R-DASH-04), rewinds
// (R-X-06), replays, folding, persistence, atomicity with the caller's batch.

#include "services/metrics/series/series_store.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/status/errors.h"
#include "common/storage/db.h"
#include "common/storage/keys.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::trainyard::common::v1::CurveSeries;
using ::trainyard::common::v1::LossCurve;
using ::trainyard::metrics::v1::SeriesInfo;
using ::trainyard::testing::StatusIs;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

void PrintTo(const SeriesPoint& p, std::ostream* os) {
  *os << "{" << p.step << ", " << p.value << ", a" << p.attempt << "}";
}

namespace {

// Small chunks so that folding, groups and rewrites happen with few points.
SeriesStoreOptions SmallChunks() {
  SeriesStoreOptions options;
  options.chunk_points = 8;
  options.max_chunk_points = 16;
  options.block_points = 3;
  options.group_chunks = 4;
  return options;
}

std::vector<SeriesPoint> ToPoints(const CurveSeries& series) {
  std::vector<SeriesPoint> points;
  for (const auto& p : series.points()) {
    points.push_back({p.step(), p.value(), p.attempt()});
  }
  return points;
}

// The semantics of series_store.h, by brute force: every point ever stored
// by identity, and the rewinds.
class Model {
 public:
  void Add(const std::string& series, SeriesPoint p) {
    points_[series][{p.step, p.attempt}] = p.value;
  }
  void Rewind(int32_t attempt, int64_t from) {
    rewinds_.push_back({attempt, from});
  }
  void Clear() {
    points_.clear();
    rewinds_.clear();
  }

  std::vector<SeriesPoint> Effective(const std::string& series) const {
    std::vector<SeriesPoint> out;
    auto it = points_.find(series);
    if (it == points_.end()) return out;
    for (const auto& [key, value] : it->second) {
      auto [step, attempt] = key;
      if (Covered(step, attempt)) continue;
      if (!out.empty() && out.back().step == step) {
        out.back() = {step, value, attempt};  // Keys ascend by attempt.
      } else {
        out.push_back({step, value, attempt});
      }
    }
    return out;
  }

  std::map<int32_t, std::vector<SeriesPoint>> RolledBack(
      const std::string& series) const {
    std::map<int32_t, std::vector<SeriesPoint>> out;
    std::vector<SeriesPoint> effective = Effective(series);
    auto it = points_.find(series);
    if (it == points_.end()) return out;
    for (const auto& [key, value] : it->second) {
      auto [step, attempt] = key;
      auto e = std::lower_bound(
          effective.begin(), effective.end(), step,
          [](const SeriesPoint& p, int64_t s) { return p.step < s; });
      if (e != effective.end() && e->step == step && e->attempt == attempt) {
        continue;
      }
      out[attempt].push_back({step, value, attempt});
    }
    return out;
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, points] : points_) names.push_back(name);
    return names;
  }

 private:
  bool Covered(int64_t step, int32_t attempt) const {
    for (const auto& [a, from] : rewinds_) {
      if (a > attempt && step > from) return true;
    }
    return false;
  }

  std::map<std::string, std::map<std::pair<int64_t, int32_t>, double>> points_;
  std::vector<std::pair<int32_t, int64_t>> rewinds_;
};

class SeriesStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(SeriesStoreOptions options = SmallChunks()) {
    options_ = options;
    storage::Options db_options;
    db_options.path = dir_.Sub("db");
    db_options.name = "metrics";
    db_options.column_families = SeriesStore::ColumnFamilies();
    db_options.block_cache_bytes = 16 << 20;
    db_options.memtable_bytes = 8 << 20;
    auto db = storage::Db::Open(db_options);
    ASSERT_OK(db.status());
    db_ = std::move(*db);
    store_ = std::make_unique<SeriesStore>(*db_, options);
  }

  // Close everything and open a new Db and SeriesStore on the same files.
  void Reopen() { ReopenWith(options_); }
  void ReopenWith(SeriesStoreOptions options) {
    store_.reset();
    ASSERT_OK(db_->Close());
    db_.reset();
    Open(options);
  }

  // Stage + Write + Publish, and the same into the model.
  void Ingest(const std::string& job, const std::vector<PointInput>& points) {
    storage::WriteBatch batch;
    SeriesUpdate update;
    ASSERT_OK(store_->Stage(job, points, batch, &update));
    ASSERT_OK(db_->Write(batch));
    store_->Publish(std::move(update));
    for (const PointInput& p : points) {
      models_[job].Add(std::string(p.series), {p.step, p.value, p.attempt});
    }
  }

  void Rewind(const std::string& job, int32_t attempt, int64_t from) {
    storage::WriteBatch batch;
    SeriesUpdate update;
    ASSERT_OK(store_->StageRewind(job, attempt, from, batch, &update));
    ASSERT_OK(db_->Write(batch));
    store_->Publish(std::move(update));
    models_[job].Rewind(attempt, from);
  }

  // `n` points of "train_loss" from `first`, one per step, in one Stage.
  void IngestRange(const std::string& job, int64_t first, int64_t n,
                   int32_t attempt = 1, const char* series = "train_loss") {
    std::vector<PointInput> points;
    for (int64_t s = first; s < first + n; ++s) {
      points.push_back({series, s, 1000.0 / (s + 1) + attempt, attempt});
    }
    Ingest(job, points);
  }

  LossCurve Curve(const CurveQuery& request) {
    absl::StatusOr<LossCurve> curve = store_->GetLossCurve(request);
    EXPECT_OK(curve.status());
    return curve.ok() ? *curve : LossCurve();
  }

  // As the handlers build it (grpc/requests.h): series default to
  // train_loss and val_loss, max_points normalized.
  static CurveQuery Request(const std::string& job,
                            std::vector<std::string> series = {},
                            int32_t max_points = 0) {
    CurveQuery request;
    request.job_id = job;
    request.series = std::move(series);
    if (request.series.empty()) request.series = {"train_loss", "val_loss"};
    request.max_points = NormalizeMaxPoints(max_points);
    return request;
  }

  std::vector<SeriesPoint> Read(const std::string& job,
                                const std::string& series,
                                int32_t rolled_back_attempt = 0) {
    absl::StatusOr<std::vector<SeriesPoint>> points =
        store_->ReadSeries(job, series, rolled_back_attempt);
    EXPECT_OK(points.status());
    return points.ok() ? *points : std::vector<SeriesPoint>();
  }

  // Every series and rolled-back run of `job` equals the model.
  void ExpectMatchesModel(const std::string& job) {
    const Model& model = models_[job];
    absl::StatusOr<std::vector<SeriesInfo>> infos = store_->ListSeries(job);
    ASSERT_OK(infos.status());
    ASSERT_EQ(infos->size(), model.Names().size());
    for (const SeriesInfo& info : *infos) {
      SCOPED_TRACE(info.name());
      std::vector<SeriesPoint> effective = model.Effective(info.name());
      ASSERT_EQ(Read(job, info.name()), effective);
      EXPECT_EQ(info.point_count(), static_cast<int64_t>(effective.size()));
      if (!effective.empty()) {
        EXPECT_EQ(info.first_step(), effective.front().step);
        EXPECT_EQ(info.last_step(), effective.back().step);
        EXPECT_EQ(std::bit_cast<uint64_t>(info.last_value()),
                  std::bit_cast<uint64_t>(effective.back().value));
      }
      int64_t rolled_back = 0;
      for (const auto& [attempt, points] : model.RolledBack(info.name())) {
        ASSERT_EQ(Read(job, info.name(), attempt), points) << attempt;
        rolled_back += static_cast<int64_t>(points.size());
      }
      EXPECT_EQ(info.rolled_back_point_count(), rolled_back);
    }
  }

  size_t KeysIn(std::string_view cf) {
    size_t n = 0;
    EXPECT_OK(db_->Scan(cf, storage::KeyRange::All(),
                        storage::Direction::kForward,
                        [&n](std::string_view, std::string_view) {
                          ++n;
                          return true;
                        }));
    return n;
  }

  // Tail segment keys (series_meta kind 2) of all jobs.
  size_t TailSegments() {
    size_t n = 0;
    EXPECT_OK(db_->Scan("series_meta", storage::KeyRange::All(),
                        storage::Direction::kForward,
                        [&n](std::string_view key, std::string_view) {
                          storage::KeyReader reader(key);
                          std::string job;
                          uint64_t kind = 0;
                          if (reader.ReadString(&job) &&
                              reader.ReadUint64(&kind) && kind == 2) {
                            ++n;
                          }
                          return true;
                        }));
    return n;
  }

  ::trainyard::testing::TempDir dir_;
  SeriesStoreOptions options_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<SeriesStore> store_;
  std::map<std::string, Model> models_;
};

// ---------------------------------------------------------------------------
// Downsampling property: the summaries path equals the brute-force reference.

enum class Shape { kRandomWalk, kSpikes, kNaNAndInf, kTies, kSparse };

std::vector<SeriesPoint> MakeSeries(Shape shape, int n, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<SeriesPoint> points;
  int64_t step = static_cast<int64_t>(rng() % 50);
  double v = 5;
  for (int i = 0; i < n; ++i) {
    switch (shape) {
      case Shape::kRandomWalk:
        v += noise(rng);
        break;
      case Shape::kSpikes:
        v = 3.0 / (1 + i * 0.01) + 0.01 * noise(rng);
        if (unit(rng) < 0.01) v += (unit(rng) < 0.5 ? -1 : 1) * 1000;
        break;
      case Shape::kNaNAndInf: {
        v += noise(rng);
        double r = unit(rng);
        points.push_back({step,
                          r < 0.03   ? kNaN
                          : r < 0.04 ? kInf
                          : r < 0.05 ? -kInf
                                     : v,
                          1});
        step += 1;
        continue;
      }
      case Shape::kTies:
        v = static_cast<double>(rng() % 3);
        if (v == 0 && rng() % 2 == 0) v = -0.0;
        break;
      case Shape::kSparse:
        v += noise(rng);
        step += static_cast<int64_t>(rng() % 40);  // Gaps.
        break;
    }
    points.push_back({step, v, 1});
    step += 1;
  }
  return points;
}

// The served range and reference points of a single-series request.
struct Reference {
  int64_t start;
  int64_t end;
  DownsampleResult result;
};

Reference ReferenceAnswer(const std::vector<SeriesPoint>& points,
                          std::optional<int64_t> start,
                          std::optional<int64_t> end, int32_t max_points) {
  int64_t lo = start.value_or(0);
  int64_t hi = end.value_or(std::numeric_limits<int64_t>::max());
  std::optional<int64_t> first, last;
  for (const SeriesPoint& p : points) {
    if (p.step < lo || p.step > hi) continue;
    if (!first) first = p.step;
    last = p.step;
  }
  Reference ref;
  ref.start = first.value_or(lo);
  ref.end = first ? *last : (end ? hi : lo);
  ref.result =
      Downsample(points, ref.start, ref.end, NormalizeMaxPoints(max_points));
  return ref;
}

TEST_F(SeriesStoreTest, R_DASH_04_DownsampledCurveEqualsBruteForceReference) {
  std::mt19937_64 rng(20260501);
  const std::vector<Shape> shapes = {Shape::kRandomWalk, Shape::kSpikes,
                                     Shape::kNaNAndInf, Shape::kTies,
                                     Shape::kSparse};
  std::map<std::string, std::vector<SeriesPoint>> data;
  for (size_t k = 0; k < shapes.size(); ++k) {
    std::string job = "job-" + std::to_string(k);
    // Uneven sizes, so that every job ends with a non-empty tail.
    std::vector<SeriesPoint> points =
        MakeSeries(shapes[k], 2997 + 2 * static_cast<int>(k), rng);
    // In batches of random sizes, to mix tails, folds and chunk sizes.
    for (size_t i = 0; i < points.size();) {
      size_t n = std::min<size_t>(points.size() - i, 1 + rng() % 40);
      std::vector<PointInput> batch;
      for (size_t j = i; j < i + n; ++j) {
        batch.push_back({"train_loss", points[j].step, points[j].value, 1});
      }
      Ingest(job, batch);
      i += n;
    }
    data[job] = points;
  }
  // Two readers on the same data: one forced onto summaries, one onto raw
  // scans. Both must equal the reference exactly.
  SeriesStoreOptions summaries = SmallChunks();
  summaries.raw_scan_points_per_bucket = 0;
  SeriesStoreOptions raw = SmallChunks();
  raw.raw_scan_points_per_bucket = 1e9;
  SeriesStore summary_store(*db_, summaries);
  SeriesStore raw_store(*db_, raw);

  const std::vector<int32_t> max_points_choices = {0,  2,  3,   4,   5,   7,
                                                   10, 33, 100, 999, 2500};
  int downsampled = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string job = "job-" + std::to_string(trial % shapes.size());
    const std::vector<SeriesPoint>& points = data[job];
    int64_t max_step = points.back().step;
    std::optional<int64_t> start, end;
    if (rng() % 4 != 0) start = static_cast<int64_t>(rng() % (max_step + 10));
    if (rng() % 4 != 0) {
      end = static_cast<int64_t>(rng() % (max_step + 10));
      if (start && *end < *start) std::swap(*start, *end);
    }
    int32_t max_points = max_points_choices[rng() % max_points_choices.size()];
    SCOPED_TRACE(::testing::Message() << job << " start=" << start.value_or(-1)
                                      << " end=" << end.value_or(-1)
                                      << " max_points=" << max_points);
    CurveQuery request = Request(job, {"train_loss"}, max_points);
    if (start) request.start_step = *start;
    if (end) request.end_step = *end;
    Reference ref = ReferenceAnswer(points, start, end, max_points);

    for (SeriesStore* store : {&summary_store, &raw_store, store_.get()}) {
      absl::StatusOr<LossCurve> curve = store->GetLossCurve(request);
      ASSERT_OK(curve.status());
      ASSERT_THAT(curve->series(), SizeIs(1));
      const CurveSeries& series = curve->series(0);
      EXPECT_EQ(curve->start_step(), ref.start);
      EXPECT_EQ(curve->end_step(), ref.end);
      EXPECT_EQ(series.total_points_in_range(), ref.result.total_in_range);
      EXPECT_EQ(series.downsampled(), ref.result.downsampled);
      ASSERT_EQ(ToPoints(series), ref.result.points);
    }
    downsampled += ref.result.downsampled ? 1 : 0;
  }
  EXPECT_GT(downsampled, 100);  // The property was exercised.
}

TEST_F(SeriesStoreTest, R_DASH_04_DefaultChunkSizesOnALongSeries) {
  ReopenWith(SeriesStoreOptions{});  // 256-point chunks, groups of 64.
  std::mt19937_64 rng(99);
  std::vector<SeriesPoint> points = MakeSeries(Shape::kSpikes, 60000, rng);
  for (size_t i = 0; i < points.size(); i += 1000) {
    std::vector<PointInput> batch;
    for (size_t j = i; j < std::min(points.size(), i + 1000); ++j) {
      batch.push_back({"train_loss", points[j].step, points[j].value, 1});
    }
    Ingest("long", batch);
  }
  SeriesStoreOptions summaries;
  summaries.raw_scan_points_per_bucket = 0;
  SeriesStore summary_store(*db_, summaries);
  for (int32_t max_points : {0, 10, 500, 2000}) {
    for (auto [start, end] : std::vector<std::pair<int64_t, int64_t>>{
             {0, 1 << 30}, {12345, 45678}, {59000, 59999}}) {
      CurveQuery request = Request("long", {"train_loss"}, max_points);
      request.start_step = start;
      request.end_step = end;
      Reference ref = ReferenceAnswer(points, start, end, max_points);
      for (SeriesStore* store : {&summary_store, store_.get()}) {
        absl::StatusOr<LossCurve> curve = store->GetLossCurve(request);
        ASSERT_OK(curve.status());
        EXPECT_EQ(curve->series(0).total_points_in_range(),
                  ref.result.total_in_range);
        std::vector<SeriesPoint> got = ToPoints(curve->series(0));
        for (size_t i = 0; i < std::min(got.size(), ref.result.points.size());
             ++i) {
          if (!(got[i] == ref.result.points[i])) {
            ADD_FAILURE() << "at " << i << ": "
                          << ::testing::PrintToString(got[i]) << " vs "
                          << ::testing::PrintToString(ref.result.points[i]);
            break;
          }
        }
        ASSERT_EQ(got, ref.result.points)
            << max_points << " " << start << " " << end << " "
            << (store == store_.get() ? "default" : "summaries");
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Query semantics.

TEST_F(SeriesStoreTest, R_DASH_04_DefaultsAreTrainAndValLossWith1000Points) {
  IngestRange("j", 0, 2500);
  IngestRange("j", 0, 2500, 1, "learning_rate");
  std::vector<PointInput> val;
  for (int64_t s = 99; s < 2500; s += 100)
    val.push_back({"val_loss", s, 0.1, 1});
  Ingest("j", val);

  LossCurve curve = Curve(Request("j"));
  EXPECT_EQ(curve.job_id(), "j");
  EXPECT_EQ(curve.max_points(), 1000);
  EXPECT_EQ(curve.start_step(), 0);
  EXPECT_EQ(curve.end_step(), 2499);
  EXPECT_EQ(curve.latest_step(), 2499);
  ASSERT_THAT(curve.series(), SizeIs(2));
  EXPECT_EQ(curve.series(0).name(), "train_loss");
  EXPECT_TRUE(curve.series(0).downsampled());
  EXPECT_EQ(curve.series(0).total_points_in_range(), 2500);
  EXPECT_LE(curve.series(0).points_size(), 1000);
  // Sparse val_loss (once per "epoch") is not downsampled: all 25 points.
  EXPECT_EQ(curve.series(1).name(), "val_loss");
  EXPECT_FALSE(curve.series(1).downsampled());
  EXPECT_EQ(curve.series(1).total_points_in_range(), 25);
  EXPECT_EQ(ToPoints(curve.series(1)), models_["j"].Effective("val_loss"));
  EXPECT_FALSE(curve.series(0).rolled_back());
}

TEST_F(SeriesStoreTest, R_DASH_04_CurveShowsTheFirstAndLatestPoint) {
  // A noisy 10,000-step run: the latest step is no bucket's extreme.
  std::vector<PointInput> points;
  for (int64_t s = 1; s <= 10000; ++s) {
    points.push_back(
        {"train_loss", s, static_cast<double>((s * 7919) % 1000) / 1000, 1});
  }
  points.back().value = 0.5;
  Ingest("j", points);
  for (int32_t max_points : {10, 200, 1000}) {
    for (double raw_scan : {0.0, 1e9}) {  // From summaries, from raw points.
      options_.raw_scan_points_per_bucket = raw_scan;
      ReopenWith(options_);
      SCOPED_TRACE(::testing::Message() << max_points << " " << raw_scan);
      std::vector<SeriesPoint> shown =
          ToPoints(Curve(Request("j", {"train_loss"}, max_points)).series(0));
      ASSERT_FALSE(shown.empty());
      EXPECT_LE(shown.size(), static_cast<size_t>(max_points));
      EXPECT_EQ(shown.front().step, 1);
      EXPECT_EQ(shown.back().step, 10000);
      EXPECT_EQ(shown.back().value, 0.5);
      // A step range shows its own ends.
      CurveQuery range = Request("j", {"train_loss"}, max_points);
      range.start_step = 2000;
      range.end_step = 2999;
      shown = ToPoints(Curve(range).series(0));
      EXPECT_EQ(shown.front().step, 2000);
      EXPECT_EQ(shown.back().step, 2999);
    }
  }
}

TEST_F(SeriesStoreTest, R_DASH_04_MaxPointsIsCoerced) {
  IngestRange("j", 0, 30000);
  EXPECT_EQ(Curve(Request("j", {}, 1)).max_points(), 2);
  EXPECT_THAT(Curve(Request("j", {}, 1)).series(0).points(), SizeIs(2));
  LossCurve big = Curve(Request("j", {}, 20000));
  EXPECT_EQ(big.max_points(), 10000);
  EXPECT_LE(big.series(0).points_size(), 10000);
  EXPECT_GT(big.series(0).points_size(), 5000);
}

TEST_F(SeriesStoreTest, R_DASH_04_StepRangeIsInclusiveAndClampedToData) {
  IngestRange("j", 100, 900);  // Steps 100..999.
  CurveQuery request = Request("j", {"train_loss"});
  request.start_step = 200;
  request.end_step = 299;
  LossCurve curve = Curve(request);
  EXPECT_EQ(curve.start_step(), 200);
  EXPECT_EQ(curve.end_step(), 299);
  std::vector<SeriesPoint> points = ToPoints(curve.series(0));
  ASSERT_THAT(points, SizeIs(100));
  EXPECT_EQ(points.front().step, 200);
  EXPECT_EQ(points.back().step, 299);

  request.start_step = 0;
  request.end_step = 5000;
  curve = Curve(request);
  EXPECT_EQ(curve.start_step(), 100);  // Clamped to the data.
  EXPECT_EQ(curve.end_step(), 999);
  EXPECT_EQ(curve.series(0).total_points_in_range(), 900);

  request.end_step.reset();
  request.start_step = 950;
  curve = Curve(request);
  EXPECT_EQ(curve.start_step(), 950);
  EXPECT_EQ(curve.end_step(), 999);
  EXPECT_EQ(curve.series(0).points_size(), 50);

  // Nothing in range: the requested range is echoed, series are empty.
  request.start_step = 5000;
  request.end_step = 6000;
  curve = Curve(request);
  EXPECT_EQ(curve.start_step(), 5000);
  EXPECT_EQ(curve.end_step(), 6000);
  EXPECT_EQ(curve.series(0).points_size(), 0);
  EXPECT_EQ(curve.series(0).total_points_in_range(), 0);
  EXPECT_EQ(curve.latest_step(), 999);
}

TEST_F(SeriesStoreTest, R_DASH_04_LastStepsZoomsToTheMostRecentSteps) {
  IngestRange("j", 0, 2000);
  CurveQuery request = Request("j", {"train_loss"});
  request.last_steps = 500;
  LossCurve curve = Curve(request);
  EXPECT_EQ(curve.start_step(), 1500);
  EXPECT_EQ(curve.end_step(), 1999);
  EXPECT_EQ(curve.latest_step(), 1999);
  EXPECT_EQ(curve.series(0).total_points_in_range(), 500);
  EXPECT_FALSE(curve.series(0).downsampled());
  EXPECT_EQ(curve.series(0).points(0).step(), 1500);

  request.last_steps = 1000000;  // More than the history: all of it.
  curve = Curve(request);
  EXPECT_EQ(curve.start_step(), 0);
  EXPECT_EQ(curve.series(0).total_points_in_range(), 2000);

  // The latest step is the job's, over all series.
  Ingest("j", {{"grad_norm", 2999, 1.0, 1}});
  request.last_steps = 1500;
  curve = Curve(request);
  EXPECT_EQ(curve.latest_step(), 2999);
  EXPECT_EQ(curve.start_step(), 1500);
  EXPECT_EQ(curve.end_step(), 1999);
  EXPECT_EQ(curve.series(0).total_points_in_range(), 500);
}

TEST_F(SeriesStoreTest, R_DASH_04_UnknownSeriesAndJobsAreEmpty) {
  IngestRange("j", 0, 10);
  LossCurve curve = Curve(Request("j", {"extra.reward", "train_loss"}));
  ASSERT_THAT(curve.series(), SizeIs(2));
  EXPECT_EQ(curve.series(0).name(), "extra.reward");
  EXPECT_THAT(curve.series(0).points(), IsEmpty());
  EXPECT_EQ(curve.series(1).points_size(), 10);

  curve = Curve(Request("nobody"));
  ASSERT_THAT(curve.series(), SizeIs(2));
  EXPECT_EQ(curve.latest_step(), 0);
  EXPECT_EQ(curve.start_step(), 0);
  EXPECT_EQ(curve.end_step(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<SeriesInfo> infos,
                       store_->ListSeries("nobody"));
  EXPECT_THAT(infos, IsEmpty());
}

TEST_F(SeriesStoreTest, R_DASH_04_BadPointsAreRejectedAndStageNothing) {
  struct Case {
    std::string job;
    PointInput point;
    std::string field;
  };
  std::vector<Case> cases = {
      {"j", {"", 1, 1, 1}, "series"},
      {"j", {"train_loss", -1, 1, 1}, "step"},
      {"j", {"train_loss", 1, 1, 0}, "attempt"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    storage::WriteBatch batch;
    SeriesUpdate update;
    std::vector<PointInput> points = {{"train_loss", 5, 1, 1}, c.point};
    absl::Status status = store_->Stage(c.job, points, batch, &update);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(FieldViolations(status),
                ElementsAre(::testing::Field(&FieldViolation::field, c.field)));
    EXPECT_TRUE(batch.empty());
    EXPECT_TRUE(update.empty());
  }
  storage::WriteBatch batch;
  SeriesUpdate update;
  EXPECT_THAT(store_->StageRewind("j", 0, 5, batch, &update),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->StageRewind("j", 2, -1, batch, &update),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(batch.empty());
}

TEST_F(SeriesStoreTest, R_DASH_04_NaNAndInfinityAreStoredAsReported) {
  Ingest("j", {{"train_loss", 1, 0.5, 1},
               {"train_loss", 2, kNaN, 1},
               {"train_loss", 3, kInf, 1},
               {"train_loss", 4, -kInf, 1},
               {"train_loss", 5, -0.0, 1}});
  std::vector<SeriesPoint> points = Read("j", "train_loss");
  EXPECT_EQ(points, models_["j"].Effective("train_loss"));
  // Downsampled to 4 points (the ends and one bucket): min -Inf and max NaN.
  LossCurve curve = Curve(Request("j", {"train_loss"}, 4));
  std::vector<SeriesPoint> shown = ToPoints(curve.series(0));
  ASSERT_THAT(shown, SizeIs(4));
  EXPECT_EQ(shown[0].step, 1);
  EXPECT_TRUE(std::isnan(shown[1].value));
  EXPECT_EQ(shown[1].step, 2);
  EXPECT_EQ(shown[2].value, -kInf);
  EXPECT_EQ(shown[3].step, 5);
}

// ---------------------------------------------------------------------------
// Writes: replays, folding, late points, persistence.

TEST_F(SeriesStoreTest, R_X_01_ReplaysDoNotDuplicatePoints) {
  IngestRange("j", 0, 20);  // Two chunks of 8 and a tail of 4.
  IngestRange("j", 0, 20);  // Replay: chunks and tail.
  Ingest("j", {{"train_loss", 3, 1000.0 / 4 + 1, 1}});
  ExpectMatchesModel("j");
  ASSERT_OK_AND_ASSIGN(std::vector<SeriesInfo> infos, store_->ListSeries("j"));
  EXPECT_EQ(infos[0].point_count(), 20);

  // An identical replay writes nothing at all.
  storage::WriteBatch batch;
  SeriesUpdate update;
  std::vector<PointInput> replay = {{"train_loss", 3, 1000.0 / 4 + 1, 1},
                                    {"train_loss", 19, 1000.0 / 20 + 1, 1}};
  ASSERT_OK(store_->Stage("j", replay, batch, &update));
  EXPECT_TRUE(batch.empty());

  // A replay with another value replaces (same step and attempt).
  Ingest("j", {{"train_loss", 3, 42.0, 1}, {"train_loss", 19, 43.0, 1}});
  ExpectMatchesModel("j");
  EXPECT_EQ(Read("j", "train_loss")[3].value, 42.0);
  Reopen();
  ExpectMatchesModel("j");
}

TEST_F(SeriesStoreTest, R_DASH_04_TailFoldsIntoChunksAtTheBoundary) {
  // 7 points: all in the tail (one segment per Stage), no chunk yet.
  for (int64_t s = 0; s < 7; ++s) IngestRange("j", s, 1);
  EXPECT_EQ(KeysIn("series_chunks"), 0u);
  ExpectMatchesModel("j");
  // The 8th point folds one chunk of 8 and leaves an empty tail.
  IngestRange("j", 7, 1);
  EXPECT_EQ(KeysIn("series_chunks"), 1u);
  // Its summary, and the tail segment with the tail's (empty) reset entry.
  EXPECT_EQ(TailSegments(), 1u);
  EXPECT_EQ(KeysIn("series_meta"), 1u + 1u);
  ExpectMatchesModel("j");
  // A bulk Stage of 21 points: two more chunks, 5 left in one segment.
  IngestRange("j", 8, 21);
  EXPECT_EQ(KeysIn("series_chunks"), 3u);
  EXPECT_EQ(KeysIn("series_meta"), 3u + 1u);
  ExpectMatchesModel("j");
  Reopen();
  ExpectMatchesModel("j");
  // Folding continues correctly after a reopen (tail rebuilt from disk).
  IngestRange("j", 29, 3);
  EXPECT_EQ(KeysIn("series_chunks"), 4u);
  ExpectMatchesModel("j");
}

// A Stage writes one tail segment (one RocksDB key) whatever the number of
// series it touches. A segment lives while some series still reads it, and
// a series' reset entry voids its entries in older segments that another
// series keeps alive.
TEST_F(SeriesStoreTest, R_DASH_04_OneTailSegmentPerStageSharedBySeries) {
  auto event = [](int64_t step) {
    return std::vector<PointInput>{{"train_loss", step, 1.0 / (step + 1), 1},
                                   {"lr", step, 0.1, 1},
                                   {"gpu", step, 90.0 + step, 1}};
  };
  for (int64_t step = 0; step < 5; ++step) {
    std::vector<PointInput> points = event(step);
    if (step == 2) points.push_back({"val_loss", step, 0.5, 1});
    Ingest("j", points);
  }
  EXPECT_EQ(TailSegments(), 5u);
  EXPECT_EQ(KeysIn("series_meta"), 5u);
  // Step 7 folds the three per-step series (8 points a chunk): they release
  // segments 1-7, but val_loss still reads segment 3 (with their stale
  // entries in it).
  for (int64_t step = 5; step < 8; ++step) Ingest("j", event(step));
  EXPECT_EQ(KeysIn("series_chunks"), 3u);
  EXPECT_EQ(TailSegments(), 2u);  // Segment 3 and the resets' segment 8.
  ExpectMatchesModel("j");
  Reopen();  // The stale entries in segment 3 stay void.
  ExpectMatchesModel("j");
  for (int64_t step = 8; step < 10; ++step) Ingest("j", event(step));
  ExpectMatchesModel("j");
  // The rewind moves every tail point (steps 2-9 of attempt 1): each series
  // resets, which releases segments 3 and 8-10; nobody reads them any more.
  Rewind("j", 2, 1);
  EXPECT_EQ(TailSegments(), 1u);  // The rewind's, with the reset entries.
  ExpectMatchesModel("j");
  Reopen();
  ExpectMatchesModel("j");
}

TEST_F(SeriesStoreTest, R_DASH_04_LateAndOutOfOrderPointsRewriteChunks) {
  std::mt19937_64 rng(17);
  std::vector<int64_t> steps;
  for (int64_t s = 0; s < 400; s += 2) steps.push_back(s);  // Even steps.
  IngestRange("j", 1000, 50);
  for (size_t i = 0; i < steps.size(); i += 25) {
    std::vector<PointInput> batch;
    for (size_t k = i; k < std::min(steps.size(), i + 25); ++k) {
      batch.push_back({"train_loss", steps[k], static_cast<double>(k), 1});
    }
    Ingest("j", batch);
  }
  // Odd steps in random order, one per Stage, into existing chunks (which
  // grow past max_chunk_points and split).
  std::vector<int64_t> odd;
  for (int64_t s = 1; s < 400; s += 2) odd.push_back(s);
  std::shuffle(odd.begin(), odd.end(), rng);
  for (int64_t s : odd) {
    Ingest("j", {{"train_loss", s, -static_cast<double>(s), 1}});
  }
  ExpectMatchesModel("j");
  EXPECT_THAT(Read("j", "train_loss"), SizeIs(450));
  Reopen();
  ExpectMatchesModel("j");
}

// A rewritten chunk's old blob is kept for queries still reading an older
// snapshot, and deleted by a later write of the job once none can.
TEST_F(SeriesStoreTest, R_X_06_RewrittenChunksAreRetiredThenDeleted) {
  IngestRange("j", 0, 20);  // Chunks [0..7], [8..15]; tail 16..19.
  EXPECT_EQ(KeysIn("series_chunks"), 2u);
  Ingest("j", {{"train_loss", 3, -5.0, 1}});  // Rewrites the first chunk.
  EXPECT_EQ(KeysIn("series_chunks"), 3u);     // Old blob retired.
  Ingest("j", {{"train_loss", 20, 1.0, 1}});  // No query in flight: deleted.
  EXPECT_EQ(KeysIn("series_chunks"), 2u);
  ExpectMatchesModel("j");

  // Retirement is durable: after a reopen the next write deletes it.
  // Rolls back 6..20: the first chunk is cut to [0..5], the second moves,
  // and the 15 rolled-back points make 2 chunks of attempt 1.
  Rewind("j", 2, 5);
  EXPECT_EQ(KeysIn("series_chunks"), 1u + 2u + 2u);  // Kept, retired, RB.
  Reopen();
  ExpectMatchesModel("j");
  Ingest("j", {{"train_loss", 6, 1.0, 2}});
  EXPECT_EQ(KeysIn("series_chunks"), 1u + 2u);
  ExpectMatchesModel("j");
}

TEST_F(SeriesStoreTest, R_DASH_04_DataSurvivesCloseAndReopen) {
  IngestRange("a", 0, 1234);
  IngestRange("a", 0, 777, 1, "grad_norm");
  IngestRange("b", 5, 13);
  Ingest("a", {{"val_loss", 100, 0.7, 1}, {"val_loss", 200, 0.6, 1}});
  LossCurve before = Curve(Request("a", {"train_loss", "val_loss"}, 50));
  Reopen();
  EXPECT_EQ(store_->loaded_jobs(), 0u);
  LossCurve after = Curve(Request("a", {"train_loss", "val_loss"}, 50));
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  ExpectMatchesModel("a");
  ExpectMatchesModel("b");
  EXPECT_EQ(store_->loaded_jobs(), 2u);
}

TEST_F(SeriesStoreTest, R_X_01_SeveralStagesAccumulateInOneUpdate) {
  IngestRange("j", 0, 12);
  storage::WriteBatch batch;
  SeriesUpdate update;
  std::vector<std::vector<PointInput>> stages = {
      {{"train_loss", 12, 1, 1}, {"train_loss", 13, 2, 1}},
      {{"train_loss", 14, 3, 1}, {"train_loss", 15, 4, 1}},  // Folds.
      {{"train_loss", 9, 5, 1}},                             // Rewrites.
      {{"train_loss", 9, 6, 1}, {"train_loss", 2, 7, 1}},    // Rewrites again.
      {{"extra.reward", 3, 8, 1}},
  };
  for (const auto& points : stages) {
    ASSERT_OK(store_->Stage("j", points, batch, &update));
    for (const PointInput& p : points) {
      models_["j"].Add(std::string(p.series), {p.step, p.value, p.attempt});
    }
  }
  ASSERT_OK(store_->StageRewind("j", 2, 10, batch, &update));
  models_["j"].Rewind(2, 10);
  std::vector<PointInput> resumed = {{"train_loss", 11, 9, 2}};
  ASSERT_OK(store_->Stage("j", resumed, batch, &update));
  models_["j"].Add("train_loss", {11, 9, 2});
  ASSERT_OK(db_->Write(batch));
  store_->Publish(std::move(update));
  ExpectMatchesModel("j");
  Reopen();
  ExpectMatchesModel("j");
}

// The ingest path stages each event into its own SeriesUpdate, all in one
// batch: each Stage builds on the ones before it.
TEST_F(SeriesStoreTest, R_X_01_SeveralUpdatesOfOneJobInOneBatch) {
  IngestRange("j", 0, 12);
  IngestRange("other", 0, 3);
  storage::WriteBatch batch;
  std::vector<SeriesUpdate> updates;
  auto stage = [&](std::vector<PointInput> points) {
    updates.emplace_back();
    ASSERT_OK(store_->Stage("j", points, batch, &updates.back()));
    for (const PointInput& p : points) {
      models_["j"].Add(std::string(p.series), {p.step, p.value, p.attempt});
    }
  };
  for (int64_t s = 12; s < 30; ++s) stage({{"train_loss", s, 1.0 * s, 1}});
  stage({{"train_loss", 9, 5, 1}});   // Rewrites a chunk folded above...
  stage({{"train_loss", 20, 6, 1}});  // ...and another one.
  updates.emplace_back();
  ASSERT_OK(store_->StageRewind("j", 2, 25, batch, &updates.back()));
  models_["j"].Rewind(2, 25);
  stage({{"train_loss", 26, 7, 2}, {"val_loss", 26, 0.5, 2}});
  // Another job in the same batch is independent.
  updates.emplace_back();
  std::vector<PointInput> other = {{"train_loss", 3, 1, 1}};
  ASSERT_OK(store_->Stage("other", other, batch, &updates.back()));
  models_["other"].Add("train_loss", {3, 1, 1});
  EXPECT_FALSE(store_->Evict("j"));  // Staged state is kept.

  ASSERT_OK(db_->Write(batch));
  for (SeriesUpdate& u : updates) store_->Publish(std::move(u));
  ExpectMatchesModel("j");
  ExpectMatchesModel("other");
  IngestRange("j", 27, 10, 2);  // And the job goes on from there.
  ExpectMatchesModel("j");
  Reopen();
  ExpectMatchesModel("j");
  ExpectMatchesModel("other");
}

TEST_F(SeriesStoreTest, R_X_01_FailedBatchOfSeveralUpdatesLeavesNothing) {
  IngestRange("j", 0, 12);
  LossCurve before = Curve(Request("j"));
  {
    storage::WriteBatch batch;
    std::vector<SeriesUpdate> updates(3);
    std::vector<PointInput> a = {{"train_loss", 12, 1, 1}};
    std::vector<PointInput> b = {{"train_loss", 2, 9, 1}};
    ASSERT_OK(store_->Stage("j", a, batch, &updates[0]));
    ASSERT_OK(store_->Stage("j", b, batch, &updates[1]));
    ASSERT_OK(store_->StageRewind("j", 2, 5, batch, &updates[2]));
    batch.PutRaw("no_such_family", "k", "v");
    EXPECT_FALSE(db_->Write(batch).ok());
  }  // All three dropped.
  EXPECT_EQ(Curve(Request("j")).SerializeAsString(),
            before.SerializeAsString());
  ExpectMatchesModel("j");
  IngestRange("j", 12, 10);
  ExpectMatchesModel("j");
  EXPECT_TRUE(store_->Evict("j"));
  ExpectMatchesModel("j");
}

// A write that fails leaves memory as it was: the caller drops the update.
TEST_F(SeriesStoreTest, R_X_01_FailedWriteLeavesQueriesUnchanged) {
  IngestRange("j", 0, 30);
  LossCurve before = Curve(Request("j"));
  ASSERT_OK_AND_ASSIGN(std::vector<SeriesInfo> infos_before,
                       store_->ListSeries("j"));
  {
    storage::WriteBatch batch;
    SeriesUpdate update;
    std::vector<PointInput> points;
    for (int64_t s = 25; s < 60; ++s)
      points.push_back({"train_loss", s, -1, 1});
    points.push_back({"val_loss", 30, 0.5, 1});
    ASSERT_OK(store_->Stage("j", points, batch, &update));
    ASSERT_OK(store_->StageRewind("j", 2, 3, batch, &update));
    batch.PutRaw("no_such_family", "k", "v");  // Makes the write fail.
    EXPECT_FALSE(db_->Write(batch).ok());
    // `update` is dropped unpublished.
  }
  EXPECT_EQ(Curve(Request("j")).SerializeAsString(),
            before.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(std::vector<SeriesInfo> infos_after,
                       store_->ListSeries("j"));
  ASSERT_EQ(infos_after.size(), infos_before.size());
  EXPECT_EQ(infos_after[0].SerializeAsString(),
            infos_before[0].SerializeAsString());
  ExpectMatchesModel("j");
  // Later writes reuse nothing of the dropped update by mistake.
  IngestRange("j", 30, 20);
  ExpectMatchesModel("j");
  Reopen();
  ExpectMatchesModel("j");
}

TEST_F(SeriesStoreTest, R_LIST_05_DeleteJobPurgesEverything) {
  IngestRange("doomed", 0, 100);
  Rewind("doomed", 2, 50);
  IngestRange("doomed", 51, 10, 2);
  IngestRange("kept", 0, 20);
  storage::WriteBatch batch;
  SeriesUpdate update;
  ASSERT_OK(store_->DeleteJob("doomed", batch, &update));
  ASSERT_OK(db_->Write(batch));
  store_->Publish(std::move(update));
  models_["doomed"].Clear();
  ExpectMatchesModel("doomed");
  EXPECT_EQ(Curve(Request("doomed")).series(0).points_size(), 0);
  ExpectMatchesModel("kept");
  Reopen();
  ExpectMatchesModel("doomed");
  ExpectMatchesModel("kept");
  // The job can report again (fresh start).
  IngestRange("doomed", 0, 3);
  ExpectMatchesModel("doomed");
}

TEST_F(SeriesStoreTest, R_DASH_04_EvictedJobsReloadTheSameState) {
  IngestRange("j", 0, 50);
  Rewind("j", 2, 40);
  LossCurve before = Curve(Request("j"));
  EXPECT_TRUE(store_->Evict("j"));
  EXPECT_EQ(store_->loaded_jobs(), 0u);
  EXPECT_EQ(Curve(Request("j")).SerializeAsString(),
            before.SerializeAsString());
  ExpectMatchesModel("j");
}

// ---------------------------------------------------------------------------
// Rewinds (R-X-06).

TEST_F(SeriesStoreTest, R_X_06_RewindKeepsRolledBackPointsApart) {
  ReopenWith(SeriesStoreOptions{});  // Production chunk sizes.
  IngestRange("j", 0, 851, 1);       // Attempt 1 reached step 850.
  Rewind("j", 2, 800);  // Attempt 2 resumed from the checkpoint at 800.
  IngestRange("j", 801, 200, 2);  // Attempt 2: 801..1000.

  auto check = [&] {
    LossCurve curve = Curve(Request("j", {"train_loss"}, 10000));
    ASSERT_THAT(curve.series(), SizeIs(1));
    std::vector<SeriesPoint> points = ToPoints(curve.series(0));
    ASSERT_THAT(points, SizeIs(1001));
    for (const SeriesPoint& p : points) {
      EXPECT_EQ(p.attempt, p.step <= 800 ? 1 : 2) << p.step;
    }
    EXPECT_EQ(curve.latest_step(), 1000);

    CurveQuery with = Request("j", {"train_loss"}, 10000);
    with.include_rolled_back = true;
    curve = Curve(with);
    ASSERT_THAT(curve.series(), SizeIs(2));
    EXPECT_FALSE(curve.series(0).rolled_back());
    const CurveSeries& rolled = curve.series(1);
    EXPECT_EQ(rolled.name(), "train_loss");
    EXPECT_TRUE(rolled.rolled_back());
    EXPECT_EQ(rolled.rolled_back_attempt(), 1);
    std::vector<SeriesPoint> rb = ToPoints(rolled);
    ASSERT_THAT(rb, SizeIs(50));
    EXPECT_EQ(rb.front().step, 801);
    EXPECT_EQ(rb.back().step, 850);
    for (const SeriesPoint& p : rb) EXPECT_EQ(p.attempt, 1);

    // A zoom that misses the rolled-back steps has no rolled-back series.
    with.start_step = 900;
    EXPECT_THAT(Curve(with).series(), SizeIs(1));

    ASSERT_OK_AND_ASSIGN(std::vector<SeriesInfo> infos,
                         store_->ListSeries("j"));
    ASSERT_THAT(infos, SizeIs(1));
    EXPECT_EQ(infos[0].point_count(), 1001);
    EXPECT_EQ(infos[0].rolled_back_point_count(), 50);
    EXPECT_EQ(infos[0].last_step(), 1000);
    ExpectMatchesModel("j");
  };
  check();
  Reopen();
  check();
}

TEST_F(SeriesStoreTest, R_X_06_ArrivalOrderDoesNotMatter) {
  // Same data as the scenario above, but attempt 2's points arrive before
  // its rewind, and a late attempt-1 point arrives after it.
  IngestRange("j", 0, 86, 1);
  IngestRange("j", 81, 20, 2);  // Supersedes attempt 1 at 81..85 at once.
  ExpectMatchesModel("j");
  Rewind("j", 2, 80);
  Ingest("j", {{"train_loss", 90, 7.0, 1}});  // Late: rolled back directly.
  Ingest("j", {{"train_loss", 50, 7.0, 1}});  // Late but before 80: effective.
  ExpectMatchesModel("j");
  EXPECT_EQ(Read("j", "train_loss", 1).back().step, 90);
  Reopen();
  ExpectMatchesModel("j");
  // Repeating the rewind changes nothing (the first repeat may delete
  // chunks retired before the reopen; the second writes nothing at all).
  Rewind("j", 2, 80);
  ExpectMatchesModel("j");
  storage::WriteBatch batch;
  SeriesUpdate update;
  ASSERT_OK(store_->StageRewind("j", 2, 80, batch, &update));
  EXPECT_TRUE(batch.empty());
}

TEST_F(SeriesStoreTest, R_X_06_DeepRewindAndSeveralAttempts) {
  IngestRange("j", 0, 300, 1);
  IngestRange("j", 0, 300, 1, "grad_norm");
  Rewind("j", 2, 250);
  IngestRange("j", 251, 100, 2);
  Rewind("j", 3, 10);  // Deep: rolls back most of attempts 1 and 2.
  IngestRange("j", 11, 30, 3);
  ExpectMatchesModel("j");
  CurveQuery with = Request("j", {"train_loss", "grad_norm"}, 20);
  with.include_rolled_back = true;
  LossCurve curve = Curve(with);
  ASSERT_THAT(curve.series(), SizeIs(5));  // 2 effective + tl@1, tl@2, gn@1.
  EXPECT_EQ(curve.series(2).name(), "train_loss");
  EXPECT_EQ(curve.series(2).rolled_back_attempt(), 1);
  EXPECT_EQ(curve.series(3).rolled_back_attempt(), 2);
  EXPECT_EQ(curve.series(4).name(), "grad_norm");
  EXPECT_EQ(curve.series(4).total_points_in_range(), 289);
  EXPECT_TRUE(curve.series(4).downsampled());
  EXPECT_EQ(curve.end_step(), 350);  // Rolled-back points widen the range.
  EXPECT_EQ(curve.latest_step(), 40);
  Reopen();
  ExpectMatchesModel("j");
}

// Random ingest, replays, late points, rewinds and reopens against the
// model; then the downsampled curves against the reference.
TEST_F(SeriesStoreTest, R_X_06_RandomHistoriesMatchTheModel) {
  std::mt19937_64 rng(4242);
  const std::vector<std::string> names = {"train_loss", "val_loss", "extra.k"};
  int32_t attempt = 1;
  int64_t step = 0;
  for (int op = 0; op < 400; ++op) {
    int kind = static_cast<int>(rng() % 20);
    if (kind == 0 && step > 0) {
      ++attempt;
      int64_t back =
          static_cast<int64_t>(rng() % (rng() % 4 == 0 ? step + 1 : 40));
      int64_t from = std::max<int64_t>(0, step - back);
      Rewind("r", attempt, from);
      step = from + 1;
    } else if (kind == 1) {
      ASSERT_NO_FATAL_FAILURE(Reopen());
    } else {
      std::vector<PointInput> batch;
      int n = 1 + static_cast<int>(rng() % (kind < 10 ? 3 : 30));
      for (int i = 0; i < n; ++i) {
        const std::string& name = names[rng() % names.size()];
        int64_t s = step;
        int32_t a = attempt;
        double v = std::sin(static_cast<double>(step)) + attempt;
        switch (rng() % 10) {
          case 0:  // A late or replayed point.
            s = static_cast<int64_t>(rng() % (step + 1));
            break;
          case 1:  // A straggler of an older attempt.
            a = 1 + static_cast<int32_t>(rng() % attempt);
            s = static_cast<int64_t>(rng() % (step + 50));
            break;
          case 2:
            v = kNaN;
            ++step;
            break;
          default:
            ++step;
        }
        batch.push_back({name, s, v, a});
      }
      Ingest("r", batch);
    }
    if (op % 50 == 49) {
      ASSERT_NO_FATAL_FAILURE(ExpectMatchesModel("r"));
    }
  }
  ExpectMatchesModel("r");

  SeriesStoreOptions summaries = SmallChunks();
  summaries.raw_scan_points_per_bucket = 0;
  SeriesStore summary_store(*db_, summaries);
  for (const std::string& name : names) {
    std::vector<SeriesPoint> points = models_["r"].Effective(name);
    for (int32_t max_points : {2, 6, 40}) {
      Reference ref =
          ReferenceAnswer(points, std::nullopt, std::nullopt, max_points);
      absl::StatusOr<LossCurve> curve =
          summary_store.GetLossCurve(Request("r", {name}, max_points));
      ASSERT_OK(curve.status());
      EXPECT_EQ(ToPoints(curve->series(0)), ref.result.points) << name;
    }
  }
}

// Queries run concurrently with ingest and rewinds (which rewrite chunks
// under the readers' snapshots): every answer is one of the states the
// store went through while the query ran (the model's state after each
// published write), never a mix such as old chunks with a newer tail.
TEST_F(SeriesStoreTest, R_X_06_QueriesRunConcurrentlyWithIngestAndRewinds) {
  using State = std::shared_ptr<const std::vector<SeriesPoint>>;
  absl::Mutex mu;
  std::vector<State> states;  // after each Publish, in order
  auto record = [&] {
    auto state = std::make_shared<const std::vector<SeriesPoint>>(
        models_["c"].Effective("train_loss"));
    absl::MutexLock lock(&mu);
    states.push_back(std::move(state));
  };
  auto published = [&] {
    absl::MutexLock lock(&mu);
    return states.size();
  };
  record();
  std::atomic<bool> done{false};
  std::atomic<bool> writer_done{false};
  std::atomic<int> checked{0};
  std::atomic<int> readers{2};
  auto reader = [&] {
    absl::Cleanup exited = [&] { readers.fetch_sub(1); };
    CurveQuery with_rolled_back = Request("c", {"train_loss"}, 40);
    with_rolled_back.include_rolled_back = true;
    const CurveQuery effective = Request("c", {"train_loss"}, 40);
    while (!done.load()) {
      // The answer may be of any state from `first` (the latest recorded
      // when the query started) to the one after the latest recorded when
      // it ended: the store may be one Publish ahead of the record.
      const size_t first = published() - 1;
      absl::StatusOr<std::vector<SeriesPoint>> raw =
          store_->ReadSeries("c", "train_loss");
      absl::StatusOr<LossCurve> curve = store_->GetLossCurve(effective);
      const size_t last = published() - 1;
      ASSERT_OK(raw.status());
      ASSERT_OK(curve.status());
      while (published() < last + 2 && !writer_done.load()) {
        std::this_thread::yield();
      }
      std::vector<State> candidates;
      {
        absl::MutexLock lock(&mu);
        candidates.assign(states.begin() + first,
                          states.begin() + std::min(last + 2, states.size()));
      }
      bool raw_matches = false, curve_matches = false;
      for (const State& state : candidates) {
        raw_matches |= *raw == *state;
        Reference ref = ReferenceAnswer(*state, std::nullopt, std::nullopt, 40);
        curve_matches |= ToPoints(curve->series(0)) == ref.result.points;
      }
      ASSERT_TRUE(raw_matches)
          << "ReadSeries: " << raw->size() << " points, no state from " << first
          << " to " << last + 1;
      ASSERT_TRUE(curve_matches)
          << "GetLossCurve: no state from " << first << " to " << last + 1;
      checked.fetch_add(1);
      // Rolled-back runs: well-formed.
      absl::StatusOr<LossCurve> both = store_->GetLossCurve(with_rolled_back);
      ASSERT_OK(both.status());
      for (const CurveSeries& series : both->series()) {
        ASSERT_LE(series.points_size(), 40);
        for (int i = 1; i < series.points_size(); ++i) {
          ASSERT_LT(series.points(i - 1).step(), series.points(i).step());
        }
      }
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  int32_t attempt = 1;
  int64_t step = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<PointInput> batch;
    for (int i = 0; i < 20; ++i) {
      batch.push_back({"train_loss", step, std::cos(step * 0.1), attempt});
      ++step;
    }
    Ingest("c", batch);
    record();
    Ingest("c", {{"train_loss", step / 2, 9.0, attempt}});  // Chunk rewrite.
    record();
    if (round % 25 == 24) {
      ++attempt;
      step -= 15;
      Rewind("c", attempt, step - 1);
      record();
    }
  }
  writer_done.store(true);
  // A few answers after the last write too (unless a reader failed).
  const int before = checked.load();
  while (checked.load() < before + 2 && readers.load() > 0) {
    std::this_thread::yield();
  }
  EXPECT_GE(checked.load(), before + 2);
  done.store(true);
  r1.join();
  r2.join();
  ExpectMatchesModel("c");
}

}  // namespace
}  // namespace trainyard::metrics
