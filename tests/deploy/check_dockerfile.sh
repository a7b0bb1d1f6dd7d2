#!/usr/bin/env bash
# Checks deploy/container/Dockerfile without docker (none on the build
# machine):
#   1. every file the build stage COPYs from the context exists;
#   2. the build stage installs with tools/dev/install-deps.sh (so its
#      packages are install-deps.sh's) and builds exactly the four services,
#      which the runtime stage copies;
#   3. the runtime stage's apt-get install list, with what those packages
#      depend on, covers the Debian package of every shared library the built
#      binaries load (ldd + dpkg -S here, on Debian 12 like the image).
# usage: check_dockerfile.sh <Dockerfile> <source dir> <build dir>
set -euo pipefail
dockerfile=$1
src=$2
build=$3
services=(jobs scheduler metrics cost)
fail() { echo "deploy_dockerfile: FAIL: $*" >&2; exit 1; }
for tool in ldd dpkg; do
  command -v $tool >/dev/null || {
    echo "deploy_dockerfile: skipped, $tool is not installed (Debian's libc-bin and dpkg)"
    exit 77
  }
done

# Instructions with their continuation lines joined, comments dropped.
instructions=$(grep -v '^\s*#' "$dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta')
stages=$(grep -c '^FROM ' <<<"$instructions")
[ "$stages" -eq 2 ] || fail "expected 2 stages (build, runtime), found $stages"
build_stage=$(awk '/^FROM /{n++} n==1' <<<"$instructions")
runtime_stage=$(awk '/^FROM /{n++} n==2' <<<"$instructions")
grep -q '^FROM debian:12 AS build$' <<<"$build_stage" || fail "build stage is not FROM debian:12 AS build"
grep -q '^FROM debian:12-slim$' <<<"$runtime_stage" || fail "runtime stage is not FROM debian:12-slim"

# 1. COPY sources from the context.
while read -r _ args; do
  read -ra words <<<"$args"
  for w in "${words[@]:0:${#words[@]}-1}"; do
    [ "$w" = . ] && continue
    [ -e "$src/$w" ] || fail "COPY $w: no such file in the repository"
  done
done < <(grep '^COPY ' <<<"$build_stage")

# 2. install-deps.sh, and the four binaries built and copied.
grep -q '^RUN tools/dev/install-deps.sh' <<<"$build_stage" ||
  fail "the build stage does not run tools/dev/install-deps.sh"
# install-deps.sh runs before `COPY . .`: the scripts it calls must be copied
# ahead of it (an image build once failed on a missing build-rocksdb.sh).
before_install=$(sed '/^RUN tools\/dev\/install-deps.sh/q' <<<"$build_stage" | grep '^COPY ')
for script in $(grep -o 'tools/dev/[A-Za-z0-9_-]*\.sh' "$src/tools/dev/install-deps.sh" | sort -u); do
  grep -q -E "^COPY (.* )?$script " <<<"$before_install" ||
    fail "install-deps.sh runs $script, which the build stage does not COPY before running it"
done
for s in "${services[@]}"; do
  grep -q "ninja .*trainyard-$s" <<<"$build_stage" || fail "the build stage does not build trainyard-$s"
  grep -q "^COPY --from=build .*/build/services/$s/trainyard-$s .*/usr/local/bin/" <<<"$runtime_stage" ||
    fail "the runtime stage does not copy trainyard-$s to /usr/local/bin/"
done

# 3. Runtime packages cover the libraries.
install=$(grep 'apt-get install' <<<"$runtime_stage" | sed 's/.*apt-get install//; s/&&.*//')
read -ra listed <<<"$install"
bins=()
for s in "${services[@]}"; do
  bin=$build/services/$s/trainyard-$s
  [ -x "$bin" ] || fail "$bin is not built"
  bins+=("$bin")
done
needed=()
while read -r lib; do
  owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
    dpkg -S "/usr$lib" 2>/dev/null) || fail "no Debian package owns $lib"
  needed+=("${owner%%:*}")
done < <(for b in "${bins[@]}"; do ldd "$b"; done | awk '/=> \// {print $3}' | sort -u)
# What apt installs for the listed packages: their Depends and PreDepends,
# recursively, as dpkg records them on this machine (first alternative, as
# apt picks it; version and architecture qualifiers dropped).
declare -A closure=()
queue=("${listed[@]}")
while [ ${#queue[@]} -gt 0 ]; do
  p=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${closure[$p]:-}" ] && continue
  closure[$p]=1
  deps=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$p" 2>/dev/null || true)
  while read -r d; do
    [ -n "$d" ] && queue+=("$d")
  done < <(tr ',' '\n' <<<"$deps" | sed 's/|.*//; s/(.*)//; s/:.*//; s/ //g')
done
missing=()
for p in $(printf '%s\n' "${needed[@]}" | sort -u); do
  [ -n "${closure[$p]:-}" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || fail "the runtime stage does not install: ${missing[*]}"
echo "deploy_dockerfile: ok ($(printf '%s\n' "${needed[@]}" | sort -u | wc -l) runtime packages cover the binaries' libraries)"
