// Copyright 2026 The Trainyard Authors.

#include "common/webhook/master_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "common/webhook/base64.h"

namespace trainyard::webhook {
namespace {

// A key file is a few dozen bytes; refuse to read anything much larger.
constexpr size_t kMaxKeyFileBytes = 4096;

absl::Status ErrnoError(int error, std::string_view what,
                        const std::string& path) {
  const std::string message =
      absl::StrCat(ToAbsl(what), " ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

// Overwrites `text` before it is freed.
void Wipe(std::string* text) {
  if (!text->empty()) OPENSSL_cleanse(text->data(), text->size());
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> LoadMasterKey(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open master key file", path);
  std::string text;
  char buffer[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      Wipe(&text);
      return ErrnoError(error, "cannot read master key file", path);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxKeyFileBytes) {
      ::close(fd);
      Wipe(&text);
      return absl::InvalidArgumentError(absl::StrCat(
          "master key file ", path, " is larger than ", kMaxKeyFileBytes,
          " bytes; it should hold only the key's base64 text"));
    }
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  ::close(fd);

  absl::StatusOr<std::string> key =
      Base64Decode(ToStd(absl::StripAsciiWhitespace(text)));
  Wipe(&text);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("master key file ", path,
                     " does not hold base64 text: ", key.status().message()));
  }
  if (key->size() < kMinMasterKeyBytes) {
    const size_t size = key->size();
    Wipe(&*key);
    return absl::InvalidArgumentError(
        absl::StrCat("master key in ", path, " is ", size, " bytes; at least ",
                     kMinMasterKeyBytes, " random bytes are required"));
  }
  return key;
}

absl::Status CreateMasterKeyFile(const std::string& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) == 0) return absl::OkStatus();
  if (errno != ENOENT) {
    return ErrnoError(errno, "cannot check master key file", path);
  }

  unsigned char key[kMinMasterKeyBytes];
  if (RAND_bytes(key, sizeof(key)) != 1) {
    return absl::InternalError(absl::StrCat(
        "RAND_bytes failed; master key file ", path, " not created"));
  }
  std::string text = absl::StrCat(
      Base64Encode(std::string_view(reinterpret_cast<char*>(key), sizeof(key))),
      "\n");
  OPENSSL_cleanse(key, sizeof(key));

  // Write a temporary file beside the target, then link() it into place:
  // link fails if the target exists, so the first creator wins and nobody
  // ever sees a partial file.
  std::string temp = absl::StrCat(path, ".tmp.XXXXXX");
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // Mode 0600.
  if (fd < 0) {
    Wipe(&text);
    return ErrnoError(errno, "cannot create master key file", path);
  }
  const bool written =
      ::fchmod(fd, 0600) == 0 && WriteAll(fd, text) && ::fsync(fd) == 0;
  const int write_error = errno;
  Wipe(&text);
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return ErrnoError(write_error, "cannot write master key file", path);
  }
  const int linked = ::link(temp.c_str(), path.c_str());
  const int link_error = errno;
  ::unlink(temp.c_str());
  if (linked != 0 && link_error != EEXIST) {
    return ErrnoError(link_error, "cannot create master key file", path);
  }
  // Make the new directory entry durable too.
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "."
                                 : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd =
      ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace trainyard::webhook
