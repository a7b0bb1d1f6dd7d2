#!/usr/bin/env bash
# `make demo`: submits a handful of varied jobs to the suite `make run` started
# (yardctl reads var/dev/yardctl.conf), so the list, queue, dashboards and
# cost screens all have data within a minute at the default time scale. With
# the default 3 slots, three of the six wait in the queue.
set -euo pipefail
cd "$(dirname "$0")/../.."
yardctl=${1:-build}/tools/yardctl/yardctl
submit() {  # name preset gpu pricing conversations model [flags...]
  local name=$1 preset=$2 gpu=$3 pricing=$4 conversations=$5 model=$6
  shift 6
  printf '%-28s ' "$name"
  "$yardctl" submit --name "$name" --preset "$preset" --gpu "$gpu" "--$pricing" \
    --conversations "$conversations" --model "$model" \
    --dataset "s3://trainyard-demo/$name.jsonl" --tags demo "$@"
}
submit support-bot-v3 balanced h100_80gb spot 2000 meta-llama/Meta-Llama-3-8B
submit legal-summarizer conservative a100_80gb on-demand 1200 meta-llama/Meta-Llama-3-70B \
  --budget 40 --budget-action pause
submit code-review-assist aggressive l40s spot 3000 mistralai/Mistral-7B-v0.1
submit sql-helper balanced rtx_4090 on-demand 800 meta-llama/Meta-Llama-3-8B
submit churn-explainer conservative rtx_a6000 spot 600 meta-llama/Meta-Llama-3-8B
submit ticket-router balanced h100_80gb on-demand 1500 meta-llama/Meta-Llama-3-70B \
  --notes "queued behind the others: try yardctl promote"
echo "Next: $yardctl queue; $yardctl watch <job id>"
