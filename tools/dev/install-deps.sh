#!/usr/bin/env bash
# Installs what building and testing Trainyard needs on Debian 12, and nothing
# when it is all there already (quiet and quick on a warm machine).
#   Debian packages: compilers and libraries (see README "Dependencies" for why each).
#   npm packages:    buf and the google.rpc protos, pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev librocksdb-dev prometheus-cpp-dev libssl-dev libcpp-httplib-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcairo2-dev nlohmann-json3-dev libjemalloc-dev
  libmicrohttpd-dev libboost-dev
  clang clang-format clang-tidy prometheus systemd
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# RocksDB without assertions, built once per machine from Debian's source
# package of the installed librocksdb-dev (cmake/rocksdb.cmake links it).
tools/dev/build-rocksdb.sh

# npm: Node.js comes from outside Debian here; never apt-get install npm (traps.md).
if ! command -v npm >/dev/null; then
  echo "install-deps: npm (with Node.js) is required for buf; install Node.js 20" >&2
  exit 1
fi
stamp=node_modules/.trainyard-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi
