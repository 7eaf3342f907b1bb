#!/usr/bin/env bash
# CI (no root, no Slurm, about a second): deploy/slurm/submit.sh and deploy/slurm/
# README.md's rerun of one shard, driven through a fake `sbatch` on PATH. The fake runs
# each array task in turn, at once, in the --chdir directory, with SLURM_ARRAY_TASK_ID,
# _COUNT, _MIN, _MAX and _STEP set for a range (`--array=A-B[:S]` or one ID; a comma
# list gets no _STEP); it honours --export=ALL[,VAR=VALUE...], --dependency=afterok:ID
# (a failed job's dependants are cancelled), --parsable and #SBATCH --output (%A, %a,
# %j), and exits with the job's status only under --wait.
# It checks submit.sh's own logic: relative SCENARIO, OUTDIR and ITFSIM given from
# another directory, a 0-based array with ITFSIM_SHARD_COUNT, the merge equal to the
# single-machine run and sweep, and that a deleted shard rerun alone as the README says
# merges to the same result (and is refused without ITFSIM_SHARD_COUNT). What a real
# Slurm sets, schedules and exports is tested by tests/slurm.sh, not here.
# Usage: tests/slurm_fake.sh [path/to/itfsim]   (default: builds target/release/itfsim)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
itfsim=${1:-}
if [ -z "$itfsim" ]; then
    cargo build --release --locked --quiet
    itfsim=target/release/itfsim
fi
itfsim=$(cd "$(dirname "$itfsim")" && pwd)/$(basename "$itfsim")
TRIALS=3000
SHARDS=3

work=$(mktemp -d /tmp/itfsim-fake-slurm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/state" "$work/cwd/bin"

cat >"$work/bin/sbatch" <<'FAKE'
#!/usr/bin/env bash
# A fake sbatch for tests/slurm_fake.sh: runs the job (each array task in turn) now.
set -uo pipefail
state=${FAKE_SBATCH_STATE:?}
parsable= wait= array= chdir=$PWD export=ALL dependency=
while [ $# -gt 0 ]; do
    case $1 in
    --parsable) parsable=1 ;;
    --array=*) array=${1#--array=} ;;
    --chdir=*) chdir=${1#--chdir=} ;;
    --export=*) export=${1#--export=} ;;
    --dependency=*) dependency=${1#--dependency=} ;;
    --wait) wait=1 ;;
    --kill-on-invalid-dep=yes) ;;
    -*) echo "fake sbatch: unsupported option $1" >&2; exit 1 ;;
    *) break ;;
    esac
    shift
done
script=${1:?fake sbatch: no script}
shift
id=$(($(cat "$state/last" 2>/dev/null || echo 0) + 1))
echo "$id" >"$state/last"
if [ "$parsable" ]; then echo "$id"; else echo "Submitted batch job $id"; fi
case $dependency in
'') ;;
afterok:*)
    if [ -e "$state/${dependency#afterok:}.failed" ]; then
        echo "fake sbatch: job $id cancelled: dependency $dependency never satisfied" >&2
        touch "$state/$id.failed"
        [ -n "$wait" ] && exit 1
        exit 0
    fi ;;
*) echo "fake sbatch: unsupported dependency $dependency" >&2; exit 1 ;;
esac
extra=()
case $export in
ALL) ;;
ALL,*) IFS=, read -r -a extra <<<"${export#ALL,}" ;;
*) echo "fake sbatch: unsupported --export=$export" >&2; exit 1 ;;
esac
output=$(sed -n 's/^#SBATCH --output=//p' "$script" | head -1)
# The task IDs, and the range variables when the array is one range.
ids=() step=
if [ -n "$array" ]; then
    IFS=, read -r -a specs <<<"$array"
    for spec in "${specs[@]}"; do
        if [[ $spec =~ ^([0-9]+)(-([0-9]+)(:([0-9]+))?)?$ ]]; then
            first=${BASH_REMATCH[1]} last=${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}
            by=${BASH_REMATCH[5]:-1}
            for ((i = first; i <= last; i += by)); do ids+=("$i"); done
            [ ${#specs[@]} = 1 ] && step=$by
        else
            echo "fake sbatch: unsupported --array=$array" >&2
            exit 1
        fi
    done
    mapfile -t ids < <(printf '%s\n' "${ids[@]}" | sort -n -u)
fi
status=0
run() { # run TASK_ID|'' : the script once, in chdir, its output in the #SBATCH file
    local task=$1 log=${output:-slurm-%j.out}
    log=${log//%A/$id}
    log=${log//%a/$task}
    log=${log//%j/$id}
    local vars=(SLURM_JOB_ID="$id" SLURM_CPUS_PER_TASK=1 "${extra[@]}")
    if [ -n "$task" ]; then
        vars+=(SLURM_ARRAY_JOB_ID="$id" SLURM_ARRAY_TASK_ID="$task"
            SLURM_ARRAY_TASK_COUNT="${#ids[@]}" SLURM_ARRAY_TASK_MIN="${ids[0]}"
            SLURM_ARRAY_TASK_MAX="${ids[${#ids[@]} - 1]}")
        [ -n "$step" ] && vars+=(SLURM_ARRAY_TASK_STEP="$step")
    fi
    (cd "$chdir" && env "${vars[@]}" bash "$script" "$@" >"$log" 2>&1) || status=1
}
if [ -n "$array" ]; then
    for task in "${ids[@]}"; do run "$task" "$@"; done
else
    run "" "$@"
fi
[ "$status" = 0 ] || touch "$state/$id.failed"
[ -n "$wait" ] && exit "$status"
exit 0
FAKE
chmod +x "$work/bin/sbatch"
export PATH=$work/bin:$PATH FAKE_SBATCH_STATE=$work/state
unset ITFSIM_SHARD_COUNT EXTRA SEED GRIDS

# The scenario file name is in the output, so the single run reads the same file.
cp "$root/scenarios/ealing-2014.toml" "$work/cwd/scenario.toml"
strip() { grep -v -E '"(elapsed_s|trials_per_s)"' "$1"; }
"$itfsim" run "$work/cwd/scenario.toml" --trials "$TRIALS" --threads 1 --quiet \
    --format json --out "$work/single.json"
same() { # same MERGED: equals the single-machine run, timing aside
    if ! diff <(strip "$work/single.json") <(strip "$1") >&2; then
        echo "FAIL: $1 differs from the single-machine run" >&2
        exit 1
    fi
}

echo "== submit.sh with relative SCENARIO, OUTDIR and ITFSIM, from another directory"
# The paths are relative to $work/cwd, where submit.sh is started; the jobs run in OUTDIR.
ln -s "$itfsim" "$work/cwd/bin/itfsim"
failed() { # failed WHAT: the logs, and a FAIL line
    tail -n 5 "$work"/cwd/*/*.log "$work"/cwd/*/*/*.log 2>/dev/null >&2 || true
    echo "FAIL: $1" >&2
    exit 1
}
(cd "$work/cwd" && ITFSIM=bin/itfsim TRIALS=$TRIALS \
    "$root/deploy/slurm/submit.sh" scenario.toml out/run1 "$SHARDS" --wait) ||
    failed "submit.sh with relative paths"
ls "$work/cwd/out/run1"
for i in $(seq 0 $((SHARDS - 1))); do
    [ -s "$work/cwd/out/run1/part-$i.json" ] || { echo "FAIL: no part-$i.json" >&2; exit 1; }
done
grep -q '"count": *3' "$work/cwd/out/run1/part-2.json"
same "$work/cwd/out/run1/result.json"
echo "PASS: submit.sh with relative paths == single-machine run"

echo "== rerun one shard as deploy/slurm/README.md says"
cd "$work/cwd"
export ITFSIM=$work/cwd/bin/itfsim TRIALS SCENARIO=$work/cwd/scenario.toml \
    OUTDIR=$work/cwd/out/run1
rm "$OUTDIR/part-1.json" "$OUTDIR"/result.*
# Without ITFSIM_SHARD_COUNT the one-task array is refused (exit 2).
if sbatch --parsable --array=1 --chdir="$OUTDIR" --export=ALL --wait \
    "$root/deploy/slurm/run.sbatch" >/dev/null || [ -e "$OUTDIR/part-1.json" ]; then
    failed "a rerun without ITFSIM_SHARD_COUNT was not refused"
fi
grep -q 'rerun.*ITFSIM_SHARD_COUNT' "$OUTDIR"/itfsim-shard-*_1.log
rerun=$(sbatch --parsable --array=1 --chdir="$OUTDIR" --export=ALL,ITFSIM_SHARD_COUNT=3 \
    "$root/deploy/slurm/run.sbatch")
sbatch --parsable --dependency="afterok:${rerun%%;*}" --kill-on-invalid-dep=yes \
    --chdir="$OUTDIR" --export=ALL,KIND=run --wait "$root/deploy/slurm/merge.sbatch" \
    >/dev/null || failed "the rerun of shard 1 or its merge"
same "$OUTDIR/result.json"
echo "PASS: shard 1 rerun alone + merge == single-machine run"

echo "== submit.sh sweep with a relative OUTDIR"
export GRIDS='fund.pot=1000000,1400000'
"$root/deploy/slurm/submit.sh" sweep scenario.toml sweep1 "$SHARDS" --wait ||
    failed "submit.sh sweep with relative paths"
"$itfsim" sweep scenario.toml --grid "$GRIDS" --trials "$TRIALS" --threads 1 --quiet \
    --format csv --out "$work/single-sweep.csv"
cmp "$work/single-sweep.csv" sweep1/result.csv
echo "PASS: submit.sh sweep with relative paths == single-machine sweep"

echo "== submit.sh areas: one array task per area, then the rollup"
cp "$root/scenarios/barnet-2013.toml" barnet.toml
printf '# two areas\nscenario.toml\n\n  ./barnet.toml \r\n' >areas.list
"$root/deploy/slurm/submit.sh" areas areas.list national1 --wait ||
    failed "submit.sh areas"
ls national1 national1/areas
mkdir -p "$work/single-areas"
for area in scenario barnet; do
    "$itfsim" run "$area.toml" --trials "$TRIALS" --threads 1 --quiet --format json \
        --out "$work/single-areas/$area.json"
done
# The text rollup names no files, so the two sets of results must give it byte for byte.
"$itfsim" rollup "$work/single-areas/scenario.json" "$work/single-areas/barnet.json" \
    --quiet --out "$work/single-national.txt"
cmp "$work/single-national.txt" national1/national.txt
[ "$(wc -l <national1/national.csv)" = 4 ] || failed "national.csv: header, 2 areas, total"
printf 'scenario.toml\nout/scenario.toml\n' >twice.list
cp scenario.toml out/scenario.toml
if "$root/deploy/slurm/submit.sh" areas twice.list national2 >/dev/null 2>"$work/twice.err"; then
    failed "two areas with one file stem were not refused"
fi
grep -q '(line 1) and .* (line 2) would both write areas/scenario.json' "$work/twice.err"
printf 'scenario.toml\n./scenario.toml\n' >twice.list
if "$root/deploy/slurm/submit.sh" areas twice.list national2 >/dev/null 2>"$work/twice.err"; then
    failed "an area listed twice was not refused"
fi
grep -q 'listed twice (lines 1 and 2)' "$work/twice.err"
echo "PASS: submit.sh areas == single-machine runs rolled up"

echo "== rerun one area as deploy/slurm/README.md says, in a shell without the settings"
rm national1/areas/barnet.json national1/national.*
(
    unset TRIALS SEED EXTRA ITFSIM
    OUTDIR=$work/cwd/national1
    rerun=$(sbatch --parsable --array=1 --chdir="$OUTDIR" --export=ALL,OUTDIR="$OUTDIR" \
        "$root/deploy/slurm/areas.sbatch")
    PATH=$work/cwd/bin:$PATH sbatch --parsable --dependency="afterok:${rerun%%;*}" \
        --kill-on-invalid-dep=yes --chdir="$OUTDIR" --export=ALL,OUTDIR="$OUTDIR",KIND=areas \
        --wait "$root/deploy/slurm/merge.sbatch" >/dev/null
) || failed "the rerun of one area or its rollup"
cmp "$work/single-national.txt" national1/national.txt
echo "PASS: one area rerun alone (settings from areas.env) + rollup == single-machine runs"

echo "== a resubmission to the same OUTDIR leaves no stale results behind"
printf 'scenario.toml\nbarnet.toml\n' >areas.list
sed -i 's/^name = .*/name = "Barnet, edited"\nnot_a_key = 1/' barnet.toml
if "$root/deploy/slurm/submit.sh" areas areas.list national1 --wait >/dev/null; then
    failed "an invalid area did not fail the job"
fi
[ ! -e national1/areas/barnet.json ] && [ ! -e national1/national.txt ] ||
    failed "results of the earlier submission were left in OUTDIR"
echo "PASS: a failed resubmission leaves no earlier national.* or area result"
