#!/usr/bin/env bash
# Submits an itfsim run, or a sweep, as a Slurm job array of SHARDS tasks plus a
# dependent merge job.
#   deploy/slurm/submit.sh [sweep] SCENARIO OUTDIR SHARDS [sbatch options for the merge job...]
# Without `sweep`: run.sbatch shards the trials. With `sweep`: sweep.sbatch shards the
# points of the grids in GRIDS (one PATH=VALUES per line). Environment passed through:
# ITFSIM (binary path, default `itfsim` on PATH), TRIALS, SEED, EXTRA (see run.sbatch and
# sweep.sbatch), GRIDS. Prints the merge job id; with --wait as an extra option it returns
# when the merge has finished, with its exit status.
#
# SCENARIO, OUTDIR and a relative ITFSIM path are taken from the current directory and
# passed on as absolute paths (the jobs run in OUTDIR). The array is 0-based (task ID =
# shard number) and its tasks get ITFSIM_SHARD_COUNT=SHARDS, so a failed task can be
# rerun alone with `sbatch --array=I` (deploy/slurm/README.md, "Rerunning a shard").
set -euo pipefail
kind=run
if [ "${1:-}" = sweep ]; then
    kind=sweep
    shift
    : "${GRIDS:?set GRIDS to the grids of the sweep, one PATH=VALUES per line}"
fi
if [ $# -lt 3 ]; then
    echo "usage: $0 [sweep] SCENARIO OUTDIR SHARDS [sbatch options for the merge job]" >&2
    exit 2
fi
scenario=$1 outdir=$2 shards=$3
shift 3
if ! [[ $shards =~ ^[1-9][0-9]{0,5}$ ]]; then
    echo "$0: SHARDS must be a whole number from 1 to 999999, not '$shards'" >&2
    exit 2
fi
# An absolute path: relative ones are relative to the current directory, as given.
absolute() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/${1#./}" ;;
    esac
}
scenario=$(absolute "$scenario")
if [ ! -f "$scenario" ] || [ ! -r "$scenario" ]; then
    echo "$0: cannot read the scenario $scenario (give a file every node sees)" >&2
    exit 66
fi
mkdir -p -- "$outdir"
outdir=$(CDPATH='' cd -- "$outdir" && pwd)
case ${ITFSIM:-} in
*/*) ITFSIM=$(absolute "$ITFSIM") && export ITFSIM ;;
esac
here=$(CDPATH='' cd -- "$(dirname "$0")" && pwd)
export SCENARIO=$scenario OUTDIR=$outdir KIND=$kind
array=$(sbatch --parsable --array="0-$((shards - 1))" --chdir="$outdir" \
    --export="ALL,ITFSIM_SHARD_COUNT=$shards" "$here/$kind.sbatch")
array=${array%%;*}
sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --chdir="$outdir" --export=ALL "$@" "$here/merge.sbatch"
