#!/usr/bin/env bash
# Formats our C++ with .clang-format (Google style); with --check, fails on any
# file that is not formatted instead of rewriting it.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cc' '*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--check" ]; then
  if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/trainyard-format.$$; then
    grep -E "^[^ ].*(warning|error):" /tmp/trainyard-format.$$ | cut -d: -f1 | sort -u | sed 's/^/not formatted: /' >&2
    rm -f /tmp/trainyard-format.$$
    echo "run 'make format' to fix" >&2
    exit 1
  fi
  rm -f /tmp/trainyard-format.$$
else
  clang-format -i "${files[@]}"
fi
