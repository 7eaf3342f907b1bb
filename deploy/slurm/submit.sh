#!/usr/bin/env bash
# Submits an itfsim run as a Slurm job array of SHARDS tasks plus a dependent merge job.
#   deploy/slurm/submit.sh SCENARIO OUTDIR SHARDS [sbatch options for the merge job...]
# Environment passed through: ITFSIM (binary path, default `itfsim` on PATH), TRIALS,
# SEED, EXTRA (see run.sbatch). Prints the merge job id; with --wait as an extra option
# it returns when the merge has finished, with its exit status.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 SCENARIO OUTDIR SHARDS [sbatch options for the merge job]" >&2
    exit 2
fi
scenario=$1 outdir=$2 shards=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$outdir"
export SCENARIO=$scenario OUTDIR=$outdir
array=$(sbatch --parsable --array="0-$((shards - 1))" --chdir="$outdir" \
    --export=ALL "$here/run.sbatch")
array=${array%%;*}
sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --chdir="$outdir" --export=ALL "$@" "$here/merge.sbatch"
