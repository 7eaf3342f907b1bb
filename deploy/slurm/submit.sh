#!/usr/bin/env bash
# Submits an itfsim run, or a sweep, as a Slurm job array of SHARDS tasks plus a
# dependent merge job; or a national run, one array task per area, plus a rollup.
#   deploy/slurm/submit.sh [sweep] SCENARIO OUTDIR SHARDS [sbatch options for the merge job...]
#   deploy/slurm/submit.sh areas LIST OUTDIR [sbatch options for the rollup job...]
# LIST names one area's scenario file per line (blank lines and lines starting with #
# are skipped; relative paths are relative to the current directory); the file stems
# must differ, as each area's result is OUTDIR/areas/<stem>.json. The rollup writes
# OUTDIR/national.csv, .json and .txt.
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
# An absolute path: relative ones are relative to the current directory, as given.
absolute() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/${1#./}" ;;
    esac
}
here=$(CDPATH='' cd -- "$(dirname "$0")" && pwd)
case ${ITFSIM:-} in
*/*) ITFSIM=$(absolute "$ITFSIM") && export ITFSIM ;;
esac
if [ "${1:-}" = areas ]; then
    if [ $# -lt 3 ]; then
        echo "usage: $0 areas LIST OUTDIR [sbatch options for the rollup job]" >&2
        exit 2
    fi
    list=$2 outdir=$3
    shift 3
    if [ ! -f "$list" ] || [ ! -r "$list" ]; then
        echo "$0: cannot read the list of areas $list" >&2
        exit 66
    fi
    scenarios=() stems=() lines=() n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        # Surrounding blanks (and a CRLF's CR) are not part of a path.
        line=${line%$'\r'}
        line=${line#"${line%%[![:space:]]*}"}
        line=${line%"${line##*[![:space:]]}"}
        case $line in '' | '#'*) continue ;; esac
        scenario=$(absolute "$line")
        if [ ! -f "$scenario" ] || [ ! -r "$scenario" ]; then
            echo "$0: $list:$n: cannot read the scenario $scenario (give a file every node sees)" >&2
            exit 66
        fi
        stem=$(basename "$scenario" .toml)
        for i in "${!stems[@]}"; do
            if [ "${scenarios[$i]}" = "$scenario" ]; then
                echo "$0: $list: $scenario is listed twice (lines ${lines[$i]} and $n); each area once" >&2
                exit 2
            fi
            if [ "${stems[$i]}" = "$stem" ]; then
                echo "$0: $list: ${scenarios[$i]} (line ${lines[$i]}) and $scenario (line $n) would both write areas/$stem.json; rename one" >&2
                exit 2
            fi
        done
        scenarios+=("$scenario") stems+=("$stem") lines+=("$n")
    done <"$list"
    if [ ${#scenarios[@]} = 0 ]; then
        echo "$0: $list names no scenario" >&2
        exit 2
    fi
    mkdir -p -- "$outdir"
    outdir=$(CDPATH='' cd -- "$outdir" && pwd)
    printf '%s\n' "${scenarios[@]}" >"$outdir/areas.txt"
    # The settings every task and a later rerun of one area use (areas.sbatch reads it),
    # so a rerun cannot drift to other trials, seed, options or binary.
    {
        echo "# written by submit.sh areas; read by areas.sbatch"
        printf 'ITFSIM=%q\nTRIALS=%q\nSEED=%q\nEXTRA=%q\n' \
            "${ITFSIM:-itfsim}" "${TRIALS:-}" "${SEED:-}" "${EXTRA:-}"
    } >"$outdir/areas.env"
    # Results of an earlier submission to this OUTDIR must not pass for this one's.
    rm -f -- "$outdir"/national.csv "$outdir"/national.json "$outdir"/national.txt
    for stem in "${stems[@]}"; do rm -f -- "$outdir/areas/$stem.json"; done
    export OUTDIR=$outdir KIND=areas
    array=$(sbatch --parsable --array="0-$((${#scenarios[@]} - 1))" --chdir="$outdir" \
        --export=ALL "$here/areas.sbatch")
    array=${array%%;*}
    exec sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
        --chdir="$outdir" --export=ALL "$@" "$here/merge.sbatch"
fi
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
scenario=$(absolute "$scenario")
if [ ! -f "$scenario" ] || [ ! -r "$scenario" ]; then
    echo "$0: cannot read the scenario $scenario (give a file every node sees)" >&2
    exit 66
fi
mkdir -p -- "$outdir"
outdir=$(CDPATH='' cd -- "$outdir" && pwd)
export SCENARIO=$scenario OUTDIR=$outdir KIND=$kind
array=$(sbatch --parsable --array="0-$((shards - 1))" --chdir="$outdir" \
    --export="ALL,ITFSIM_SHARD_COUNT=$shards" "$here/$kind.sbatch")
array=${array%%;*}
sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --chdir="$outdir" --export=ALL "$@" "$here/merge.sbatch"
