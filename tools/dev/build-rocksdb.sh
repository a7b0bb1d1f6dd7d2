#!/usr/bin/env bash
# Builds RocksDB as a static library without assertions from Debian's own
# source package of the installed librocksdb-dev version, once per machine.
#
# Why: Debian's librocksdb (7.8.3) is built without NDEBUG, so its assert()s are
# live and an I/O error on a write path (ENOSPC) aborts the process instead of
# returning a status (traps.md). Same version and patches, CMake Release.
#
#   tools/dev/build-rocksdb.sh            build into the cache unless it is there
#   tools/dev/build-rocksdb.sh --prefix   print the install prefix (for CMake)
#
# The cache lives outside the work tree, keyed by version and options:
# ${TRAINYARD_CACHE_DIR:-/var/cache/trainyard}/rocksdb-<version>-<key>.
set -euo pipefail

version=$(dpkg-query -W -f='${Version}' librocksdb-dev 2>/dev/null || true)
[ -n "$version" ] || { echo "build-rocksdb: librocksdb-dev is not installed" >&2; exit 1; }
options=(
  -DCMAKE_BUILD_TYPE=Release -DPORTABLE=ON -DUSE_RTTI=1 -DFAIL_ON_WARNINGS=OFF
  -DROCKSDB_BUILD_SHARED=OFF -DWITH_GFLAGS=OFF -DWITH_TESTS=OFF
  -DWITH_TOOLS=OFF -DWITH_BENCHMARK_TOOLS=OFF -DWITH_CORE_TOOLS=OFF
  -DWITH_TRACE_TOOLS=OFF -DWITH_ALL_TESTS=OFF
  -DWITH_SNAPPY=ON -DWITH_LZ4=ON -DWITH_ZSTD=ON -DWITH_ZLIB=ON -DWITH_BZ2=ON
)
compiler=$(c++ --version | head -1)
key=$(printf '%s\n' "$version" "${options[@]}" "$compiler" | sha256sum | cut -c1-12)
cache=${TRAINYARD_CACHE_DIR:-/var/cache/trainyard}
prefix="$cache/rocksdb-${version}-${key}"

if [ "${1:-}" = "--prefix" ]; then
  echo "$prefix"
  exit 0
fi
[ -f "$prefix/.complete" ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "build-rocksdb: building RocksDB $version without assertions into $prefix (once per machine, ~15 min on 2 cores)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Debian ships no deb-src entry: a private one with the same mirror, suites and
# keyring as the system's, in private apt directories (the system's lists and
# package caches stay as they are). Runs as root on CI: the sandbox user _apt
# could not write into the private mktemp directory.
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache"
system_sources=/etc/apt/sources.list.d/debian.sources
uri=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ -f "$system_sources" ]; then
  uri=$(awk '/^URIs:/ && !/security/ {print $2; exit}' "$system_sources")
fi
cat >"$work/sources.list.d/src.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: bookworm bookworm-updates
Components: main
Signed-By: $keyring
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources.list.d"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
          -o Debug::NoLocking=1
          -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update -qq
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only -qq "rocksdb=$version" >/dev/null)
(cd "$work" && dpkg-source --no-check -x rocksdb_*.dsc src >/dev/null)

cmake -S "$work/src" -B "$work/build" -G Ninja "${options[@]}" \
  -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
nice -n 10 ninja -C "$work/build" -j "$(nproc)" --quiet rocksdb
$sudo mkdir -p "$cache"
$sudo rm -rf "$prefix.tmp"
$sudo cmake --install "$work/build" --prefix "$prefix.tmp" >/dev/null
$sudo touch "$prefix.tmp/.complete"
$sudo mv "$prefix.tmp" "$prefix"
echo "build-rocksdb: done"
