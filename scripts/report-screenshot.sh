#!/bin/sh
# Regenerates docs/report-ealing.png: the HTML report of the Ealing scenario rendered by
# headless Chromium (Debian: apt-get install -y chromium). Usage: scripts/report-screenshot.sh
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/itfsim run scenarios/ealing-2014.toml --trials 20000 --quiet \
    --report "$work/report.html" > /dev/null
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --screenshot="$work/report.png" \
    --window-size=1200,2600 "file://$work/report.html" 2> "$work/chromium.log" || {
    cat "$work/chromium.log" >&2
    exit 1
}
cp "$work/report.png" docs/report-ealing.png
echo "wrote docs/report-ealing.png"
