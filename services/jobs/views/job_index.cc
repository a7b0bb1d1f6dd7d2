// Copyright 2026 Trainyard authors.
#include "services/jobs/views/job_index.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "common/status/status_macros.h"

namespace trainyard::jobs {

absl::StatusOr<std::unique_ptr<JobIndex>> JobIndex::Build(const JobStore& store,
                                                          uint64_t epoch) {
  std::unique_ptr<JobIndex> index(new JobIndex(epoch));
  absl::MutexLock lock(&index->mu_);
  RETURN_IF_ERROR(store.ForEachJob([&](const internal::JobRecord& r) {
    index->mu_.AssertHeld();  // runs here, under `lock`
    index->PutLocked(r).reset();
  }));
  return index;
}

std::shared_ptr<const JobRow> JobIndex::PutLocked(
    const internal::JobRecord& record) {
  const std::string& id = record.job().job_id();
  auto it = position_.find(id);
  if (record.deleted()) {
    if (it == position_.end()) return nullptr;
    const size_t at = it->second;
    position_.erase(it);
    std::shared_ptr<const JobRow> old = std::move(rows_[at]);
    if (at + 1 != rows_.size()) {
      rows_[at] = std::move(rows_.back());
      position_[rows_[at]->job_id] = at;
    }
    rows_.pop_back();
    return old;
  }
  auto row = std::make_shared<const JobRow>(MakeJobRow(record));
  if (it != position_.end()) {
    std::shared_ptr<const JobRow> old = std::move(rows_[it->second]);
    rows_[it->second] = std::move(row);
    return old;
  }
  position_.emplace(id, rows_.size());
  rows_.push_back(std::move(row));
  return nullptr;
}

void JobIndex::Upsert(const internal::JobRecord& record) {
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<const JobRow> before = PutLocked(record);
    std::shared_ptr<const JobRow> after;
    auto it = position_.find(record.job().job_id());
    if (it != position_.end()) after = rows_[it->second];
    if (before != nullptr || after != nullptr) {
      changes_.push_back({++last_seq_, std::move(before), std::move(after)});
      while (changes_.size() > kMaxChanges) changes_.pop_front();
    }
  }
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    for (const auto& [id, l] : listeners_) listeners.push_back(l);
  }
  for (const auto& l : listeners) (*l)();
}

JobIndex::Page JobIndex::Query(const JobQuery& query,
                               const std::optional<SortKey>& after,
                               int page_size, int64_t now_us) const {
  Page page;
  const bool desc = query.order.desc;
  std::vector<KeyView> keys;
  std::optional<KeyView> cursor;
  if (after) cursor = after->view();
  absl::ReaderMutexLock lock(&mu_);
  for (const std::shared_ptr<const JobRow>& row : rows_) {
    if (!Matches(query, *row)) continue;
    ++page.total_size;
    KeyView k = KeyOf(*row, query.order.field, now_us);
    if (cursor && !SortLess(*cursor, k, desc)) continue;
    keys.push_back(k);
  }
  auto less = [desc](const KeyView& a, const KeyView& b) {
    return SortLess(a, b, desc);
  };
  const size_t n = std::min<size_t>(keys.size(), page_size);
  std::partial_sort(keys.begin(), keys.begin() + n, keys.end(), less);
  for (size_t i = 0; i < n; ++i) page.job_ids.emplace_back(keys[i].job_id);
  if (keys.size() > n && n > 0) page.next = SortKey::Of(keys[n - 1]);
  return page;
}

std::vector<std::string> JobIndex::MatchingIds(const JobQuery& query,
                                               int64_t now_us) const {
  const bool desc = query.order.desc;
  std::vector<KeyView> keys;
  absl::ReaderMutexLock lock(&mu_);
  for (const std::shared_ptr<const JobRow>& row : rows_) {
    if (Matches(query, *row))
      keys.push_back(KeyOf(*row, query.order.field, now_us));
  }
  std::sort(keys.begin(), keys.end(),
            [desc](const KeyView& a, const KeyView& b) {
              return SortLess(a, b, desc);
            });
  std::vector<std::string> ids;
  ids.reserve(keys.size());
  for (const KeyView& k : keys) ids.emplace_back(k.job_id);
  return ids;
}

std::vector<JobIndex::Creator> JobIndex::Creators() const {
  absl::flat_hash_map<std::string, Creator> by_id;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const std::shared_ptr<const JobRow>& row : rows_) {
      Creator& c = by_id[row->creator_id];
      c.user_id = row->creator_id;
      ++c.job_count;
      if (row->create_us >= c.last_create_us) {
        c.last_create_us = row->create_us;
        c.display_name = row->creator_name;  // the newest job's name wins
      }
    }
  }
  std::vector<Creator> out;
  out.reserve(by_id.size());
  for (auto& [id, c] : by_id) out.push_back(std::move(c));
  return out;
}

std::optional<JobRow> JobIndex::Row(const std::string& job_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = position_.find(job_id);
  if (it == position_.end()) return std::nullopt;
  return *rows_[it->second];
}

size_t JobIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return rows_.size();
}

uint64_t JobIndex::LastChange() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_seq_;
}

std::optional<std::vector<JobIndex::Change>> JobIndex::ChangesSince(
    uint64_t seq, size_t max, uint64_t* upto) const {
  absl::ReaderMutexLock lock(&mu_);
  *upto = seq;
  if (seq > last_seq_) return std::nullopt;  // a token from the future
  if (seq == last_seq_) return std::vector<Change>{};
  if (changes_.empty() || changes_.front().seq > seq + 1) return std::nullopt;
  std::vector<Change> out;
  absl::flat_hash_map<std::string_view, size_t> at;  // job id -> out index
  // Sequence numbers are consecutive: position by arithmetic.
  for (size_t i = seq + 1 - changes_.front().seq; i < changes_.size(); ++i) {
    const LoggedChange& c = changes_[i];
    auto [it, fresh] = at.try_emplace(c.job_id(), out.size());
    if (fresh) {
      if (out.size() == max) break;
      out.push_back({c.job_id(), c.before, c.after});
    } else {
      out[it->second].after = c.after;
    }
    *upto = c.seq;
  }
  return out;
}

uint64_t JobIndex::AddListener(Listener listener) {
  absl::MutexLock lock(&listeners_mu_);
  const uint64_t id = next_listener_++;
  listeners_[id] = std::make_shared<Listener>(std::move(listener));
  return id;
}

void JobIndex::RemoveListener(uint64_t id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

}  // namespace trainyard::jobs
