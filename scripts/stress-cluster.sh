#!/usr/bin/env bash
# Only the cluster fail-over loop of scripts/stress.sh: CLUSTER_RUNS runs of the BrokerInteropTests
# cluster test (node 1 stopped, then node 1 crashed: two cases a run) with two busy-loop CPU hogs beside it. Prints how many runs passed; exits non-zero if
# any failed (every run is made, so one failure does not hide the count).
#
#   CLUSTER_RUNS=10 CLUSTER_MESSAGES=2000 bash scripts/stress-cluster.sh
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${CLUSTER_RUNS:-10}"
messages="${CLUSTER_MESSAGES:-2000}"
swift build --build-tests || exit 1
load_pids=()
for _ in 1 2; do ( while :; do :; done ) & load_pids+=($!); done
trap 'kill "${load_pids[@]}" 2>/dev/null || true' EXIT
passed=0
for run in $(seq 1 "$runs"); do
    start=$(date +%s)
    if VBUS_CLUSTER_MESSAGES="$messages" swift test --skip-build --filter "BrokerInteropTests/clusterFailover" > "/tmp/vbus-cluster-run-$run.log" 2>&1; then
        passed=$((passed + 1)); verdict=passed
    else
        verdict="FAILED (log: /tmp/vbus-cluster-run-$run.log)"
    fi
    echo "stress-cluster: run $run of $runs $verdict in $(( $(date +%s) - start )) s; $(grep -h 'cluster failover (.*): bus' "/tmp/vbus-cluster-run-$run.log" | tr '\n' ' ')"
done
echo "stress-cluster: $passed of $runs runs passed ($messages messages each way, 2 CPU hogs beside them)"
[ "$passed" -eq "$runs" ]
