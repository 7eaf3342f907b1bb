#!/usr/bin/env bash
# CI: a real one-node Slurm cluster on this machine runs deploy/slurm's job arrays and
# dependent merges, and the merged results must equal the single-machine ones: a run
# (JSON equal apart from the timing fields elapsed_s and trials_per_s), a sweep of 4
# points over 3 shards (CSV, JSON and HTML report byte-identical), a national rollup of
# two areas, and `--shard auto` in arrays submitted directly: a stepped range
# (--array=0-4:2) merges into the single run, a list (--array=0,1,3) is refused.
#
# Needs root (it installs Debian's slurm-wlm and munge and starts munged, slurmctld and
# slurmd). Prints "SKIP" and exits 0 only when apt cannot install the packages. Every
# wait is bounded; the daemons it started are stopped on exit, whatever happens.
# Usage: tests/slurm.sh [path/to/itfsim]   (default: builds target/release/itfsim)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
SHARDS=3
TRIALS=5000
# The sweep's grids, one per line as submit.sh expects: 2 x 2 = 4 points in 3 shards.
GRIDS='scheme.reablement.delivery=0.6,0.9
fund.pot=1000000,1400000'
SCENARIO=$root/scenarios/ealing-2014.toml

if [ "$(id -u)" != 0 ]; then
    echo "tests/slurm.sh: must run as root (starts munged, slurmctld, slurmd)" >&2
    exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    if ! { timeout 300 apt-get update -qq && timeout 900 apt-get install -y -qq slurm-wlm munge; } >/tmp/itfsim-slurm-apt.log 2>&1; then
        tail -5 /tmp/itfsim-slurm-apt.log >&2
        echo "SKIP tests/slurm.sh: apt-get could not install slurm-wlm and munge"
        exit 0
    fi
fi

itfsim=${1:-}
if [ -z "$itfsim" ]; then
    cargo build --release --locked --quiet
    itfsim=$root/target/release/itfsim
fi
itfsim=$(cd "$(dirname "$itfsim")" && pwd)/$(basename "$itfsim")

work=$(mktemp -d /tmp/itfsim-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "$status" != 0 ]; then
        echo "== logs (failure)" >&2
        tail -n 20 "$work"/*.log "$work"/out/*.log "$work"/sweep/*.log "$work"/national/*.log \
            2>/dev/null >&2 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

echo "== munge (private key and socket in $work)"
mkdir -m 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --foreground --key-file="$work/munge/munge.key" \
    --socket="$work/munge/munge.sock" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munged.log" --seed-file="$work/munge/seed" 2>>"$work/munged.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/munge.sock" ] && break; sleep 0.2; done
munge -S "$work/munge/munge.sock" -n | unmunge -S "$work/munge/munge.sock" >/dev/null

echo "== slurm.conf (one node, no cgroups)"
node=$(slurmd -C | sed -n 's/^\(NodeName=[^ ]* CPUs=[0-9]*\).*/\1/p')
mkdir -p "$work/state" "$work/spool" "$work/out"
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=itfsimci
SlurmctldHost=$(hostname -s)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
$node State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

echo "== slurmctld and slurmd"
slurmctld -D -i >>"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D >>"$work/slurmd.log" 2>&1 &
pids+=($!)
ready=
for _ in $(seq 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -q -E '^(idle|mixed)'; then ready=1; break; fi
    sleep 1
done
if [ -z "$ready" ]; then
    echo "the node did not become idle within 60 s:" >&2
    sinfo >&2 || true
    exit 1
fi
sinfo

echo "== job array of $SHARDS shards and a dependent merge (sbatch --wait, 300 s limit)"
export ITFSIM=$itfsim TRIALS
timeout 300 "$root/deploy/slurm/submit.sh" "$SCENARIO" "$work/out" "$SHARDS" --wait
ls "$work/out"

echo "== compare with the single-machine run"
"$itfsim" run "$SCENARIO" --trials "$TRIALS" --threads 1 --quiet --format json --out "$work/single.json"
strip() { grep -v -E '"(elapsed_s|trials_per_s)"' "$1"; }
if ! diff <(strip "$work/single.json") <(strip "$work/out/result.json") >"$work/diff.log"; then
    head -20 "$work/diff.log" >&2
    echo "FAIL: the Slurm result differs from the single-machine run" >&2
    exit 1
fi
echo "PASS: Slurm job array ($SHARDS shards) + merge == single-machine run"

echo "== sweep: job array of $SHARDS shards over 4 points and a dependent merge (300 s limit)"
export GRIDS
timeout 300 "$root/deploy/slurm/submit.sh" sweep "$SCENARIO" "$work/sweep" "$SHARDS" --wait
ls "$work/sweep"

echo "== compare with the single-machine sweep"
grid_args=()
while IFS= read -r grid; do grid_args+=(--grid "$grid"); done <<<"$GRIDS"
"$itfsim" sweep "$SCENARIO" "${grid_args[@]}" --trials "$TRIALS" --threads 1 --quiet \
    --format csv --out "$work/single-sweep.csv"
"$itfsim" sweep "$SCENARIO" "${grid_args[@]}" --trials "$TRIALS" --threads 1 --quiet \
    --format json --out "$work/single-sweep.json" --report "$work/single-sweep.html"
for pair in "single-sweep.csv sweep/result.csv" "single-sweep.json sweep/result.json" \
    "single-sweep.html sweep/report.html"; do
    read -r single merged <<<"$pair"
    if ! cmp "$work/$single" "$work/$merged"; then
        diff "$work/$single" "$work/$merged" | head -20 >&2 || true
        echo "FAIL: the Slurm sweep's $merged differs from the single-machine sweep" >&2
        exit 1
    fi
done
cat "$work/sweep/result.csv"
echo "PASS: Slurm sweep job array ($SHARDS shards, 4 points) + merge == single-machine sweep"

echo "== areas: one array task per area and a dependent rollup (300 s limit)"
printf '%s\n' "$root/scenarios/ealing-2014.toml" "$root/scenarios/barnet-2013.toml" \
    >"$work/areas.list"
timeout 300 "$root/deploy/slurm/submit.sh" areas "$work/areas.list" "$work/national" --wait
ls "$work/national" "$work/national/areas"
# Same file names as the areas' results: the text shows them.
mkdir -p "$work/single-areas"
for area in ealing-2014 barnet-2013; do
    "$itfsim" run "$root/scenarios/$area.toml" --trials "$TRIALS" --threads 1 --quiet \
        --format json --out "$work/single-areas/$area.json"
done
"$itfsim" rollup "$work/single-areas/ealing-2014.json" "$work/single-areas/barnet-2013.json" \
    --quiet --out "$work/single-national.txt"
if ! cmp "$work/single-national.txt" "$work/national/national.txt"; then
    diff "$work/single-national.txt" "$work/national/national.txt" | head -20 >&2 || true
    echo "FAIL: the Slurm rollup differs from the single-machine runs rolled up" >&2
    exit 1
fi
cat "$work/national/national.txt"
echo "PASS: Slurm areas job array (2 areas) + rollup == single-machine runs rolled up"

echo "== --shard auto in real array tasks: a stepped range maps, a list is refused"
# What Slurm sets for --array=0-4:2 and for a list (--array=0,1,3) is checked here against
# a real scheduler, not assumed: the stepped array's three partials must merge into the
# single-machine run, and every task of the list must refuse (exit 2, nothing written).
mkdir -p "$work/auto"
cat >"$work/auto.sbatch" <<SBATCH
#!/bin/bash
#SBATCH --output=$work/auto/%x-%a.log
env | grep '^SLURM_ARRAY_TASK_' | sort
"$itfsim" run "$SCENARIO" --trials "$TRIALS" --threads 1 --quiet --shard auto \
    --out "$work/auto/\$SLURM_JOB_NAME-\$SLURM_ARRAY_TASK_ID.json"
SBATCH
timeout 300 sbatch --wait --job-name=stepped --array=0-4:2 "$work/auto.sbatch" >/dev/null
"$itfsim" merge "$work"/auto/stepped-*.json --format json --out "$work/auto/merged.json"
if ! diff <(strip "$work/single.json") <(strip "$work/auto/merged.json") >"$work/diff.log"; then
    head -20 "$work/diff.log" "$work"/auto/stepped-*.log >&2
    echo "FAIL: --shard auto over --array=0-4:2 does not merge into the single-machine run" >&2
    exit 1
fi
grep -h 'SLURM_ARRAY_TASK_' "$work/auto/stepped-2.log"
echo "PASS: --shard auto in a stepped Slurm array (0-4:2) + merge == single-machine run"
if timeout 300 sbatch --wait --job-name=list --array=0,1,3 "$work/auto.sbatch" >/dev/null; then
    echo "FAIL: the list array's tasks succeeded; --shard auto must refuse a list" >&2
    exit 1
fi
for id in 0 1 3; do
    if [ -e "$work/auto/list-$id.json" ] || ! grep -q "not a plain range" "$work/auto/list-$id.log"; then
        cat "$work/auto/list-$id.log" >&2
        echo "FAIL: task $id of --array=0,1,3 did not refuse --shard auto" >&2
        exit 1
    fi
done
grep -h 'SLURM_ARRAY_TASK_\|not a plain range' "$work/auto/list-3.log"
echo "PASS: --shard auto in a list Slurm array (0,1,3) is refused by every task, nothing written"
