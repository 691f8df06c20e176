#!/usr/bin/env bash
# Runs driftmux for the GitHub Action. Inputs arrive as environment variables (never
# interpolated into a script), the clouds.yaml content goes to a 0600 temporary file that is
# removed on exit, and the step outputs are written to $GITHUB_OUTPUT. Always exits 0: the
# action's last step exits with driftmux's code, after the summary and uploads.
set -uo pipefail
out=${GITHUB_OUTPUT:-/dev/null}
report_dir=${OUTPUT_DIR:-driftmux-reports}
stem="$report_dir/driftmux-openstack-neutron-security-groups"
formats=${FORMATS:-markdown,json,sarif,junit}
# The outputs and annotations read the JSON report.
case ",$formats," in *,json,*) ;; *) formats="$formats,json" ;; esac

tmp=""
trap '[ -n "$tmp" ] && rm -f "$tmp"' EXIT
if [ -n "${CLOUDS_YAML:-}" ]; then
  tmp=$(umask 077 && mktemp "${RUNNER_TEMP:-/tmp}/clouds.XXXXXX.yaml")
  printf '%s\n' "$CLOUDS_YAML" >"$tmp"
  export OS_CLIENT_CONFIG_FILE="$tmp"
fi

update=false
[ "${UPDATE_BASELINE:-false}" = "true" ] && update=true
have_location=false
args=(--openstack-sg-audit --output-dir "$report_dir" --fail-on "${FAIL_ON:-high}")
[ -n "${CLOUD:-}" ] && args+=(--os-cloud "$CLOUD")
[ -n "${SNAPSHOT:-}" ] && args+=(--snapshot "$SNAPSHOT")
if [ -n "${BASELINE:-}" ] && { [ -f "$BASELINE" ] || $update; }; then
  args+=(--baseline "$BASELINE")
  have_location=true
fi
if [ -n "${SUPPRESSIONS:-}" ] && [ -f "$SUPPRESSIONS" ]; then
  args+=(--suppressions "$SUPPRESSIONS")
  have_location=true
fi
extra=()
[ -n "${EXTRA_ARGS:-}" ] && read -ra extra <<<"$EXTRA_ARGS"
case " ${extra[*]:-} " in *" --sarif-location "*) have_location=true ;; esac
if ! $have_location; then
  case ",$formats," in
    *,sarif,* | *,codequality,*)
      echo "::warning::no baseline or suppression file to locate SARIF results in: SARIF and Code Quality are skipped (pass --sarif-location in extra-args)"
      formats=$(printf '%s' "$formats" | tr ',' '\n' | grep -vx -e sarif -e codequality | paste -sd, -)
      ;;
  esac
fi
args+=(--format "$formats")
$update && args+=(--update-baseline --quiet)
args+=("${extra[@]}")

bin=${DRIFTMUX_BIN:-driftmux}
mkdir -p "$report_dir"
if $update; then
  "$bin" "${args[@]}" >"$report_dir/baseline.diff"
  code=$?
  cat "$report_dir/baseline.diff"
else
  "$bin" "${args[@]}"
  code=$?
fi

{
  echo "exit-code=$code"
  echo "report-dir=$report_dir"
  [ -f "$stem.sarif" ] && echo "sarif-file=$stem.sarif"
  [ -f "$stem.junit.xml" ] && echo "junit-file=$stem.junit.xml"
  $update && [ -n "${BASELINE:-}" ] && echo "proposed-baseline=$BASELINE"
  if [ -f "$stem.json" ]; then
    python3 - "$stem.json" <<'PY'
import json, sys
gate = json.load(open(sys.argv[1]))["gate"]
print(f"verdict={gate['verdict']}")
print(f"new-findings={gate['counts']['new']}")
print(f"escalated-findings={gate['counts']['escalated']}")
PY
  else
    echo "verdict=error"
  fi
} >>"$out"
exit 0
