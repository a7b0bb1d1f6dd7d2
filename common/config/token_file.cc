// Copyright 2026 Trainyard authors.
#include "common/config/token_file.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/errors.h"

namespace trainyard::config {

absl::StatusOr<std::string> ReadFirstToken(std::string_view flag,
                                           const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidFieldError(flag, absl::StrCat("cannot read ", path));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<std::string> words =
        absl::StrSplit(l, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    return words[0];
  }
  return InvalidFieldError(flag, absl::StrCat(path, " holds no token"));
}

}  // namespace trainyard::config
