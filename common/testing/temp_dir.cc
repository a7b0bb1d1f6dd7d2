// Copyright 2026 Trainyard authors.
#include "common/testing/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace trainyard::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") +
      "/trainyard-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::cerr << "mkdtemp failed for " << tmpl << "\n";
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Sub(const std::string& name) const {
  return path_ + "/" + name;
}

}  // namespace trainyard::testing
