#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) over our own sources, using the
# compile database of the build directory given as $1.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-build}
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cc' | grep -v '^tests/fuzz/')
[ ${#files[@]} -gt 0 ] || exit 0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 8 clang-tidy -p "$build_dir" --quiet --warnings-as-errors='*' 2>/dev/null
