// Copyright 2026 Trainyard authors.
#include "common/storage/checkpoint.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::storage {

absl::Status ValidateCheckpointName(std::string_view name) {
  constexpr size_t kMaxLength = 100;
  if (name.empty() || name.size() > kMaxLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint name must be 1 to ", kMaxLength,
                     " characters, got ", name.size()));
  }
  if (!absl::ascii_isalnum(static_cast<unsigned char>(name.front()))) {
    return absl::InvalidArgumentError(
        "checkpoint name must start with a letter or digit");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          "checkpoint name may only contain letters, digits, '.', '_' and "
          "'-' (it names a directory under --checkpoint_dir)");
    }
  }
  if (absl::EndsWith(ToAbsl(name), ".tmp")) {
    return absl::InvalidArgumentError(
        "checkpoint name must not end in \".tmp\" (reserved for staging)");
  }
  return absl::OkStatus();
}

Checkpointer::Checkpointer(const Db& db, std::string root)
    : db_(db), root_(std::move(root)) {}

absl::StatusOr<CheckpointInfo> Checkpointer::Create(std::string_view name) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "checkpoints are disabled: --checkpoint_dir is empty");
  }
  if (absl::Status s = ValidateCheckpointName(name); !s.ok()) return s;
  CheckpointInfo info;
  info.name = std::string(name);
  info.path = absl::StrCat(root_, "/", ToAbsl(name));
  absl::MutexLock lock(&mu_);
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat(
        "--checkpoint_dir: cannot create \"", root_, "\": ", ec.message()));
  }
  absl::StatusOr<uint64_t> sequence = db_.CreateCheckpoint(info.path);
  if (!sequence.ok()) return sequence.status();
  info.sequence = *sequence;
  return info;
}

}  // namespace trainyard::storage
