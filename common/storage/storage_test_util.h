// -----------------------------------------------------------------------------
// File: common/storage/storage_test_util.h
// -----------------------------------------------------------------------------
//
// Test-only helpers of the storage module: a temporary directory removed at
// the end of the test, a StatusIs matcher (Abseil 20220623 ships none), and
// Options for a small database in a directory.

#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/storage/options.h"
#include "gmock/gmock.h"

namespace trainyard::storage::testing {

// A fresh directory under $TEST_TMPDIR (or /tmp), removed with its contents
// by the destructor. path() is empty if it could not be created.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern = (base != nullptr && base[0] != '\0')
                              ? std::string(base)
                              : std::string("/tmp");
    pattern += "/trainyard_storage_XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = std::move(pattern);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }

  // `name` inside the directory (not created).
  std::string Sub(std::string_view name) const {
    return path_ + "/" + std::string(name);
  }

 private:
  std::string path_;
};

inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Matches an absl::Status or absl::StatusOr<T> whose code is `code`.
MATCHER_P(StatusIs, code,
          std::string(negation ? "doesn't have" : "has") + " status code " +
              absl::StatusCodeToString(code)) {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code;
}

// Matches an OK absl::Status or absl::StatusOr<T>.
MATCHER(IsOk, negation ? "isn't OK" : "is OK") {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "whose status is " << status;
  return status.ok();
}

// Options for a small database at `path` with `column_families`.
inline Options TestOptions(std::string path,
                           std::vector<std::string> column_families) {
  Options options;
  options.path = std::move(path);
  options.name = "test";
  options.column_families = std::move(column_families);
  options.block_cache_bytes = size_t{8} << 20;
  options.memtable_bytes = size_t{4} << 20;
  options.write_buffer_size = size_t{1} << 20;
  return options;
}

}  // namespace trainyard::storage::testing
