// Copyright 2026 Trainyard authors.
//
// The jobs-list query language and index on a real RocksDB (temp dir):
// rebuild at start, filters, keyword, sort, paging, the change log.
#include "services/jobs/views/job_index.h"

#include <memory>
#include <random>
#include <set>

#include "common/status/errors.h"
#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using trainyard::testing::StatusIs;

struct Spec {
  std::string id;
  std::string name;
  common::v1::JobState state = common::v1::JOB_STATE_QUEUED;
  std::string creator = "ana";
  double cost = 0;
  int64_t created = 0;  // seconds after the origin
  std::vector<std::string> tags = {};
  std::string notes = "";
  common::v1::Preset preset = common::v1::PRESET_BALANCED;
  int64_t started = -1;  // -1: never started
};

internal::JobRecord Record(const Spec& s) {
  const absl::Time origin = absl::FromUnixSeconds(1764000000);
  internal::JobRecord r;
  v1::Job* j = r.mutable_job();
  j->set_job_id(s.id);
  j->set_state(s.state);
  j->mutable_spec()->set_display_name(s.name);
  j->mutable_spec()->set_notes(s.notes);
  for (const std::string& t : s.tags) j->mutable_spec()->add_tags(t);
  j->mutable_spec()->mutable_config()->set_preset(s.preset);
  j->mutable_spec()->mutable_config()->set_gpu_type(
      common::v1::GPU_TYPE_A100_80GB);
  j->mutable_created_by()->set_user_id(s.creator);
  j->mutable_created_by()->set_display_name(s.creator);
  *j->mutable_create_time() = ToProto(origin + absl::Seconds(s.created));
  if (s.started >= 0) {
    *j->mutable_start_time() = ToProto(origin + absl::Seconds(s.started));
  }
  j->mutable_cost()->mutable_spend()->set_micros(
      static_cast<int64_t>(s.cost * 1e6));
  return r;
}

class JobIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::Db::Open(storage::testing::TestOptions(
        dir_.Sub("db"), JobStore::ColumnFamilies()));
    ASSERT_OK(db.status());
    db_ = *std::move(db);
    auto store = JobStore::Open(*db_);
    ASSERT_OK(store.status());
    store_ = *std::move(store);
  }

  void Put(const Spec& s) {
    Commit c;
    c.record = Record(s);
    ASSERT_OK(store_->Write(c));
  }

  // Rebuilds the index from the store, as at start.
  void Rebuild() {
    auto index = JobIndex::Build(*store_, 7);
    ASSERT_OK(index.status());
    index_ = *std::move(index);
    store_->AddObserver(
        [i = index_.get()](const internal::JobRecord& r) { i->Upsert(r); });
  }

  std::vector<std::string> Ids(const std::string& filter,
                               const std::string& keyword = "",
                               const std::string& order = "") {
    absl::StatusOr<JobQuery> q = ParseJobQuery(filter, keyword, order);
    EXPECT_OK(q.status());
    if (!q.ok()) return {};
    return index_->Query(*q, std::nullopt, 100, kNow).job_ids;
  }

  static constexpr int64_t kNow = int64_t{1764100000} * 1000000;
  trainyard::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<JobIndex> index_;
};

TEST_F(JobIndexTest, R_LIST_02_RebuiltFromRocksDbAndKeptCurrentByWrites) {
  Put({.id = "j1", .name = "alpha", .created = 1});
  Put({.id = "j2", .name = "beta", .created = 2});
  Rebuild();
  EXPECT_EQ(index_->size(), 2u);
  // Default order: create_time descending.
  EXPECT_THAT(Ids(""), ElementsAre("j2", "j1"));
  Put({.id = "j3", .name = "gamma", .created = 3});
  EXPECT_THAT(Ids(""), ElementsAre("j3", "j2", "j1"));
  internal::JobRecord deleted = Record({.id = "j2", .name = "beta"});
  deleted.set_deleted(true);
  Commit c;
  c.record = deleted;
  ASSERT_OK(store_->Write(c));
  EXPECT_THAT(Ids(""), ElementsAre("j3", "j1"));
  EXPECT_EQ(index_->LastChange(), 2u);
}

TEST_F(JobIndexTest, R_LIST_02_FiltersStatusesCreatorPresetAndCostBuckets) {
  Put({.id = "a",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 20,
       .created = 1});
  Put({.id = "b",
       .state = common::v1::JOB_STATE_QUEUED,
       .creator = "bo",
       .cost = 75,
       .created = 2});
  Put({.id = "c",
       .state = common::v1::JOB_STATE_COMPLETED,
       .cost = 150,
       .created = 3,
       .preset = common::v1::PRESET_AGGRESSIVE});
  Put({.id = "d",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 50,
       .created = 4});
  Rebuild();
  EXPECT_THAT(Ids("(state = TRAINING OR state = QUEUED)"),
              ElementsAre("d", "b", "a"));
  EXPECT_THAT(Ids("created_by = \"bo\""), ElementsAre("b"));
  EXPECT_THAT(Ids("created_by != \"bo\" AND terminal = false"),
              ElementsAre("d", "a"));
  EXPECT_THAT(Ids("preset = PRESET_AGGRESSIVE"), ElementsAre("c"));
  EXPECT_THAT(Ids("cost < 50"), ElementsAre("a"));
  EXPECT_THAT(Ids("cost >= 50 AND cost <= 100"), ElementsAre("d", "b"));
  EXPECT_THAT(Ids("(cost < 50 OR cost > 100)"), ElementsAre("c", "a"));
  EXPECT_THAT(Ids("active = true"), ElementsAre("d", "a"));
  EXPECT_THAT(Ids("create_time >= \"2025-11-24T16:00:02Z\""),
              ElementsAre("d", "c", "b"));
}

TEST_F(JobIndexTest,
       R_LIST_02_KeywordIsUnicodeCaseInsensitiveOverNameNotesTags) {
  Put({.id = "n", .name = "Zürich-Übersetzer", .created = 1});
  Put({.id = "t", .name = "x", .created = 2, .tags = {"Client-X"}});
  Put({.id = "o", .name = "y", .created = 3, .notes = "Trained for ΣΊΣΥΦΟΣ"});
  Put({.id = "none", .name = "other", .created = 4});
  Rebuild();
  EXPECT_THAT(Ids("", "züRICH-üBER"), ElementsAre("n"));
  EXPECT_THAT(Ids("", "client-x"), ElementsAre("t"));
  EXPECT_THAT(Ids("tags:\"CLIENT-X\""), ElementsAre("t"));
  EXPECT_THAT(Ids("", "σίσυφος"), ElementsAre("o"));
}

TEST_F(JobIndexTest, R_LIST_03_SortsByAnyColumnStablyWithMissingValuesLast) {
  Put({.id = "a", .name = "b", .cost = 5, .created = 1, .started = 10});
  Put({.id = "b", .name = "A", .cost = 9, .created = 2});
  Put({.id = "c", .name = "c", .cost = 5, .created = 3, .started = 20});
  Rebuild();
  EXPECT_THAT(Ids("", "", "cost desc"), ElementsAre("b", "c", "a"));
  // Equal cost: create_time descending breaks the tie.
  EXPECT_THAT(Ids("", "", "cost asc"), ElementsAre("c", "a", "b"));
  EXPECT_THAT(Ids("", "", "display_name"), ElementsAre("b", "a", "c"));
  EXPECT_THAT(Ids("", "", "start_time asc"), ElementsAre("a", "c", "b"));
  EXPECT_THAT(Ids("", "", "start_time desc"), ElementsAre("c", "a", "b"));
  EXPECT_THAT(Ids("", "", "duration desc"), ElementsAre("a", "c", "b"));
}

TEST_F(JobIndexTest, R_LIST_04_PagesFollowTheLastRowAndCountTotal) {
  for (int i = 0; i < 7; ++i) {
    Put({.id = absl::StrCat("j", i),
         .cost = static_cast<double>(i % 3),
         .created = i});
  }
  Rebuild();
  auto q = ParseJobQuery("", "", "cost desc");
  ASSERT_OK(q.status());
  std::vector<std::string> all;
  std::optional<SortKey> after;
  int pages = 0;
  do {
    JobIndex::Page p = index_->Query(*q, after, 3, kNow);
    EXPECT_EQ(p.total_size, 7);
    all.insert(all.end(), p.job_ids.begin(), p.job_ids.end());
    after = p.next;
    if (after) {
      ASSERT_OK_AND_ASSIGN(SortKey decoded,
                           DecodeSortKey(EncodeSortKey(*after)));
      EXPECT_EQ(decoded.job_id, after->job_id);
      after = decoded;
    }
    ++pages;
  } while (after);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(all, ElementsAre("j5", "j2", "j4", "j1", "j6", "j3", "j0"));
}

TEST_F(JobIndexTest,
       R_LIST_02_AJobThatChangesStatusOrCostMovesBetweenPostingsAndOrders) {
  Put({.id = "a",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 10,
       .created = 1});
  Put({.id = "b",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 20,
       .created = 2});
  Put({.id = "c",
       .state = common::v1::JOB_STATE_COMPLETED,
       .cost = 30,
       .created = 3});
  Rebuild();
  auto total = [this](const std::string& filter) {
    auto q = ParseJobQuery(filter, "", "");
    EXPECT_OK(q.status());
    return index_->Query(*q, std::nullopt, 1, kNow).total_size;
  };
  EXPECT_THAT(Ids("state = TRAINING", "", "cost desc"), ElementsAre("b", "a"));
  EXPECT_EQ(total("state = TRAINING"), 2);
  // a completes and costs the most.
  Put({.id = "a",
       .state = common::v1::JOB_STATE_COMPLETED,
       .cost = 99,
       .created = 1});
  EXPECT_THAT(Ids("state = TRAINING", "", "cost desc"), ElementsAre("b"));
  EXPECT_EQ(total("state = TRAINING"), 1);
  EXPECT_THAT(Ids("state = COMPLETED", "", "cost desc"), ElementsAre("a", "c"));
  EXPECT_EQ(total("(state = COMPLETED OR state = TRAINING)"), 3);
  EXPECT_THAT(Ids("", "", "cost asc"), ElementsAre("b", "c", "a"));
  EXPECT_THAT(Ids("", "", "state desc"), ElementsAre("c", "a", "b"));
  // A creator change moves it between creators' postings.
  Put({.id = "b",
       .state = common::v1::JOB_STATE_TRAINING,
       .creator = "bo",
       .cost = 20,
       .created = 2});
  EXPECT_THAT(Ids("created_by = \"bo\""), ElementsAre("b"));
  EXPECT_EQ(total("created_by = \"ana\""), 2);
  // A job created after the rebuild is in every structure, a deleted one in
  // none.
  Put({.id = "d",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 1,
       .created = 4,
       .notes = "fresh notes"});
  EXPECT_THAT(Ids("state = TRAINING", "", "cost asc"), ElementsAre("d", "b"));
  EXPECT_THAT(Ids("", "fresh"), ElementsAre("d"));
  internal::JobRecord gone = Record({.id = "d"});
  gone.set_deleted(true);
  Commit c;
  c.record = gone;
  ASSERT_OK(store_->Write(c));
  EXPECT_THAT(Ids("state = TRAINING", "", "cost asc"), ElementsAre("b"));
  EXPECT_THAT(Ids("", "fresh"), ElementsAre());
  EXPECT_EQ(total(""), 3);
  EXPECT_EQ(index_->size(), 3u);
}

TEST_F(JobIndexTest, R_LIST_02_KeywordWordsFollowEditsAndSpanSeparators) {
  Put({.id = "a", .name = "support-retry", .created = 1});
  Put({.id = "b", .name = "support", .created = 2, .notes = "retry later"});
  Put({.id = "c", .name = "x", .created = 3, .tags = {"Ñandú"}});
  Rebuild();
  // Inside a word, across a separator (only "a" has them adjacent), a
  // keyword of separators only, and non-ASCII words.
  EXPECT_THAT(Ids("", "PPOR"), ElementsAre("b", "a"));
  EXPECT_THAT(Ids("", "port-ret"), ElementsAre("a"));
  EXPECT_THAT(Ids("", "port ret"), ElementsAre());
  EXPECT_THAT(Ids("", "-"), ElementsAre("a"));
  EXPECT_THAT(Ids("", "ÑAN"), ElementsAre("c"));
  // Editing the notes moves the job between words.
  Put({.id = "b", .name = "support", .created = 2, .notes = "done"});
  EXPECT_THAT(Ids("", "retry"), ElementsAre("a"));
  EXPECT_THAT(Ids("", "don"), ElementsAre("b"));
}

// Every query, order and page of the index (orderings, postings, words)
// equals a plain scan of every row, through creates, updates and deletes.
TEST_F(JobIndexTest, R_LIST_03_IndexedPagesEqualAScanOfEveryRow) {
  std::mt19937 rng(15);
  const std::vector<common::v1::JobState> states = {
      common::v1::JOB_STATE_QUEUED, common::v1::JOB_STATE_TRAINING,
      common::v1::JOB_STATE_COMPLETED, common::v1::JOB_STATE_FAILED};
  const std::vector<std::string> creators = {"ana", "bo", "cy", "dee"};
  const std::vector<std::string> words = {"alpha", "beta", "Ñandú", "gamma",
                                          "x-ray"};
  std::set<std::string> live;
  auto random_job = [&](const std::string& id) {
    Spec s{.id = id};
    s.name = absl::StrCat(words[rng() % words.size()], "-",
                          words[rng() % words.size()]);
    s.state = states[rng() % states.size()];
    s.creator = creators[rng() % creators.size()];
    s.cost = 5.0 * (rng() % 12);                   // ties
    s.created = rng() % 40;                        // ties
    s.started = rng() % 3 == 0 ? -1 : rng() % 50;  // missing values
    s.preset =
        rng() % 2 ? common::v1::PRESET_BALANCED : common::v1::PRESET_AGGRESSIVE;
    if (rng() % 3 == 0) s.tags = {"x"};
    if (rng() % 2 == 0) s.notes = words[rng() % words.size()];
    live.insert(id);
    return s;
  };
  for (int i = 0; i < 150; ++i) Put(random_job(absl::StrCat("j", i)));
  Rebuild();
  for (int i = 150; i < 300; ++i) Put(random_job(absl::StrCat("j", i)));
  for (int i = 0; i < 120; ++i) Put(random_job(absl::StrCat("j", rng() % 300)));
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("j", rng() % 300);
    internal::JobRecord gone = Record({.id = id});
    gone.set_deleted(true);
    Commit c;
    c.record = gone;
    ASSERT_OK(store_->Write(c));
    live.erase(id);
  }
  ASSERT_EQ(index_->size(), live.size());

  const std::vector<std::pair<std::string, std::string>> queries = {
      {"", ""},
      {"state = TRAINING", ""},
      {"(state = COMPLETED OR state = FAILED)", ""},
      {"created_by = \"bo\"", ""},
      {"(state = COMPLETED OR state = FAILED) AND created_by = \"ana\" AND "
       "cost >= 10 AND cost < 50",
       ""},
      {"terminal = true", ""},
      {"active = true AND preset = PRESET_AGGRESSIVE", ""},
      {"tags:\"x\"", ""},
      {"(state = QUEUED OR state = QUEUED)", ""},
      {"(tags:\"x\" OR tags:\"y\")", ""},
      {"cost > 40", ""},
      {"cost >= 10 AND cost < 50", ""},
      {"cost = 25", ""},
      {"cost < 10 AND cost > 20", ""},
      {"create_time >= \"2025-11-24T16:00:10Z\" AND "
       "create_time < \"2025-11-24T16:00:30Z\" AND cost <= 30",
       ""},
      {"create_time < \"2025-11-24T16:00:20Z\"", "alpha"},
      {"(state = COMPLETED OR state = FAILED) AND cost >= 10", ""},
      {"created_by != \"ana\"", ""},
      {"", "alp"},
      {"", "ha-be"},
      {"state = TRAINING", "BETA"},
      {"", "-"},
      {"", "ñand"},
      {"", "zzz"},
  };
  const std::vector<std::string> fields = {
      "display_name", "state",      "preset",      "gpu_type",
      "pricing",      "created_by", "create_time", "start_time",
      "duration",     "cost",       "progress",    "update_time"};
  for (const auto& [filter, keyword] : queries) {
    for (const std::string& field : fields) {
      for (const char* dir : {" asc", " desc"}) {
        SCOPED_TRACE(absl::StrCat(filter, " / ", keyword, " / ", field, dir));
        ASSERT_OK_AND_ASSIGN(JobQuery q,
                             ParseJobQuery(filter, keyword, field + dir));
        std::vector<JobRow> rows;
        for (const std::string& id : live) {
          std::optional<JobRow> row = index_->Row(id);
          ASSERT_TRUE(row.has_value());
          if (Matches(q, *row)) rows.push_back(*row);
        }
        std::sort(
            rows.begin(), rows.end(), [&q](const JobRow& a, const JobRow& b) {
              return SortLess(KeyOf(a, q.order.field, kNow),
                              KeyOf(b, q.order.field, kNow), q.order.desc);
            });
        std::vector<std::string> want;
        for (const JobRow& r : rows) want.push_back(r.job_id);
        std::vector<std::string> got;
        std::optional<SortKey> after;
        do {
          JobIndex::Page p = index_->Query(q, after, 7, kNow);
          ASSERT_EQ(p.total_size, static_cast<int32_t>(want.size()));
          got.insert(got.end(), p.job_ids.begin(), p.job_ids.end());
          after = p.next;
        } while (after && got.size() <= want.size());
        EXPECT_EQ(got, want);
        EXPECT_EQ(index_->MatchingIds(q, kNow), want);
      }
    }
  }
}

TEST_F(JobIndexTest, R_LIST_02_FilterErrorsNamePositionAndToken) {
  absl::Status s = ParseJobQuery("state = TRAINNG", "", "").status();
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kInvalidArgument,
                  HasSubstr("invalid value TRAINNG for state at position 0")));
  EXPECT_EQ(FieldViolations(s)[0].field, "filter");
  EXPECT_EQ(ErrorReason(s), "INVALID_FILTER");
  s = ParseJobQuery("cost = 5 AND colour = red", "", "").status();
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown field \"colour\" at position 13")));
  s = ParseJobQuery("state < TRAINING", "", "").status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("operator \"<\" is not accepted")));
  s = ParseJobQuery("cost < cheap", "", "").status();
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kInvalidArgument,
                  HasSubstr("invalid value cheap for cost at position 0")));
  s = ParseJobQuery("", "", "colour desc").status();
  EXPECT_EQ(FieldViolations(s)[0].field, "order_by");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("unknown sort field \"colour\"")));
  s = ParseJobQuery("", std::string(201, 'k'), "").status();
  EXPECT_EQ(FieldViolations(s)[0].field, "keyword");
}

TEST_F(JobIndexTest, R_LIST_07_ChangeLogCoalescesWithRowsBeforeAndAfter) {
  Rebuild();
  Put({.id = "a", .created = 1});
  Put({.id = "b", .created = 2});
  Put({.id = "a", .name = "renamed", .created = 1});
  uint64_t upto = 0;
  auto changed = index_->ChangesSince(0, 10, &upto);
  ASSERT_TRUE(changed.has_value());
  ASSERT_EQ(changed->size(), 2u);
  EXPECT_EQ((*changed)[0].job_id, "a");
  EXPECT_EQ((*changed)[0].before, nullptr);  // created after seq 0
  EXPECT_EQ((*changed)[0].after->name_folded, "renamed");
  EXPECT_EQ((*changed)[1].job_id, "b");
  EXPECT_EQ(upto, 3u);
  changed = index_->ChangesSince(2, 10, &upto);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].before->name_folded, "");
  EXPECT_EQ((*changed)[0].after->name_folded, "renamed");
  // At most `max` jobs: the round stops before the next job's first change.
  changed = index_->ChangesSince(0, 1, &upto);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ(upto, 1u);
  EXPECT_EQ((*changed)[0].after->name_folded, "");  // as of seq 1
  EXPECT_FALSE(index_->ChangesSince(99, 10, &upto).has_value());

  // A deletion leaves the row it removed as `before`, no `after`.
  internal::JobRecord gone = Record({.id = "b", .created = 2});
  gone.set_deleted(true);
  Commit c;
  c.record = gone;
  ASSERT_OK(store_->Write(c));
  changed = index_->ChangesSince(3, 10, &upto);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_NE((*changed)[0].before, nullptr);
  EXPECT_EQ((*changed)[0].after, nullptr);
}

}  // namespace
}  // namespace trainyard::jobs
