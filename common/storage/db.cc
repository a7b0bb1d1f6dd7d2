#include "common/storage/db.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/reasons.h"
#include "common/storage/keys.h"
#include "common/storage/rocksdb_status.h"
#include "common/strings/absl_view.h"
#include "rocksdb/convenience.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace trainyard::storage {
namespace {

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::Status ValidateOptions(const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("Open: Options.path is empty");
  }
  if (options.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Open ", options.path, ": Options.name is empty"));
  }
  std::set<std::string_view> seen;
  for (const std::string& cf : options.column_families) {
    if (cf.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Open ", options.path, ": empty column family name"));
    }
    if (!seen.insert(cf).second) {
      return absl::InvalidArgumentError(absl::StrCat("Open ", options.path,
                                                     ": column family \"", cf,
                                                     "\" declared twice"));
    }
  }
  if ((options.shared_memory.block_cache == nullptr) !=
      (options.shared_memory.write_buffer_manager == nullptr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Open ", options.path,
                     ": set both members of Options.shared_memory or neither"));
  }
  return absl::OkStatus();
}

// RocksDB's own recovery from a full disk (polling the free space in the
// background) makes DB::Resume return Busy until it is done; Db::Resume runs
// instead, on the next write or CheckWritable, and honours the free-space
// reserve. After a failed WAL append (ENOSPC or EIO) Resume cannot help: it
// refuses the fatal error of an EIO, and after an ENOSPC it "succeeds" while
// the WAL writer keeps its error, so every later write fails again. Such
// failures are flagged in `*wal_failed`, and Db::Reopen takes over.
class ManualRecovery : public rocksdb::EventListener {
 public:
  explicit ManualRecovery(std::shared_ptr<std::atomic<bool>> wal_failed)
      : wal_failed_(std::move(wal_failed)) {}

  // A failed flush or compaction (EIO) is fatal to RocksDB only because it
  // cannot know whether the disk comes back; nothing acknowledged is lost
  // (the WAL still holds it), so it is made resumable.
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                         rocksdb::Status* bg_error) override {
    // kWriteCallback: the WAL append (or its sync) of a write failed.
    if (reason == rocksdb::BackgroundErrorReason::kWriteCallback &&
        bg_error->IsIOError()) {
      wal_failed_->store(true, std::memory_order_release);
    }
    if (reason != rocksdb::BackgroundErrorReason::kWriteCallback &&
        reason != rocksdb::BackgroundErrorReason::kMemTable &&
        bg_error->IsIOError() &&
        bg_error->severity() == rocksdb::Status::Severity::kFatalError) {
      *bg_error =
          rocksdb::Status(*bg_error, rocksdb::Status::Severity::kHardError);
    }
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/,
                            rocksdb::Status /*bg_error*/,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }

 private:
  const std::shared_ptr<std::atomic<bool>> wal_failed_;
};

rocksdb::DBOptions MakeDbOptions(
    const Options& options, const SharedMemory& memory,
    const std::shared_ptr<rocksdb::Statistics>& statistics, rocksdb::Env* env,
    std::shared_ptr<std::atomic<bool>> wal_failed) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.env = env;
  db_options.statistics = statistics;
  db_options.write_buffer_manager = memory.write_buffer_manager;
  db_options.max_total_wal_size = options.max_total_wal_size;
  db_options.listeners.push_back(
      std::make_shared<ManualRecovery>(std::move(wal_failed)));
  // Acknowledged writes must be in the WAL (architecture.md); this is the
  // default, stated so that nobody turns it on for speed.
  db_options.manual_wal_flush = false;
  // Concurrent writers (HTTP workers, gRPC executors) form write groups whose
  // leader writes the WAL and then every member's memtable inserts itself:
  // one wake-up per follower. Pipelined writes and concurrent memtable
  // inserts each add a hand-off per follower, which on two cores cost more
  // than they overlap (tools/bench/README.md: ~10% more CPU per webhook).
  db_options.enable_pipelined_write = false;
  db_options.allow_concurrent_memtable_write = false;
  // Two cores per machine: one flush and one compaction at a time.
  db_options.max_background_jobs = 2;
  // RocksDB's own info LOG: bounded on disk.
  db_options.keep_log_file_num = 5;
  db_options.max_log_file_size = size_t{8} << 20;
  return db_options;
}

rocksdb::ColumnFamilyOptions MakeColumnFamilyOptions(
    const Options& options, const SharedMemory& memory) {
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = memory.block_cache;
  // Index and filter blocks count against the shared cache instead of
  // growing outside it with the data size.
  table_options.cache_index_and_filter_blocks = true;
  table_options.pin_l0_filter_and_index_blocks_in_cache = true;
  // Point lookups (records by id) skip SST files without the key.
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = options.write_buffer_size;
  cf_options.compression = ChooseCompression();
  cf_options.level_compaction_dynamic_level_bytes = true;
  cf_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));
  return cf_options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const Options& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  const std::string operation = absl::StrCat("Open ", options.path);

  SharedMemory memory = options.shared_memory;
  if (memory.block_cache == nullptr) {
    absl::StatusOr<SharedMemory> created =
        NewSharedMemory(options.block_cache_bytes, options.memtable_bytes);
    if (!created.ok()) return created.status();
    memory = *std::move(created);
  }

  rocksdb::Env* env =
      options.env != nullptr ? options.env : rocksdb::Env::Default();
  // RocksDB reports a regular file at `path` as a generic I/O error; this is
  // a configuration mistake and gets its own code.
  if (env->FileExists(options.path).ok()) {
    bool is_dir = false;
    rocksdb::Status s = env->IsDirectory(options.path, &is_dir);
    if (!s.ok()) return FromRocksDbStatus(s, operation);
    if (!is_dir) {
      return absl::FailedPreconditionError(
          absl::StrCat(operation, ": exists and is not a directory"));
    }
  }

  std::shared_ptr<rocksdb::Statistics> statistics =
      rocksdb::CreateDBStatistics();
  // Only tickers are exported (rocksdb_metrics.h): histograms and timers would
  // read the clock around every operation for nothing.
  statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  auto wal_failed = std::make_shared<std::atomic<bool>>(false);
  rocksdb::DBOptions db_options =
      MakeDbOptions(options, memory, statistics, env, wal_failed);
  rocksdb::ColumnFamilyOptions cf_options =
      MakeColumnFamilyOptions(options, memory);

  // Open must name every column family on disk (traps.md): list them.
  std::vector<std::string> on_disk;
  rocksdb::Status s =
      rocksdb::DB::ListColumnFamilies(db_options, options.path, &on_disk);
  if (s.IsPathNotFound()) {  // No CURRENT file: there is no database yet.
    if (!options.create_if_missing) {
      return absl::NotFoundError(absl::StrCat(
          operation, ": no database there and create_if_missing is false"));
    }
    on_disk.clear();
  } else if (!s.ok()) {
    return FromRocksDbStatus(s, operation);
  }

  std::set<std::string> names(on_disk.begin(), on_disk.end());
  names.insert(rocksdb::kDefaultColumnFamilyName);
  names.insert(options.column_families.begin(), options.column_families.end());

  std::unique_ptr<Db> db = absl::WrapUnique(new Db(
      options, std::move(memory), std::move(statistics), std::move(db_options),
      std::move(cf_options), std::move(names), std::move(wal_failed)));
  {
    absl::MutexLock lock(&db->mu_);
    if (absl::Status opened = db->OpenRocksDb(operation); !opened.ok()) {
      db->closed_ = true;
      return opened;
    }
  }
  return db;
}

absl::Status Db::OpenRocksDb(std::string_view operation) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(cf_names_.size());
  for (const std::string& name : cf_names_) {
    descriptors.emplace_back(name, cf_options_);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options_, path_, descriptors, &handles, &raw_db);
  if (!s.ok()) return FromRocksDbStatus(s, operation);
  db_.reset(raw_db);
  for (size_t i = 0; i < handles.size(); ++i) {
    column_families_.emplace(descriptors[i].name, handles[i]);
  }
  return absl::OkStatus();
}

rocksdb::Status Db::CloseRocksDb() {
  rocksdb::CancelAllBackgroundWork(db_.get(), /*wait=*/true);
  rocksdb::Status first_error;
  for (auto& [cf, handle] : column_families_) {
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(handle);
    if (first_error.ok() && !s.ok()) first_error = s;
  }
  column_families_.clear();
  rocksdb::Status s = db_->Close();
  if (first_error.ok() && !s.ok()) first_error = s;
  db_.reset();
  return first_error;
}

Db::Db(const Options& options, SharedMemory memory,
       std::shared_ptr<rocksdb::Statistics> statistics,
       rocksdb::DBOptions db_options, rocksdb::ColumnFamilyOptions cf_options,
       std::set<std::string> cf_names,
       std::shared_ptr<std::atomic<bool>> wal_failed)
    : name_(options.name),
      path_(options.path),
      sync_writes_(options.sync_writes),
      min_free_bytes_(options.min_free_bytes),
      env_(options.env != nullptr ? options.env : rocksdb::Env::Default()),
      memory_(std::move(memory)),
      statistics_(std::move(statistics)),
      db_options_(std::move(db_options)),
      cf_options_(std::move(cf_options)),
      cf_names_(std::move(cf_names)),
      reopen_needed_(std::move(wal_failed)) {}

Db::~Db() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
  }
  if (int live = live_iterators_.load(std::memory_order_acquire); live > 0) {
    // Closing would leave them pointing into freed memory; not closing would
    // leave them pointing into this object. Either is a bug in the caller.
    std::fprintf(stderr,
                 "trainyard::storage::Db %s destroyed with %d live "
                 "iterators\n",
                 name_.c_str(), live);
    std::abort();
  }
  // Callers who care about the close status call Close() themselves.
  Close().IgnoreError();
}

absl::Status Db::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("Close ", name_, ": already closed"));
  }
  if (int live = live_iterators_.load(std::memory_order_acquire); live > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Close ", name_, ": ", live,
                     " iterators still exist; destroy them "
                     "first"));
  }
  closed_ = true;
  // After a failed reopen there is nothing open to close.
  if (db_ == nullptr) return absl::OkStatus();
  return FromRocksDbStatus(CloseRocksDb(), absl::StrCat("Close ", name_));
}

absl::Status Db::CheckOpen(std::string_view operation) const {
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat(ToAbsl(operation), ": database ", name_, " is closed"));
  }
  if (db_ == nullptr) {
    return WithReason(
        absl::UnavailableError(absl::StrCat(
            ToAbsl(operation), ": database ", name_,
            " is being reopened after a storage fault; the last attempt: ",
            reopen_error_.message())),
        reasons::kStorageError);
  }
  return absl::OkStatus();
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> Db::FindCf(
    std::string_view operation, std::string_view cf) const {
  if (absl::Status s = CheckOpen(operation); !s.ok()) return s;
  auto it = column_families_.find(cf);
  if (it == column_families_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(operation), ": column family \"", ToAbsl(cf),
                     "\" is not open in database ", name_));
  }
  return it->second;
}

rocksdb::WriteOptions Db::MakeWriteOptions() const {
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_writes_;
  write_options.disableWAL = false;
  return write_options;
}

absl::Status Db::BeginWrite(std::string_view operation) {
  if (absl::Status s = CheckFreeSpace(operation); !s.ok()) return s;
  if (!writes_stopped_.load(std::memory_order_acquire) &&
      !reopen_needed_->load(std::memory_order_acquire)) {
    return absl::OkStatus();
  }
  if (reopen_needed_->load(std::memory_order_acquire)) {
    return Reopen(operation);
  }
  absl::ReaderMutexLock lock(&mu_);
  if (absl::Status s = CheckOpen(operation); !s.ok()) return s;
  return Resume(operation);
}

absl::Status Db::CheckFreeSpace(std::string_view operation) {
  if (min_free_bytes_ == 0) return absl::OkStatus();
  uint64_t free_bytes = 0;
  // A file system that cannot tell is not a reason to refuse writes.
  if (!env_->GetFreeSpace(path_, &free_bytes).ok()) return absl::OkStatus();
  if (free_bytes >= min_free_bytes_) return absl::OkStatus();
  storage_full_faults_.fetch_add(1, std::memory_order_relaxed);
  return WithReason(
      absl::ResourceExhaustedError(absl::StrCat(
          ToAbsl(operation), ": database ", name_, ": ", free_bytes,
          " bytes free on the disk of ", path_, ", below the reserve of ",
          min_free_bytes_, " bytes; free disk space")),
      reasons::kStorageFull);
}

void Db::CountFault(const absl::Status& status) {
  if (ErrorReason(status) == reasons::kStorageFull) {
    storage_full_faults_.fetch_add(1, std::memory_order_relaxed);
  } else {
    storage_error_faults_.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::Status Db::StoppedError(std::string_view detail) {
  absl::Status error;
  {
    absl::MutexLock lock(&stop_mu_);
    error = stop_error_;
  }
  if (error.ok()) {  // Resumed meanwhile; the write retried will tell.
    error = WithReason(
        absl::UnavailableError(absl::StrCat(
            "database ", name_, ": writes were stopped by a storage fault")),
        reasons::kStorageError);
  }
  if (!detail.empty()) {
    error = WithReason(
        absl::Status(error.code(),
                     absl::StrCat(error.message(), "; ", ToAbsl(detail))),
        ErrorReason(error));
  }
  CountFault(error);
  return error;
}

absl::Status Db::Resume(std::string_view operation) {
  rocksdb::Status s = db_->Resume();
  if (s.ok()) {
    absl::MutexLock lock(&stop_mu_);
    writes_stopped_.store(false, std::memory_order_release);
    stop_error_ = absl::OkStatus();
    return absl::OkStatus();
  }
  // Still failing (or RocksDB's own recovery is running): the fault that
  // stopped writes is the answer, unless the retry found a new one.
  if (s.IsIOError()) {
    absl::Status error = FromRocksDbStatus(s, operation);
    CountFault(error);
    return error;
  }
  return StoppedError({});
}

absl::Status Db::ProbeDisk(std::string_view operation) {
  const std::string probe = absl::StrCat(path_, "/REOPEN-PROBE");
  std::unique_ptr<rocksdb::WritableFile> file;
  rocksdb::Status s =
      env_->NewWritableFile(probe, &file, rocksdb::EnvOptions());
  // A page, as a small write of the reopen (OPTIONS, MANIFEST) would be.
  if (s.ok()) s = file->Append(std::string(4096, 'p'));
  if (s.ok()) s = file->Sync();
  if (file != nullptr) {
    rocksdb::Status closed = file->Close();
    if (s.ok()) s = closed;
  }
  env_->DeleteFile(probe).PermitUncheckedError();
  if (s.ok()) return absl::OkStatus();
  absl::Status error = FromRocksDbStatus(
      s, absl::StrCat(ToAbsl(operation), ": database ", name_,
                      ": the disk does not take writes yet (a reopen "
                      "would resume them)"));
  if (ErrorReason(error).empty()) {
    error = WithReason(absl::UnavailableError(error.message()),
                       reasons::kStorageError);
  }
  CountFault(error);
  return error;
}

absl::Status Db::Reopen(std::string_view operation) {
  absl::MutexLock lock(&mu_);
  if (closed_) return CheckOpen(operation);
  // Another caller reopened it while this one waited for the lock.
  if (!reopen_needed_->load(std::memory_order_acquire)) {
    return absl::OkStatus();
  }
  if (db_ != nullptr) {
    // Iterators are registered under mu_, so none appears meanwhile.
    if (int live = live_iterators_.load(std::memory_order_acquire); live > 0) {
      return StoppedError(absl::StrCat(
          "writes resume after reopening the database, which waits for ", live,
          " open iterators"));
    }
    // Free space is checked by BeginWrite; the probe shows the disk writes.
    // Until it does, the old database keeps serving reads.
    if (absl::Status s = ProbeDisk(operation); !s.ok()) return s;
    // The WAL writer reports its error once more; nothing else is lost.
    CloseRocksDb().PermitUncheckedError();
  }
  if (absl::Status s = OpenRocksDb(absl::StrCat(
          ToAbsl(operation), ": reopen ", name_, " after a storage fault"));
      !s.ok()) {
    if (ErrorReason(s).empty()) {
      s = WithReason(absl::UnavailableError(s.message()),
                     reasons::kStorageError);
    }
    reopen_error_ = s;
    CountFault(s);
    return s;
  }
  reopen_error_ = absl::OkStatus();
  reopens_.fetch_add(1, std::memory_order_relaxed);
  {
    absl::MutexLock stop_lock(&stop_mu_);
    stop_error_ = absl::OkStatus();
    writes_stopped_.store(false, std::memory_order_release);
  }
  reopen_needed_->store(false, std::memory_order_release);
  // The probe file does not go through the WAL: append a record that only
  // the WAL holds (no key), so that writes are declared working only when a
  // WAL append works. On failure RocksDB flags the WAL again.
  rocksdb::WriteBatch probe;
  rocksdb::Status s = probe.PutLogData("storage::Db reopen probe");
  if (s.ok()) {
    rocksdb::WriteOptions write_options = MakeWriteOptions();
    write_options.sync = true;
    s = db_->Write(write_options, &probe);
  }
  return EndWrite(FromRocksDbStatus(
      s, absl::StrCat(ToAbsl(operation), ": reopened ", name_,
                      " after a storage fault, but its WAL still fails")));
}

absl::Status Db::EndWrite(absl::Status status) {
  if (status.ok()) return status;
  std::string reason = ErrorReason(status);
  if (reason != reasons::kStorageFull && reason != reasons::kStorageError) {
    return status;
  }
  CountFault(status);
  absl::MutexLock lock(&stop_mu_);
  stop_error_ = status;
  writes_stopped_.store(true, std::memory_order_release);
  return status;
}

absl::Status Db::CheckWritable() {
  if (absl::Status s = BeginWrite("CheckWritable"); !s.ok()) return s;
  absl::ReaderMutexLock lock(&mu_);
  return CheckOpen("CheckWritable");
}

Db::WriteFaults Db::write_faults() const {
  return {
      .storage_full = storage_full_faults_.load(std::memory_order_relaxed),
      .storage_error = storage_error_faults_.load(std::memory_order_relaxed)};
}

absl::Status Db::Put(std::string_view cf, std::string_view key,
                     const google::protobuf::MessageLite& message) {
  std::string bytes;
  // protobuf only DCHECKs required fields on serialization; check here so
  // release builds reject an incomplete message too.
  if (!message.IsInitialized() || !message.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Put cf=", ToAbsl(cf), " key=\"", PrintableKey(key),
                     "\": cannot serialize ", message.GetTypeName()));
  }
  return PutRaw(cf, key, bytes);
}

absl::Status Db::PutRaw(std::string_view cf, std::string_view key,
                        std::string_view value) {
  if (absl::Status s = BeginWrite("Put"); !s.ok()) return s;
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle = FindCf("Put", cf);
  if (!handle.ok()) return handle.status();
  rocksdb::Status s =
      db_->Put(MakeWriteOptions(), *handle, ToSlice(key), ToSlice(value));
  return EndWrite(FromRocksDbStatus(s, "Put", cf, key));
}

absl::Status Db::Get(std::string_view cf, std::string_view key,
                     google::protobuf::MessageLite* message) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle = FindCf("Get", cf);
  if (!handle.ok()) return handle.status();
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), *handle, ToSlice(key), &value);
  if (!s.ok()) return FromRocksDbStatus(s, "Get", cf, key);
  if (value.size() > static_cast<size_t>(INT_MAX) ||
      !message->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("Get cf=", ToAbsl(cf), " key=\"", PrintableKey(key),
                     "\": value is not a valid ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Db::GetRaw(std::string_view cf,
                                       std::string_view key) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle = FindCf("Get", cf);
  if (!handle.ok()) return handle.status();
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), *handle, ToSlice(key), &value);
  if (!s.ok()) return FromRocksDbStatus(s, "Get", cf, key);
  return value;
}

absl::StatusOr<std::vector<std::optional<std::string>>> Db::MultiGetRaw(
    std::string_view cf, const std::vector<std::string>& keys) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle = FindCf("MultiGet", cf);
  if (!handle.ok()) return handle.status();
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), *handle, keys.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return FromRocksDbStatus(statuses[i], "MultiGet", cf, keys[i]);
    }
    out[i] = values[i].ToString();
  }
  return out;
}

absl::Status Db::Delete(std::string_view cf, std::string_view key) {
  if (absl::Status s = BeginWrite("Delete"); !s.ok()) return s;
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle = FindCf("Delete", cf);
  if (!handle.ok()) return handle.status();
  rocksdb::Status s = db_->Delete(MakeWriteOptions(), *handle, ToSlice(key));
  return EndWrite(FromRocksDbStatus(s, "Delete", cf, key));
}

absl::Status Db::Write(const WriteBatch& batch) {
  if (!batch.status().ok()) return batch.status();
  if (batch.empty()) {
    absl::ReaderMutexLock lock(&mu_);
    return CheckOpen("Write");
  }
  if (absl::Status s = BeginWrite("Write"); !s.ok()) return s;
  absl::ReaderMutexLock lock(&mu_);
  if (absl::Status s = CheckOpen("Write"); !s.ok()) return s;
  rocksdb::WriteBatch rocks_batch;
  for (const WriteBatch::Op& op : batch.ops_) {
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle =
        FindCf("Write", op.cf);
    if (!handle.ok()) return handle.status();
    rocksdb::Status s;
    switch (op.type) {
      case WriteBatch::OpType::kPut:
        s = rocks_batch.Put(*handle, op.key, op.value);
        break;
      case WriteBatch::OpType::kDelete:
        s = rocks_batch.Delete(*handle, op.key);
        break;
      case WriteBatch::OpType::kDeleteRange:
        s = rocks_batch.DeleteRange(*handle, op.key, op.value);
        break;
    }
    if (!s.ok()) return FromRocksDbStatus(s, "Write", op.cf, op.key);
  }
  rocksdb::Status s = db_->Write(MakeWriteOptions(), &rocks_batch);
  return EndWrite(FromRocksDbStatus(
      s, absl::StrCat("Write (batch of ", batch.Count(), " operations)")));
}

absl::StatusOr<std::unique_ptr<Iterator>> Db::NewIteratorFor(
    std::string_view operation, std::string_view cf, const KeyRange& range,
    Direction direction) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> handle = FindCf(operation, cf);
  if (!handle.ok()) return handle.status();
  // Registered under the lock, so Close either sees it or ran before.
  std::unique_ptr<Iterator> iterator = absl::WrapUnique(
      new Iterator(std::string(cf), range, direction, &live_iterators_));
  iterator->Start(db_.get(), *handle);
  return iterator;
}

absl::StatusOr<std::unique_ptr<Iterator>> Db::NewIterator(
    std::string_view cf, const KeyRange& range, Direction direction) const {
  return NewIteratorFor("NewIterator", cf, range, direction);
}

absl::Status Db::Scan(
    std::string_view cf, const KeyRange& range, Direction direction,
    absl::FunctionRef<bool(std::string_view key, std::string_view value)>
        visitor) const {
  // The lock is not held while visiting, so the visitor may use this Db.
  absl::StatusOr<std::unique_ptr<Iterator>> iterator =
      NewIteratorFor("Scan", cf, range, direction);
  if (!iterator.ok()) return iterator.status();
  Iterator& it = **iterator;
  for (; it.Valid(); it.Next()) {
    if (!visitor(it.key(), it.value())) break;
  }
  return it.status();
}

std::vector<std::string> Db::ColumnFamilies() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> names;
  names.reserve(column_families_.size());
  for (const auto& [name, handle] : column_families_) names.push_back(name);
  return names;
}

absl::StatusOr<uint64_t> Db::GetIntProperty(std::string_view property) const {
  absl::ReaderMutexLock lock(&mu_);
  if (absl::Status s = CheckOpen("GetIntProperty"); !s.ok()) return s;
  uint64_t value = 0;
  if (!db_->GetIntProperty(ToSlice(property), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GetIntProperty: \"", ToAbsl(property),
                     "\" is not an integer property"));
  }
  return value;
}

absl::StatusOr<uint64_t> Db::GetAggregatedIntProperty(
    std::string_view property) const {
  absl::ReaderMutexLock lock(&mu_);
  if (absl::Status s = CheckOpen("GetAggregatedIntProperty"); !s.ok()) {
    return s;
  }
  uint64_t value = 0;
  if (!db_->GetAggregatedIntProperty(ToSlice(property), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GetAggregatedIntProperty: \"", ToAbsl(property),
                     "\" is not an aggregatable integer property"));
  }
  return value;
}

absl::StatusOr<uint64_t> Db::CreateCheckpoint(const std::string& dir) const {
  absl::ReaderMutexLock lock(&mu_);
  if (absl::Status s = CheckOpen("CreateCheckpoint"); !s.ok()) return s;
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(dir, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat("CreateCheckpoint: \"", dir, "\" exists"));
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  uint64_t sequence = 0;
  // log_size_for_flush 0: flush the memtables first, always.
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir, 0, &sequence);
  if (!s.ok()) return FromRocksDbStatus(s, "CreateCheckpoint");
  return sequence;
}

}  // namespace trainyard::storage
