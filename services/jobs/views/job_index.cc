// Copyright 2026 Trainyard authors.
#include "services/jobs/views/job_index.h"

#include <algorithm>
#include <climits>
#include <iterator>
#include <utility>

#include "absl/numeric/bits.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/search/filter_parser.h"
#include "common/status/status_macros.h"
#include "services/jobs/domain/lifecycle.h"

namespace trainyard::jobs {
namespace {

using Field = JobRestriction::Field;

constexpr int kFields = static_cast<int>(SortField::kUpdateTime) + 1;

bool Indexed(SortField field) { return field != SortField::kDuration; }

bool SameKey(const KeyView& a, const KeyView& b) {
  return a.missing == b.missing && a.number == b.number && a.text == b.text &&
         a.create_us == b.create_us && a.job_id == b.job_id;
}

// Filter terms: a kind letter and a value. A row has one term of each kind
// but tags ('t'), one per distinct tag.
std::string Term(char kind, int64_t value) {
  return absl::StrCat(absl::string_view(&kind, 1), value);
}
std::string Term(char kind, absl::string_view value) {
  return absl::StrCat(absl::string_view(&kind, 1), value);
}

std::vector<std::string> TermsOf(const JobRow& row) {
  std::vector<std::string> terms = {
      Term('s', row.state), Term('c', row.creator_id), Term('p', row.preset),
      Term('g', row.gpu_type), Term('r', row.pricing)};
  for (const std::string& tag : row.tags_folded)
    terms.push_back(Term('t', tag));
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

// Keyword words: maximal runs of ASCII letters and digits and of bytes of
// non-ASCII characters (an ASCII separator never falls inside a UTF-8
// sequence). A keyword without separators can only occur inside one word.
bool WordByte(char c) {
  return static_cast<unsigned char>(c) >= 0x80 || absl::ascii_isalnum(c);
}

std::vector<absl::string_view> WordsOf(absl::string_view text) {
  std::vector<absl::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !WordByte(text[i])) ++i;
    const size_t begin = i;
    while (i < text.size() && WordByte(text[i])) ++i;
    if (i > begin) words.push_back(text.substr(begin, i - begin));
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

// The terms that match exactly the rows one restriction accepts; nullopt
// when it has none (ranges, negations, base_model, stalled).
std::optional<std::vector<std::string>> TermsFor(const JobRestriction& r) {
  const bool eq = static_cast<FilterOp>(r.op) == FilterOp::kEq;
  switch (r.field) {
    case Field::kState:
      if (eq) return std::vector<std::string>{Term('s', r.number)};
      return std::nullopt;
    case Field::kActive:
    case Field::kTerminal: {
      std::vector<std::string> terms;
      for (int v = common::v1::JobState_MIN; v <= common::v1::JobState_MAX;
           ++v) {
        if (!common::v1::JobState_IsValid(v)) continue;
        const auto state = static_cast<common::v1::JobState>(v);
        const bool holds =
            r.field == Field::kActive ? IsActive(state) : IsTerminal(state);
        if (holds == (r.number == 1)) terms.push_back(Term('s', v));
      }
      return terms;
    }
    case Field::kCreatedBy:
      if (eq) return std::vector<std::string>{Term('c', r.text)};
      return std::nullopt;
    case Field::kPreset:
      if (eq) return std::vector<std::string>{Term('p', r.number)};
      return std::nullopt;
    case Field::kGpuType:
      if (eq) return std::vector<std::string>{Term('g', r.number)};
      return std::nullopt;
    case Field::kPricing:
      if (eq) return std::vector<std::string>{Term('r', r.number)};
      return std::nullopt;
    case Field::kTags:
      return std::vector<std::string>{Term('t', r.text)};
    default:
      return std::nullopt;
  }
}

// The terms of an OR group whose postings are disjoint and together hold
// exactly the rows the group accepts: one kind (a row has one term of each
// kind but tags: then one tag). nullopt otherwise.
std::optional<std::vector<std::string>> DisjointTerms(
    const std::vector<JobRestriction>& any_of) {
  std::vector<std::string> terms;
  for (const JobRestriction& r : any_of) {
    std::optional<std::vector<std::string>> t = TermsFor(r);
    if (!t) return std::nullopt;
    terms.insert(terms.end(), t->begin(), t->end());
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  for (const std::string& t : terms) {
    if (t[0] != terms.front()[0]) return std::nullopt;
  }
  if (!terms.empty() && terms.front()[0] == 't' && terms.size() > 1) {
    return std::nullopt;
  }
  return terms;
}

// A set of slots as a bitmap.
using Bitmap = std::vector<uint64_t>;
bool Has(const Bitmap& b, uint32_t slot) {
  return (b[slot / 64] >> (slot % 64)) & 1;
}

// Adds `slot` to `posting`, or takes it out (dropping an emptied posting).
template <typename Key>
void AddSlot(absl::flat_hash_map<std::string, absl::btree_set<uint32_t>>& map,
             const Key& key, uint32_t slot) {
  auto it = map.find(key);
  if (it == map.end()) it = map.try_emplace(std::string(key)).first;
  it->second.insert(slot);
}
template <typename Key>
void RemoveSlot(
    absl::flat_hash_map<std::string, absl::btree_set<uint32_t>>& map,
    const Key& key, uint32_t slot) {
  auto it = map.find(key);
  if (it == map.end()) return;
  it->second.erase(slot);
  if (it->second.empty()) map.erase(it);
}

// Moves `slot` from the postings of `before` to those of `after` (both
// sorted and unique).
template <typename Key>
void MovePostings(
    absl::flat_hash_map<std::string, absl::btree_set<uint32_t>>& map,
    const std::vector<Key>& before, const std::vector<Key>& after,
    uint32_t slot) {
  std::vector<Key> gone, come;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(gone));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(come));
  for (const Key& k : gone) RemoveSlot(map, k, slot);
  for (const Key& k : come) AddSlot(map, k, slot);
}

}  // namespace

struct JobIndex::Candidates {
  // Where ForEachCandidate reads: the smallest of the sources below (every
  // match is in each of them), or every row.
  enum class Source { kAll, kPostings, kRange, kKeyword };
  Source source = Source::kAll;
  // How many rows it holds, and whether exactly the matches.
  size_t count = 0;
  bool exact = false;

  // Postings of the smallest OR group that has them (disjoint).
  std::vector<const Posting*> postings;
  // The rows of one ordering (cost or create time) between the bounds the
  // filter's restrictions on that column set, [lo, hi].
  struct Range {
    SortField field;
    int64_t lo, hi;
    Ordering::const_iterator begin, end;
  };
  std::optional<Range> range;
  // The keyword's candidates, when it has words.
  std::optional<Bitmap> keyword;
  // What is left to test on a candidate: the query, without its keyword when
  // `keyword` holds exactly the jobs that contain it (a keyword of one word
  // piece).
  JobQuery rest;

  // Makes `source` the source when it holds fewer rows (or as many, exactly).
  void Offer(Source from, size_t n, bool is_exact) {
    if (n < count || (n == count && is_exact && !exact)) {
      source = from;
      count = n;
      exact = is_exact;
    }
  }
};

JobIndex::JobIndex(uint64_t epoch) : epoch_(epoch) {
  absl::MutexLock lock(&mu_);
  orderings_.reserve(kFields);
  for (int f = 0; f < kFields; ++f) {
    orderings_.emplace_back(
        SlotLess(&rows_, &build_keys_, static_cast<SortField>(f)));
  }
}

KeyView JobIndex::SlotLess::Key(Slot s) const {
  if (*build_keys_ != nullptr) return (**build_keys_)[s];
  return KeyOf(*(*rows_)[s], field_, 0);
}

absl::StatusOr<std::unique_ptr<JobIndex>> JobIndex::Build(const JobStore& store,
                                                          uint64_t epoch) {
  std::unique_ptr<JobIndex> index(new JobIndex(epoch));
  absl::MutexLock lock(&index->mu_);
  // Rows and postings first (slots ascend: each posting grows at its end),
  // then each ordering sorted once and filled in order.
  RETURN_IF_ERROR(store.ForEachJob([&](const internal::JobRecord& r) {
    index->mu_.AssertHeld();  // runs here, under `lock`
    if (r.deleted() || index->slot_of_.contains(r.job().job_id())) return;
    const Slot slot = static_cast<Slot>(index->rows_.size());
    auto row = std::make_shared<const JobRow>(MakeJobRow(r));
    index->slot_of_.emplace(row->job_id, slot);
    for (const std::string& t : TermsOf(*row)) {
      Posting& p = index->terms_[t];
      p.insert(p.end(), slot);
    }
    for (absl::string_view w : WordsOf(row->text_folded)) {
      auto it = index->words_.find(w);
      if (it == index->words_.end()) {
        it = index->words_.try_emplace(std::string(w)).first;
      }
      it->second.insert(it->second.end(), slot);
    }
    index->rows_.push_back(std::move(row));
    ++index->live_;
  }));
  // Sorted once, then filled in order (each insertion compares with the
  // last key: from `by_slot`, not from the rows all over the heap).
  std::vector<std::pair<KeyView, Slot>> keys(index->rows_.size());
  std::vector<KeyView> by_slot(index->rows_.size());
  for (int f = 0; f < kFields; ++f) {
    const auto field = static_cast<SortField>(f);
    if (!Indexed(field)) continue;
    for (Slot s = 0; s < keys.size(); ++s) {
      by_slot[s] = KeyOf(*index->rows_[s], field, 0);
      keys[s] = {by_slot[s], s};
    }
    std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
      return SortLess(a.first, b.first, /*desc=*/false);
    });
    index->build_keys_ = &by_slot;
    Ordering& o = index->orderings_[f];
    for (const auto& [key, slot] : keys) o.insert(o.end(), slot);
    index->build_keys_ = nullptr;
  }
  return index;
}

void JobIndex::ReindexLocked(Slot slot, std::shared_ptr<const JobRow> after) {
  const std::shared_ptr<const JobRow> before = rows_[slot];
  // Out of the orderings whose key changes while rows_[slot] is still
  // `before` (the orderings find it by its key), back in once it is `after`.
  std::vector<int> moved;
  for (int f = 0; f < kFields; ++f) {
    const auto field = static_cast<SortField>(f);
    if (!Indexed(field)) continue;
    if (before != nullptr && after != nullptr &&
        SameKey(KeyOf(*before, field, 0), KeyOf(*after, field, 0))) {
      continue;
    }
    if (before != nullptr) orderings_[f].erase(slot);
    moved.push_back(f);
  }
  rows_[slot] = after;
  if (after != nullptr) {
    for (int f : moved) orderings_[f].insert(slot);
  }
  const std::vector<std::string> no_terms;
  MovePostings(terms_, before ? TermsOf(*before) : no_terms,
               after ? TermsOf(*after) : no_terms, slot);
  if (before == nullptr || after == nullptr ||
      before->text_folded != after->text_folded) {
    const std::vector<absl::string_view> no_words;
    MovePostings(words_, before ? WordsOf(before->text_folded) : no_words,
                 after ? WordsOf(after->text_folded) : no_words, slot);
  }
}

std::shared_ptr<const JobRow> JobIndex::PutLocked(
    const internal::JobRecord& record) {
  const std::string& id = record.job().job_id();
  auto it = slot_of_.find(id);
  if (record.deleted()) {
    if (it == slot_of_.end()) return nullptr;
    const Slot slot = it->second;
    slot_of_.erase(it);
    std::shared_ptr<const JobRow> old = rows_[slot];
    ReindexLocked(slot, nullptr);
    --live_;
    return old;
  }
  auto row = std::make_shared<const JobRow>(MakeJobRow(record));
  if (it != slot_of_.end()) {
    std::shared_ptr<const JobRow> old = rows_[it->second];
    ReindexLocked(it->second, std::move(row));
    return old;
  }
  const Slot slot = static_cast<Slot>(rows_.size());
  rows_.push_back(nullptr);
  slot_of_.emplace(id, slot);
  ++live_;
  ReindexLocked(slot, std::move(row));
  return nullptr;
}

void JobIndex::Upsert(const internal::JobRecord& record) {
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<const JobRow> before = PutLocked(record);
    std::shared_ptr<const JobRow> after;
    auto it = slot_of_.find(record.job().job_id());
    if (it != slot_of_.end()) after = rows_[it->second];
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

const JobIndex::Ordering* JobIndex::OrderingOf(SortField field) const {
  if (!Indexed(field)) return nullptr;
  return &orderings_[static_cast<int>(field)];
}

JobIndex::Candidates JobIndex::FindCandidates(const JobQuery& query) const {
  Candidates c;
  c.rest = query;
  c.count = live_;
  c.exact = query.all_of.empty() && query.keyword_folded.empty();
  const bool no_keyword = query.keyword_folded.empty();
  // The smallest OR group with postings.
  std::optional<size_t> posting_count;
  for (size_t g = 0; g < query.all_of.size(); ++g) {
    std::optional<std::vector<std::string>> terms =
        DisjointTerms(query.all_of[g]);
    if (!terms) continue;
    std::vector<const Posting*> postings;
    size_t count = 0;
    for (const std::string& t : *terms) {
      auto it = terms_.find(t);
      if (it == terms_.end()) continue;
      postings.push_back(&it->second);
      count += it->second.size();
    }
    if (!posting_count || count < *posting_count) {
      c.postings = std::move(postings);
      posting_count = count;
    }
  }
  if (posting_count) {
    c.Offer(Candidates::Source::kPostings, *posting_count,
            no_keyword && query.all_of.size() == 1);
  }
  // The narrowest range of cost or create time.
  size_t range_count = 0;
  for (const auto& [field, restricted] :
       {std::pair(SortField::kCost, Field::kCost),
        std::pair(SortField::kCreateTime, Field::kCreateTime)}) {
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    size_t bounded = 0;
    for (const std::vector<JobRestriction>& any_of : query.all_of) {
      if (any_of.size() != 1 || any_of[0].field != restricted) continue;
      const int64_t x = any_of[0].number;
      switch (static_cast<FilterOp>(any_of[0].op)) {
        case FilterOp::kEq:
          lo = std::max(lo, x);
          hi = std::min(hi, x);
          break;
        case FilterOp::kLt:
          hi = std::min(hi, x - 1);
          break;
        case FilterOp::kLe:
          hi = std::min(hi, x);
          break;
        case FilterOp::kGt:
          lo = std::max(lo, x + 1);
          break;
        case FilterOp::kGe:
          lo = std::max(lo, x);
          break;
        default:
          continue;
      }
      ++bounded;
    }
    if (bounded == 0) continue;
    const Ordering& o = orderings_[static_cast<int>(field)];
    auto at = [&o](int64_t number) {
      KeyView probe;
      probe.number = number;
      probe.create_us = INT64_MAX;  // before every row of that value
      return o.lower_bound(probe);
    };
    KeyView first_missing;
    first_missing.missing = true;
    first_missing.create_us = INT64_MAX;
    Candidates::Range r{
        field, lo, hi, at(lo),
        hi == INT64_MAX ? o.lower_bound(first_missing) : at(hi + 1)};
    if (lo > hi) r.end = r.begin;
    // Counted only as far as it could still be the smallest source.
    size_t n = 0;
    for (auto it = r.begin; it != r.end && n <= c.count; ++it) ++n;
    // An unset create time (0) fails every time restriction.
    const bool exact = no_keyword && bounded == query.all_of.size() &&
                       (field != SortField::kCreateTime || lo > 0 || hi < 0);
    if (!c.range || n < range_count) {
      c.range = r;
      range_count = n;
      if (n <= c.count) c.Offer(Candidates::Source::kRange, n, exact);
    }
  }
  // The keyword: each piece between separators is inside a word of a match.
  const std::vector<absl::string_view> pieces = WordsOf(query.keyword_folded);
  if (pieces.empty()) return c;
  // A keyword of one piece is in a job's text exactly when it is in one of
  // its words.
  const bool whole = pieces.size() == 1 && pieces[0] == query.keyword_folded;
  if (whole) c.rest.keyword_folded.clear();
  const size_t words = (rows_.size() + 63) / 64;
  for (size_t i = 0; i < pieces.size(); ++i) {
    Bitmap piece(words, 0);
    for (const auto& [word, posting] : words_) {
      if (!absl::StrContains(word, pieces[i])) continue;
      for (Slot s : posting) piece[s / 64] |= uint64_t{1} << (s % 64);
    }
    if (i == 0) {
      c.keyword = std::move(piece);
    } else {
      for (size_t w = 0; w < words; ++w) (*c.keyword)[w] &= piece[w];
    }
  }
  size_t n = 0;
  for (uint64_t w : *c.keyword) n += absl::popcount(w);
  c.Offer(Candidates::Source::kKeyword, n, whole && query.all_of.empty());
  return c;
}

void JobIndex::Walk(const Ordering& ordering, bool desc,
                    const std::optional<KeyView>& after,
                    absl::FunctionRef<bool(Slot)> fn) const {
  using It = Ordering::const_iterator;
  auto forward = [&fn](It from, It to) {
    for (It it = from; it != to; ++it) {
      if (!fn(*it)) return false;
    }
    return true;
  };
  if (!desc) {
    forward(after ? ordering.upper_bound(*after) : ordering.begin(),
            ordering.end());
    return;
  }
  // Descending: missing values stay last, and rows of equal value keep the
  // ascending order's tiebreak (create time descending, then id), so the
  // groups of equal value are taken from the last to the first, each read
  // forward.
  KeyView first_missing;
  first_missing.missing = true;
  first_missing.create_us = INT64_MAX;
  const It missing = ordering.lower_bound(first_missing);
  auto group_start = [&ordering](const KeyView& k) {
    KeyView probe;
    probe.number = k.number;
    probe.text = k.text;
    probe.create_us = INT64_MAX;
    return ordering.lower_bound(probe);
  };
  It end = missing;
  if (after) {
    if (after->missing) {
      forward(ordering.upper_bound(*after), ordering.end());
      return;
    }
    // The rest of the position's group.
    for (It it = ordering.upper_bound(*after); it != missing; ++it) {
      const KeyView k = ordering.key_comp().Key(*it);
      if (k.number != after->number || k.text != after->text) break;
      if (!fn(*it)) return;
    }
    end = group_start(*after);
  }
  while (end != ordering.begin()) {
    const It start = group_start(ordering.key_comp().Key(*std::prev(end)));
    if (!forward(start, end)) return;
    end = start;
  }
  forward(missing, ordering.end());
}

bool JobIndex::Accepts(const Candidates& c, Slot slot) const {
  if (c.keyword && !Has(*c.keyword, slot)) return false;
  return Matches(c.rest, *rows_[slot]);
}

void JobIndex::ForEachCandidate(const Candidates& c,
                                absl::FunctionRef<void(Slot)> fn) const {
  switch (c.source) {
    case Candidates::Source::kKeyword: {
      const Bitmap& b = *c.keyword;
      for (size_t w = 0; w < b.size(); ++w) {
        for (uint64_t bits = b[w]; bits != 0; bits &= bits - 1) {
          fn(static_cast<Slot>(w * 64 + absl::countr_zero(bits)));
        }
      }
      return;
    }
    case Candidates::Source::kPostings:
      for (const Posting* p : c.postings) {
        for (Slot s : *p) fn(s);
      }
      return;
    case Candidates::Source::kRange:
      for (auto it = c.range->begin; it != c.range->end; ++it) fn(*it);
      return;
    case Candidates::Source::kAll:
      for (Slot s = 0; s < rows_.size(); ++s) {
        if (rows_[s] != nullptr) fn(s);
      }
      return;
  }
}

JobIndex::Page JobIndex::Query(const JobQuery& query,
                               const std::optional<SortKey>& after,
                               int page_size, int64_t now_us) const {
  Page page;
  const SortField field = query.order.field;
  const bool desc = query.order.desc;
  const size_t size = static_cast<size_t>(std::max(page_size, 0));
  std::optional<KeyView> cursor;
  if (after) cursor = after->view();
  absl::ReaderMutexLock lock(&mu_);
  const Candidates c = FindCandidates(query);
  const size_t candidates = c.count;
  const Ordering* ordering = OrderingOf(field);
  // Walking the order reads about (size + 1) * rows / matches rows; scanning
  // the candidates reads each once and sorts the matches.
  if (ordering != nullptr && candidates * candidates > (size + 1) * live_) {
    if (c.exact) {
      page.total_size = static_cast<int32_t>(candidates);
    } else {
      ForEachCandidate(c, [&](Slot s) {
        mu_.AssertReaderHeld();  // runs here, under `lock`
        if (Accepts(c, s)) ++page.total_size;
      });
    }
    // A range of the order's own column: the walk starts at its edge (or
    // at the cursor when further) and stops past its other edge.
    std::optional<KeyView> from = cursor;
    const Candidates::Range* range =
        c.range && c.range->field == field ? &*c.range : nullptr;
    if (range != nullptr &&
        (desc ? range->hi : range->lo) != (desc ? INT64_MAX : INT64_MIN)) {
      KeyView edge;  // after every row of the value beyond the edge
      edge.number = desc ? range->hi + 1 : range->lo - 1;
      edge.create_us = INT64_MIN;
      if (!from || SortLess(*from, edge, desc)) from = edge;
    }
    std::vector<Slot> found;
    Walk(*ordering, desc, from, [&](Slot s) {
      mu_.AssertReaderHeld();  // runs here, under `lock`
      if (range != nullptr) {
        const int64_t v = KeyOf(*rows_[s], field, now_us).number;
        if (desc ? v < range->lo : v > range->hi) return false;
      }
      if (Accepts(c, s)) found.push_back(s);
      return found.size() <= size;
    });
    for (size_t i = 0; i < found.size() && i < size; ++i) {
      page.job_ids.push_back(rows_[found[i]]->job_id);
    }
    if (found.size() > size && size > 0) {
      page.next = SortKey::Of(KeyOf(*rows_[found[size - 1]], field, now_us));
    }
    return page;
  }
  std::vector<KeyView> keys;
  ForEachCandidate(c, [&](Slot s) {
    mu_.AssertReaderHeld();  // runs here, under `lock`
    if (!Accepts(c, s)) return;
    ++page.total_size;
    KeyView k = KeyOf(*rows_[s], field, now_us);
    if (cursor && !SortLess(*cursor, k, desc)) return;
    keys.push_back(k);
  });
  auto less = [desc](const KeyView& a, const KeyView& b) {
    return SortLess(a, b, desc);
  };
  const size_t n = std::min(keys.size(), size);
  std::partial_sort(keys.begin(), keys.begin() + n, keys.end(), less);
  for (size_t i = 0; i < n; ++i) page.job_ids.emplace_back(keys[i].job_id);
  if (keys.size() > n && n > 0) page.next = SortKey::Of(keys[n - 1]);
  return page;
}

std::vector<std::string> JobIndex::MatchingIds(const JobQuery& query,
                                               int64_t now_us) const {
  const bool desc = query.order.desc;
  std::vector<std::string> ids;
  absl::ReaderMutexLock lock(&mu_);
  const Candidates c = FindCandidates(query);
  const Ordering* ordering = OrderingOf(query.order.field);
  if (ordering != nullptr && c.count * 16 > live_) {
    // Most rows are candidates: the order's walk needs no sort.
    Walk(*ordering, desc, std::nullopt, [&](Slot s) {
      mu_.AssertReaderHeld();  // runs here, under `lock`
      if (Accepts(c, s)) {
        ids.push_back(rows_[s]->job_id);
      }
      return true;
    });
    return ids;
  }
  std::vector<KeyView> keys;
  ForEachCandidate(c, [&](Slot s) {
    mu_.AssertReaderHeld();  // runs here, under `lock`
    if (Accepts(c, s)) {
      keys.push_back(KeyOf(*rows_[s], query.order.field, now_us));
    }
  });
  std::sort(keys.begin(), keys.end(),
            [desc](const KeyView& a, const KeyView& b) {
              return SortLess(a, b, desc);
            });
  ids.reserve(keys.size());
  for (const KeyView& k : keys) ids.emplace_back(k.job_id);
  return ids;
}

std::vector<JobIndex::Creator> JobIndex::Creators() const {
  absl::flat_hash_map<std::string, Creator> by_id;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const std::shared_ptr<const JobRow>& row : rows_) {
      if (row == nullptr) continue;
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
  auto it = slot_of_.find(job_id);
  if (it == slot_of_.end()) return std::nullopt;
  return *rows_[it->second];
}

size_t JobIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return live_;
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
