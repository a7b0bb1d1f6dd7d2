// Copyright 2026 The Trainyard Authors.

#include "common/webhook/master_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/webhook/base64.h"
#include "gtest/gtest.h"

namespace trainyard::webhook {
namespace {

class MasterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "master_key_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  static void Write(const std::string& path, std::string_view contents) {
    std::ofstream(path, std::ios::binary) << contents;
  }

  static std::string Read(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream contents;
    contents << file.rdbuf();
    return contents.str();
  }

  std::string dir_;
};

TEST_F(MasterKeyTest, CreateThenLoad) {
  const std::string path = Path("master.key");
  ASSERT_TRUE(CreateMasterKeyFile(path).ok());
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  const std::string contents = Read(path);
  EXPECT_EQ(contents.size(), 45u);  // 44 base64 characters and a newline.

  absl::StatusOr<std::string> key = LoadMasterKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), kMinMasterKeyBytes);
  EXPECT_EQ(Base64Encode(*key) + "\n", contents);

  // No temporary file is left behind.
  EXPECT_EQ(
      std::system(
          absl::StrCat("test $(ls -A '", dir_, "' | wc -l) -eq 1").c_str()),
      0);
}

TEST_F(MasterKeyTest, CreateKeepsAnExistingFile) {
  const std::string path = Path("master.key");
  ASSERT_TRUE(CreateMasterKeyFile(path).ok());
  const std::string first = Read(path);
  ASSERT_TRUE(CreateMasterKeyFile(path).ok());
  EXPECT_EQ(Read(path), first);

  Write(Path("mine.key"), "not even base64");
  ASSERT_TRUE(CreateMasterKeyFile(Path("mine.key")).ok());
  EXPECT_EQ(Read(Path("mine.key")), "not even base64");
}

TEST_F(MasterKeyTest, TwoCreatedKeysDiffer) {
  ASSERT_TRUE(CreateMasterKeyFile(Path("a.key")).ok());
  ASSERT_TRUE(CreateMasterKeyFile(Path("b.key")).ok());
  EXPECT_NE(Read(Path("a.key")), Read(Path("b.key")));
}

TEST_F(MasterKeyTest, CreateInMissingDirectoryNamesThePath) {
  const std::string path = Path("no/such/dir/master.key");
  const absl::Status status = CreateMasterKeyFile(path);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(status.message(), path)) << status;
}

TEST_F(MasterKeyTest, LoadTrimsWhitespace) {
  const std::string key(40, '\x5a');
  Write(Path("k"), absl::StrCat("  \n", Base64Encode(key), "\r\n\n"));
  absl::StatusOr<std::string> loaded = LoadMasterKey(Path("k"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, key);
}

TEST_F(MasterKeyTest, LoadMissingFile) {
  const std::string path = Path("absent.key");
  absl::StatusOr<std::string> key = LoadMasterKey(path);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(key.status().message(), path)) << key.status();
}

TEST_F(MasterKeyTest, LoadShortKeyNamesPathButNotKey) {
  const std::string text = Base64Encode("only-sixteen-byt");
  Write(Path("short.key"), text);
  absl::StatusOr<std::string> key = LoadMasterKey(Path("short.key"));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(key.status().message(), Path("short.key")));
  EXPECT_TRUE(absl::StrContains(key.status().message(), "16 bytes"));
  EXPECT_FALSE(absl::StrContains(key.status().message(), text));
  EXPECT_FALSE(absl::StrContains(key.status().message(), "sixteen"));
}

TEST_F(MasterKeyTest, LoadBadBase64NamesPathButNotText) {
  const std::string text = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA!";
  Write(Path("bad.key"), text);
  absl::StatusOr<std::string> key = LoadMasterKey(Path("bad.key"));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(key.status().message(), Path("bad.key")));
  EXPECT_FALSE(absl::StrContains(key.status().message(), "c2VjcmV0"));
}

TEST_F(MasterKeyTest, LoadEmptyAndHugeFiles) {
  Write(Path("empty.key"), "\n");
  EXPECT_EQ(LoadMasterKey(Path("empty.key")).status().code(),
            absl::StatusCode::kInvalidArgument);
  Write(Path("huge.key"), std::string(10000, 'A'));
  EXPECT_EQ(LoadMasterKey(Path("huge.key")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trainyard::webhook
