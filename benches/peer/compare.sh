#!/usr/bin/env bash
# itfsim against the NumPy peer (benches/peer/itf_numpy.py) on the same scenario and
# number of trials, run back to back so both see the same machine load.
#   benches/peer/compare.sh [SCENARIO] [TRIALS]   (needs: pip install numpy scipy)
set -euo pipefail
# A scenario given relative to the caller's directory, as the usage suggests, before the
# cd to the repository (where the default one is).
scenario=${1:-}
case $scenario in '' | /*) ;; *) scenario=$PWD/$scenario ;; esac
cd "$(dirname "$0")/../.."
scenario=${scenario:-scenarios/ealing-2014.toml}
trials=${2:-1000000}
cargo build --release --locked --quiet
itfsim=$(./target/release/itfsim bench "$scenario" --trials "$trials" --format json --quiet)
peer=$(python3 benches/peer/itf_numpy.py "$scenario" --trials "$trials")
python3 - "$itfsim" "$peer" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ours, theirs = a["run"]["trials_per_s"], b["trials_per_s"]
print(f"machine: {a['machine']['cores']} cores, {a['machine']['cpu']}")
print(f"itfsim {a['itfsim']}: {ours:12,.0f} trials/s ({a['run']['threads']} threads, {a['run']['trials']} trials)")
print(f"numpy {b['numpy']}:  {theirs:12,.0f} trials/s (1 process, {b['trials']} trials)")
print(f"ratio: {ours / theirs:.1f}x")
print(f"numpy peer mean total paid: {b['total_paid']['mean']:,.2f}")
PY
