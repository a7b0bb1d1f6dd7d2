#!/usr/bin/env bash
# `make run`: starts the whole suite on this machine and stops it cleanly on
# Ctrl-C (SIGTERM to every service, which drains and closes its RocksDB).
#
# State lives in var/ (git-ignored): var/dev/tokens (bearer tokens, one per
# role), var/dev/master.key (webhook master key), var/data/<service>/.
# Environment: TRAINYARD_TIME_SCALE (default 60: an 8-hour job plays in 8 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-build}
bin=$build_dir/services
var=var
mkdir -p "$var/dev" "$var/data" "$var/log"
umask 077

if [ ! -f "$var/dev/tokens" ]; then
  {
    echo "# <token> <user> <role>: written by make run on first start"
    for role in viewer engineer manager admin service; do
      echo "ty_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_') $role-local $role"
    done
  } > "$var/dev/tokens"
fi
if [ ! -f "$var/dev/master.key" ]; then
  head -c 32 /dev/urandom | base64 > "$var/dev/master.key"
fi
# What the services send each other: the token of the role `service`.
awk '$3 == "service" {print $1}' "$var/dev/tokens" > "$var/dev/service.token"
if [ ! -f "$var/dev/provider.key" ]; then
  echo "rp_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" > "$var/dev/provider.key"
fi

scale=${TRAINYARD_TIME_SCALE:-60}
origin=$(date -u +%s)
common=(--tokens_file="$var/dev/tokens" --time_scale="$scale" --time_origin="$origin")

pids=()
stop() {
  trap - INT TERM
  echo
  echo "stopping: SIGTERM to ${#pids[@]} services (each drains, then closes RocksDB)"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "stopped"
}
trap stop INT TERM

start() {  # name binary grpc_port admin_port [flags...]
  local name=$1 binary=$2 grpc=$3 admin=$4
  shift 4
  "$bin/$name/$binary" --grpc_address=127.0.0.1:$grpc --admin_address=127.0.0.1:$admin \
    --data_dir="$var/data/$name" "${common[@]}" "$@" \
    2> >(sed -u "s/^/[$name] /" >&2) &
  pids+=($!)
}

peer=(--service_token_file="$var/dev/service.token" --metrics_address=127.0.0.1:7103)
start metrics trainyard-metrics 7103 7113 --webhook_master_key_file="$var/dev/master.key"
start scheduler trainyard-scheduler 7102 7112 "${peer[@]}" \
  --notifications_file="$var/log/notifications.jsonl"
start cost trainyard-cost 7104 7114 "${peer[@]}"
start jobs trainyard-jobs 7101 7111 "${peer[@]}" \
  --scheduler_address=127.0.0.1:7102 --cost_address=127.0.0.1:7104 \
  --provider_base_url=http://127.0.0.1:7120 --provider_api_key_file="$var/dev/provider.key" \
  --webhook_base_url=http://127.0.0.1:7113 --webhook_master_key_file="$var/dev/master.key"
"$build_dir/tools/gpusim/gpusim" --address=127.0.0.1:7120 --time_scale="$scale" \
  --time_origin="$origin" --api_key_file="$var/dev/provider.key" \
  2> >(sed -u "s/^/[gpusim] /" >&2) &
pids+=($!)

admin_token=$(awk '$3 == "admin" {print $1}' "$var/dev/tokens")
cat <<MSG
Trainyard is up (time scale ${scale}x; Ctrl-C stops it):
  jobs       gRPC 127.0.0.1:7101   admin http://127.0.0.1:7111/metrics
  scheduler  gRPC 127.0.0.1:7102   admin http://127.0.0.1:7112/metrics
  metrics    gRPC 127.0.0.1:7103   admin http://127.0.0.1:7113/metrics (webhooks: /v1/webhooks/runpod/{job_id})
  cost       gRPC 127.0.0.1:7104   admin http://127.0.0.1:7114/metrics
  gpusim     RunPod REST subset   http://127.0.0.1:7120/v2/pods (see tools/gpusim/README.md)
Secured with bearer tokens from $var/dev/tokens (plaintext on loopback). Try:
  node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge --list-methods http://127.0.0.1:7101
  node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $admin_token" \\
      -d '{"service":""}' http://127.0.0.1:7101/grpc.health.v1.Health/Check
MSG
wait "${pids[@]}"
