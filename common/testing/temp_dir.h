// Copyright 2026 Trainyard authors.
//
// A fresh directory under $TEST_TMPDIR (or /tmp when unset or empty), removed
// with everything in it when the TempDir is destroyed. Aborts the test binary
// if the directory cannot be created. Library ty_testing_tempdir.
#pragma once

#include <string>

namespace trainyard::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace trainyard::testing
