#!/usr/bin/env bash
# Appends the Markdown report (gate section first) to the GitHub job summary, cut with a
# note before GitHub's 1 MiB limit, and emits ::error annotations for the findings that fail
# the gate (GitHub shows 10 per step, so the total is printed too).
set -uo pipefail
stem="${REPORT_DIR:-driftmux-reports}/driftmux-openstack-neutron-security-groups"
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
limit=$((1024 * 1024 - 4096))
if [ -f "$stem.md" ]; then
  size=$(wc -c <"$stem.md")
  if [ "$size" -le "$limit" ]; then
    cat "$stem.md" >>"$summary"
  else
    head -c "$limit" "$stem.md" >>"$summary"
    printf '\n\n> **Truncated**: the report is %s bytes, over GitHub'"'"'s job summary limit. The whole report is in the `driftmux-reports` artifact.\n' "$size" >>"$summary"
  fi
fi
[ -f "$stem.json" ] || exit 0
python3 - "$stem.json" <<'PY'
import json, sys

def esc(text, prop=False):
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text

report = json.load(open(sys.argv[1]))
failing = [f for f in report["findings"] if f["metadata"].get("gate_fails")]
for f in failing:
    m = f["metadata"]
    title = f"driftmux {m['gate_status'].upper()} {f['severity'].upper()}"
    print(f"::error title={esc(title, True)}::{esc(f['title'] + ' (fingerprint ' + m['fingerprint'] + ')')}")
if failing:
    print(f"::notice title=driftmux::{len(failing)} finding(s) fail the gate; GitHub shows at most 10 annotations per step: see the job summary for all of them")
for e in report.get("errors", []):
    print(f"::error title=driftmux audit incomplete::{esc(e['resource'] + ': ' + e['message'])}")
PY
