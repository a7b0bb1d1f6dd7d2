// Copyright 2026 Trainyard authors.
#include "services/metrics/events/job_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/storage/keys.h"

namespace trainyard::metrics {
namespace {

constexpr char kRecordVersion = 1;
constexpr size_t kRecordHeader = 1 + 3 + 4 + 8 + 8;

}  // namespace

std::string EncodeIndexRecord(const metrics::v1::Event& event) {
  const EventFacts facts = FactsOf(event);
  std::string out;
  out.reserve(kRecordHeader + event.message().size());
  out.push_back(kRecordVersion);
  out.push_back(static_cast<char>(facts.type));
  out.push_back(static_cast<char>(facts.source));
  out.push_back(static_cast<char>(facts.stage));
  const auto attempt = static_cast<uint32_t>(facts.attempt);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((attempt >> shift) & 0xFF));
  }
  storage::AppendUint64(&out, static_cast<uint64_t>(facts.occurred_ns));
  storage::AppendUint64(&out, static_cast<uint64_t>(facts.receive_ns));
  out.append(event.message());
  return out;
}

absl::Status DecodeIndexRecord(uint64_t job_seq, std::string_view record,
                               EventFacts* facts, std::string_view* message) {
  if (record.size() < kRecordHeader || record[0] != kRecordVersion) {
    return absl::DataLossError(
        absl::StrCat("malformed event index record of job_seq ", job_seq));
  }
  auto byte = [&](size_t i) { return static_cast<unsigned char>(record[i]); };
  facts->job_seq = job_seq;
  facts->type = byte(1);
  facts->source = byte(2);
  facts->stage = byte(3);
  facts->attempt =
      static_cast<int32_t>(uint32_t{byte(4)} << 24 | uint32_t{byte(5)} << 16 |
                           uint32_t{byte(6)} << 8 | byte(7));
  std::string_view rest = record.substr(8);
  uint64_t occurred = 0, receive = 0;
  storage::ConsumeUint64(&rest, &occurred);
  storage::ConsumeUint64(&rest, &receive);
  facts->occurred_ns = static_cast<int64_t>(occurred);
  facts->receive_ns = static_cast<int64_t>(receive);
  *message = rest;
  return absl::OkStatus();
}

void JobIndex::Append(const EventFacts& facts,
                      std::string_view folded_message) {
  entries_.push_back(Entry{facts, arena_.size()});
  types_.push_back(facts.type);
  arena_.append(folded_message);
}

void JobIndex::Compact() {
  entries_.shrink_to_fit();
  types_.shrink_to_fit();
  arena_.shrink_to_fit();
}

size_t JobIndex::CountUpTo(uint64_t job_seq) const {
  // Events are gapless from 1 in practice: try the direct position first.
  if (job_seq == 0 || entries_.empty()) return 0;
  if (job_seq >= last_job_seq()) return entries_.size();
  if (job_seq <= entries_.size() &&
      entries_[job_seq - 1].facts.job_seq == job_seq &&
      (job_seq == entries_.size() ||
       entries_[job_seq].facts.job_seq > job_seq)) {
    return job_seq;
  }
  return static_cast<size_t>(
      std::upper_bound(
          entries_.begin(), entries_.end(), job_seq,
          [](uint64_t seq, const Entry& e) { return seq < e.facts.job_seq; }) -
      entries_.begin());
}

}  // namespace trainyard::metrics
