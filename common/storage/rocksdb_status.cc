#include "common/storage/rocksdb_status.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/reasons.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"

namespace trainyard::storage {

absl::StatusCode ToStatusCode(const rocksdb::Status& status) {
  using Code = rocksdb::Status::Code;
  using SubCode = rocksdb::Status::SubCode;
  switch (status.code()) {
    case Code::kOk:
      return absl::StatusCode::kOk;
    case Code::kNotFound:
      return absl::StatusCode::kNotFound;
    case Code::kCorruption:
      return absl::StatusCode::kDataLoss;
    case Code::kInvalidArgument:
      return absl::StatusCode::kInvalidArgument;
    case Code::kNotSupported:
      return absl::StatusCode::kUnimplemented;
    case Code::kIOError:
      if (status.subcode() == SubCode::kNoSpace ||
          status.subcode() == SubCode::kSpaceLimit) {
        return absl::StatusCode::kResourceExhausted;
      }
      return absl::StatusCode::kUnavailable;
    case Code::kBusy:
    case Code::kTimedOut:
    case Code::kTryAgain:
    case Code::kIncomplete:  // E.g. a write stall with no_slowdown.
    case Code::kShutdownInProgress:
      return absl::StatusCode::kUnavailable;
    case Code::kAborted:
      if (status.subcode() == SubCode::kMemoryLimit ||
          status.subcode() == SubCode::kLockLimit) {
        return absl::StatusCode::kResourceExhausted;
      }
      return absl::StatusCode::kAborted;
    case Code::kExpired:
      return absl::StatusCode::kAborted;
    case Code::kCompactionTooLarge:
      return absl::StatusCode::kResourceExhausted;
    case Code::kColumnFamilyDropped:
      return absl::StatusCode::kFailedPrecondition;
    case Code::kMergeInProgress:
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status FromRocksDbStatus(const rocksdb::Status& status,
                               std::string_view operation, std::string_view cf,
                               std::string_view key) {
  if (status.ok()) return absl::OkStatus();
  std::string message(operation);
  if (!cf.empty()) absl::StrAppend(&message, " cf=", ToAbsl(cf));
  if (!key.empty())
    absl::StrAppend(&message, " key=\"", PrintableKey(key), "\"");
  absl::StrAppend(&message, ": ", status.ToString());
  absl::Status out(ToStatusCode(status), message);
  if (status.IsIOError()) {
    return WithReason(std::move(out),
                      out.code() == absl::StatusCode::kUnavailable
                          ? reasons::kStorageError
                          : reasons::kStorageFull);
  }
  return out;
}

}  // namespace trainyard::storage
