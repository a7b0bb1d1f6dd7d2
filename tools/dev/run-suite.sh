#!/usr/bin/env bash
# `make run`: starts the whole suite on this machine (four services and
# gpusim, wired together), waits until each is ready, prints how to use it and
# stops it cleanly on Ctrl-C (SIGTERM to every process; each service drains,
# then closes its RocksDB). A second `make run` continues where the first
# stopped: same data, same tokens, same suite clock.
#
# State lives in var/ (git-ignored): var/dev/tokens (bearer tokens, one per
# role), var/dev/master.key (webhook master key), var/dev/provider.key (the
# GPU provider's API key, shared with gpusim), var/dev/service.token (what
# the services send each other), var/dev/suite-clock (time origin and scale),
# var/dev/yardctl.conf (yardctl's endpoints and token), var/data/<service>/,
# var/log/ (notifications, logs of the last run).
# Environment: TRAINYARD_TIME_SCALE (default 60: an 8-hour job plays in 8 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-build}
bin=$build_dir/services
var=var
mkdir -p "$var/dev" "$var/data" "$var/log"
umask 077

# Another suite (or anything else) on our ports would make half of this one
# talk to the other: refuse to start instead.
for port in 7101 7102 7103 7104 7111 7112 7113 7114 7120; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make run: port $port is already in use (another \`make run\`?)." >&2
    echo "Stop it first; \`ss -ltnp | grep $port\` shows who holds it." >&2
    exit 1
  fi
done

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
token_of() { awk -v r="$1" '$3 == r {print $1}' "$var/dev/tokens"; }

# The suite clock: now = origin + (wall - origin) * scale. The origin is kept
# across runs so suite time never goes back (a restart would otherwise jump
# hours into the past at 60x); when the scale changes, a new origin keeps
# suite time continuous.
scale=${TRAINYARD_TIME_SCALE:-60}
now=$(date -u +%s)
if [ -f "$var/dev/suite-clock" ]; then
  read -r origin old_scale < "$var/dev/suite-clock"
  if [ "$old_scale" != "$scale" ]; then
    origin=$(awk -v o="$origin" -v s1="$old_scale" -v s2="$scale" -v w="$now" \
      'BEGIN { t = o + (w - o) * s1; if (s2 == 1) { print int(w) } else { printf "%d\n", (t - w * s2) / (1 - s2) } }')
  fi
else
  origin=$now
fi
echo "$origin $scale" > "$var/dev/suite-clock"
common=(--tokens_file="$var/dev/tokens" --time_scale="$scale" --time_origin="$origin")

cat > "$var/dev/yardctl.conf" <<CONF
# yardctl's settings, written by make run (flags and TRAINYARD_* win over it).
endpoint = 127.0.0.1:7101
scheduler_endpoint = 127.0.0.1:7102
metrics_endpoint = 127.0.0.1:7103
cost_endpoint = 127.0.0.1:7104
# engineer-local: submits and steers its own jobs; --as manager|admin|viewer
# takes another role's token from the tokens file.
token = $(token_of engineer)
tokens_file = $var/dev/tokens
CONF

# Each process in its own process group (job control): Ctrl-C reaches only
# this script, which stops the processes in order, and the log pipes ignore
# it so that draining services can still write their last lines.
set -m
pids=()
names=()
stopping=0
stop() {
  trap - INT TERM
  stopping=1
  echo
  echo "stopping: SIGTERM to ${#pids[@]} processes (each service drains, then closes RocksDB)"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "stopped; \`make run\` again continues where this run stopped"
  exit 0
}
trap stop INT TERM

# name grpc_port admin_port [flags...]; stderr is prefixed and kept in var/log.
start() {
  local name=$1 grpc=$2 admin=$3
  shift 3
  "$bin/$name/trainyard-$name" --grpc_address=127.0.0.1:$grpc \
    --admin_address=127.0.0.1:$admin --data_dir="$var/data/$name" \
    "${common[@]}" "$@" \
    2> >(trap '' INT; tee "$var/log/$name.log" | sed -u "s/^/[$name] /" >&2) &
  pids+=($!)
  names+=("$name")
}

peer=(--service_token_file="$var/dev/service.token" --metrics_address=127.0.0.1:7103)
start metrics 7103 7113 --webhook_master_key_file="$var/dev/master.key"
start scheduler 7102 7112 "${peer[@]}" \
  --notifications_file="$var/log/notifications.jsonl"
start cost 7104 7114 "${peer[@]}"
start jobs 7101 7111 "${peer[@]}" \
  --scheduler_address=127.0.0.1:7102 --cost_address=127.0.0.1:7104 \
  --provider_base_url=http://127.0.0.1:7120 --provider_api_key_file="$var/dev/provider.key" \
  --webhook_base_url=http://127.0.0.1:7113 --webhook_master_key_file="$var/dev/master.key" \
  --notifications_file="$var/log/notifications.jsonl"
# gpusim keeps its pods in var/data/gpusim: after Ctrl-C (or a crash) the next
# run restarts their containers from their last checkpoint, same attempt.
"$build_dir/tools/gpusim/gpusim" --address=127.0.0.1:7120 --time_scale="$scale" \
  --time_origin="$origin" --api_key_file="$var/dev/provider.key" \
  --state_dir="$var/data/gpusim" \
  2> >(trap '' INT; tee "$var/log/gpusim.log" | sed -u "s/^/[gpusim] /" >&2) &
pids+=($!)
names+=(gpusim)

# Ready = every admin port answers /readyz 200 (gpusim: /healthz). A process
# that exits during start-up stops the whole suite with its name.
ready_urls=(http://127.0.0.1:7113/readyz http://127.0.0.1:7112/readyz
            http://127.0.0.1:7114/readyz http://127.0.0.1:7111/readyz
            http://127.0.0.1:7120/healthz)
for i in "${!ready_urls[@]}"; do
  until curl -fs -o /dev/null --max-time 2 "${ready_urls[$i]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "make run: ${names[$i]} exited during start-up; its log: $var/log/${names[$i]}.log" >&2
      stop
    fi
    sleep 0.2
  done
done

yardctl=$build_dir/tools/yardctl/yardctl
cat <<MSG

Trainyard is up (suite time runs ${scale}x; Ctrl-C stops it):
  jobs       gRPC 127.0.0.1:7101   admin http://127.0.0.1:7111/metrics
  scheduler  gRPC 127.0.0.1:7102   admin http://127.0.0.1:7112/metrics
  metrics    gRPC 127.0.0.1:7103   admin http://127.0.0.1:7113/metrics (webhooks: /v1/webhooks/runpod/{job_id})
  cost       gRPC 127.0.0.1:7104   admin http://127.0.0.1:7114/metrics
  gpusim     RunPod REST subset    http://127.0.0.1:7120/v2/pods (tools/gpusim/README.md)
Tokens (plaintext gRPC on loopback, bearer tokens): $var/dev/tokens, one per role
  viewer, engineer, manager, admin, service. yardctl uses engineer-local's
  (from $var/dev/yardctl.conf); \`--as manager\` picks another role's.
Notifications (queue positions, promotions, job events) go to $var/log/notifications.jsonl;
logs of this run are in $var/log/.
Next, in another terminal:
  $yardctl submit --name my-first-job --preset balanced --gpu h100_80gb \\
      --model meta-llama/Meta-Llama-3-8B --dataset s3://demo/chats.jsonl --conversations 2000 --watch
  $yardctl list        # (and: get, events, curve, cost, ...; yardctl help)
  $yardctl queue
  make demo            # a handful of varied jobs
MSG
# Until Ctrl-C, or until any process exits (then stop the rest).
wait -n "${pids[@]}" || true
if [ "$stopping" = 0 ]; then
  echo "make run: a process exited; stopping the others (logs in $var/log/)" >&2
  stop
fi
