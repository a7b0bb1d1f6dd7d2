// Copyright 2026 Trainyard authors.
#include "services/jobs/storage/job_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "services/jobs/domain/job_spec.h"

namespace trainyard::jobs {
namespace {

constexpr char kJobs[] = "jobs";
constexpr char kOutbox[] = "outbox";
constexpr char kAudit[] = "audit";
constexpr char kCursors[] = "cursors";
constexpr char kRequests[] = "requests";

std::string SeqKey(std::string_view job_id, uint64_t seq) {
  return storage::KeyBuilder().AddString(job_id).AddUint64(seq).Build();
}

// Effects of one job run in order within their lane (one callee), and lanes
// run independently, so a callee that is down blocks only its own calls.
uint64_t Lane(const internal::Effect& e) {
  switch (e.kind_case()) {
    case internal::Effect::kCreatePod:
    case internal::Effect::kStopPod:
    case internal::Effect::kDeletePod:
    case internal::Effect::kPollPod:
      return 1;
    case internal::Effect::kEnqueue:
    case internal::Effect::kRemoveFromQueue:
    case internal::Effect::kReleaseSlot:
      return 2;
    case internal::Effect::kEvent:
    case internal::Effect::kMetricsDelete:
      return 4;
    case internal::Effect::kNotify:
      return 5;
    default:
      return 3;  // cost
  }
}

std::string OutboxKey(const internal::Effect& e, uint64_t seq) {
  return storage::KeyBuilder()
      .AddString(e.job_id())
      .AddUint64(Lane(e))
      .AddUint64(seq)
      .Build();
}

std::string JobPrefix(std::string_view job_id) {
  return storage::KeyBuilder().AddString(job_id).Build();
}

// The sequence number at the end of a `job | seq` key.
uint64_t KeySeq(std::string_view key) {
  uint64_t seq = 0;
  if (key.size() >= 8) {
    std::string_view tail = key.substr(key.size() - 8);
    storage::ConsumeUint64(&tail, &seq);
  }
  return seq;
}

std::string RequestKey(std::string_view request_id) {
  return absl::StrCat("create/", ToAbsl(request_id));
}

}  // namespace

std::vector<std::string> JobStore::ColumnFamilies() {
  return {kJobs, kOutbox, kAudit, kCursors, kRequests};
}

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(storage::Db& db) {
  uint64_t max_seq = 0;
  for (const char* cf : {kOutbox, kAudit}) {
    RETURN_IF_ERROR(db.Scan(cf, storage::KeyRange::All(),
                            storage::Direction::kForward,
                            [&](std::string_view key, std::string_view) {
                              max_seq = std::max(max_seq, KeySeq(key));
                              return true;
                            }));
  }
  return std::unique_ptr<JobStore>(new JobStore(db, max_seq + 1));
}

void JobStore::Stage(const Commit& c, storage::WriteBatch& batch) {
  if (c.record) batch.Put(kJobs, c.record->job().job_id(), *c.record);
  std::vector<v1::AuditEntry> audit = c.audit;
  std::vector<std::string> audit_keys;
  for (v1::AuditEntry& a : audit) {
    const uint64_t seq = next_seq_.fetch_add(1);
    a.set_entry_id(absl::StrCat(seq));
    audit_keys.push_back(SeqKey(a.job_id(), seq));
  }
  for (const internal::Effect& e : c.effects) {
    const std::string key = OutboxKey(e, next_seq_.fetch_add(1));
    if (!e.has_notify() || audit.empty()) {
      batch.Put(kOutbox, key, e);
      continue;
    }
    // Linked both ways with the commit's last audit entry.
    internal::Effect linked = e;
    linked.mutable_notify()->set_audit_key(audit_keys.back());
    v1::NotificationDelivery* d = audit.back().add_notifications();
    d->set_trigger(e.notify().trigger());
    d->set_status(v1::DELIVERY_STATUS_PENDING);
    *d->mutable_target() =
        NotificationTargetOf(c.record ? c.record->job() : v1::Job());
    batch.Put(kOutbox, key, linked);
  }
  for (size_t i = 0; i < audit.size(); ++i) {
    batch.Put(kAudit, audit_keys[i], audit[i]);
  }
  for (const auto& [key, entry] : c.audit_updates) {
    batch.Put(kAudit, key, entry);
  }
  for (const std::string& key : c.done) batch.Delete(kOutbox, key);
  if (c.cursor) batch.PutRaw(kCursors, c.cursor->first, c.cursor->second);
  if (!c.create_request_id.empty() && c.record) {
    batch.PutRaw(kRequests, RequestKey(c.create_request_id),
                 c.record->job().job_id());
  }
}

void JobStore::Publish(const Commit& commit) const {
  if (!commit.record) return;
  for (const Observer& observer : observers_) observer(*commit.record);
}

absl::Status JobStore::Write(const Commit& commit) {
  storage::WriteBatch batch;
  Stage(commit, batch);
  RETURN_IF_ERROR(db_.Write(batch));
  Publish(commit);
  return absl::OkStatus();
}

absl::StatusOr<v1::AuditEntry> JobStore::GetAudit(
    const std::string& key) const {
  v1::AuditEntry entry;
  RETURN_IF_ERROR(db_.Get(kAudit, key, &entry));
  return entry;
}

absl::StatusOr<internal::JobRecord> JobStore::Get(
    std::string_view job_id) const {
  internal::JobRecord r;
  RETURN_IF_ERROR(db_.Get(kJobs, job_id, &r));
  return r;
}

absl::StatusOr<std::vector<internal::JobRecord>> JobStore::ListJobs() const {
  std::vector<internal::JobRecord> out;
  absl::Status parse;
  RETURN_IF_ERROR(
      db_.Scan(kJobs, storage::KeyRange::All(), storage::Direction::kForward,
               [&](std::string_view, std::string_view value) {
                 internal::JobRecord r;
                 if (!r.ParseFromArray(value.data(), value.size())) {
                   parse = absl::DataLossError("bad job record");
                   return false;
                 }
                 out.push_back(std::move(r));
                 return true;
               }));
  RETURN_IF_ERROR(parse);
  return out;
}

absl::Status JobStore::ForEachJob(
    const std::function<void(const internal::JobRecord&)>& fn) const {
  absl::Status parse;
  internal::JobRecord r;
  RETURN_IF_ERROR(
      db_.Scan(kJobs, storage::KeyRange::All(), storage::Direction::kForward,
               [&](std::string_view, std::string_view value) {
                 if (!r.ParseFromArray(value.data(), value.size())) {
                   parse = absl::DataLossError("bad job record");
                   return false;
                 }
                 fn(r);
                 return true;
               }));
  return parse;
}

absl::StatusOr<std::optional<std::string>> JobStore::FindCreateRequest(
    std::string_view request_id) const {
  absl::StatusOr<std::string> id =
      db_.GetRaw(kRequests, RequestKey(request_id));
  if (absl::IsNotFound(id.status())) return std::nullopt;
  RETURN_IF_ERROR(id.status());
  return *id;
}

absl::StatusOr<std::vector<OutboxEntry>> JobStore::OutboxHeads() const {
  std::vector<OutboxEntry> out;
  std::string last_prefix;
  absl::Status parse;
  RETURN_IF_ERROR(
      db_.Scan(kOutbox, storage::KeyRange::All(), storage::Direction::kForward,
               [&](std::string_view key, std::string_view value) {
                 std::string_view prefix = key.substr(0, key.size() - 8);
                 if (!out.empty() && prefix == last_prefix) return true;
                 OutboxEntry e;
                 e.key = std::string(key);
                 if (!e.effect.ParseFromArray(value.data(), value.size())) {
                   parse = absl::DataLossError("bad outbox entry");
                   return false;
                 }
                 last_prefix = std::string(prefix);
                 out.push_back(std::move(e));
                 return true;
               }));
  RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<int64_t> JobStore::OutboxSize() const {
  int64_t n = 0;
  RETURN_IF_ERROR(db_.Scan(kOutbox, storage::KeyRange::All(),
                           storage::Direction::kForward,
                           [&](std::string_view, std::string_view) {
                             ++n;
                             return true;
                           }));
  return n;
}

namespace {

absl::StatusOr<std::vector<v1::AuditEntry>> ScanAudit(
    const storage::Db& db, const storage::KeyRange& range) {
  std::vector<v1::AuditEntry> out;
  absl::Status parse;
  RETURN_IF_ERROR(db.Scan(kAudit, range, storage::Direction::kForward,
                          [&](std::string_view, std::string_view value) {
                            v1::AuditEntry a;
                            if (!a.ParseFromArray(value.data(), value.size())) {
                              parse = absl::DataLossError("bad audit entry");
                              return false;
                            }
                            out.push_back(std::move(a));
                            return true;
                          }));
  RETURN_IF_ERROR(parse);
  return out;
}

}  // namespace

absl::StatusOr<std::vector<v1::AuditEntry>> JobStore::ListAudit(
    std::string_view job_id) const {
  return ScanAudit(db_, storage::KeyRange::Prefix(JobPrefix(job_id)));
}

absl::StatusOr<std::vector<v1::AuditEntry>> JobStore::ListAllAudit() const {
  return ScanAudit(db_, storage::KeyRange::All());
}

absl::StatusOr<std::string> JobStore::Cursor(std::string_view stream) const {
  absl::StatusOr<std::string> c = db_.GetRaw(kCursors, stream);
  if (absl::IsNotFound(c.status())) return std::string();
  return c;
}

}  // namespace trainyard::jobs
