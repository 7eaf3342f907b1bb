#!/usr/bin/env bash
# Submits an itfsim run, or a sweep, as a Slurm job array of SHARDS tasks plus a
# dependent merge job.
#   deploy/slurm/submit.sh [sweep] SCENARIO OUTDIR SHARDS [sbatch options for the merge job...]
# Without `sweep`: run.sbatch shards the trials. With `sweep`: sweep.sbatch shards the
# points of the grids in GRIDS (one PATH=VALUES per line). Environment passed through:
# ITFSIM (binary path, default `itfsim` on PATH), TRIALS, SEED, EXTRA (see run.sbatch and
# sweep.sbatch), GRIDS. Prints the merge job id; with --wait as an extra option it returns
# when the merge has finished, with its exit status.
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
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$outdir"
export SCENARIO=$scenario OUTDIR=$outdir KIND=$kind
array=$(sbatch --parsable --array="0-$((shards - 1))" --chdir="$outdir" \
    --export=ALL "$here/$kind.sbatch")
array=${array%%;*}
sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --chdir="$outdir" --export=ALL "$@" "$here/merge.sbatch"
