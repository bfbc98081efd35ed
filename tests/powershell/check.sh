#!/usr/bin/env bash
# CI's PowerShell syntax check (ctest `powershell_parse`): every golden Hyper-V script and the
# Hyper-V plan of every lab in labs/ is parsed with tree-sitter-powershell (parse.mjs); each
# script under broken/ must be rejected, or the check itself is broken.
# Usage: tests/powershell/check.sh <labctl binary>
# Exit 77 (ctest: Skipped) with the reason when Node or the parser is not installed
# (`provision/bootstrap --with-test-tools` installs it into .cache/powershell-parse/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
labctl=${1:?usage: check.sh <labctl binary>}
modules=${LABCTL_POWERSHELL_PARSER:-$root/.cache/powershell-parse}/node_modules

skip() {
  echo "SKIPPED: $1" >&2
  exit 77
}
command -v node >/dev/null || skip "node is not on PATH (Node 20 and npm are needed)"
[[ -d $modules/tree-sitter-powershell ]] ||
  skip "$modules has no tree-sitter-powershell: run provision/bootstrap --with-test-tools"
cmp -s "$here/package-lock.json" "$modules/../package-lock.json" ||
  skip "$modules is not the tests/powershell/package-lock.json install: run provision/bootstrap --with-test-tools"

parse() { node --no-deprecation "$here/parse.mjs" "$modules" "$@"; }

# The check must see a syntax error: each broken script on its own must fail.
for broken in "$here"/broken/*.ps1; do
  if parse "$broken" >/dev/null; then
    echo "check.sh: $broken has a syntax error but parsed: the check cannot be trusted" >&2
    exit 1
  fi
done
echo "check.sh: $(ls "$here"/broken/*.ps1 | wc -l) broken scripts rejected"

work=$(mktemp -d /tmp/lct-psparse.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The Hyper-V plan of a lab, as `labctl --json plan` prints it, into $2.
plan() {
  LABCTL_STATE_DIR="$work/state" NO_COLOR=1 "$labctl" --json --connect hyperv:// -f "$1" \
    plan --all >"$2" 2>"$work/err"
}
plans=()
for lab in "$root"/labs/*.yaml; do
  out="$work/$(basename "$lab" .yaml).json"
  # Nothing to connect to: the plan is made against an empty host (a note on stderr).
  if ! plan "$lab" "$out" && grep -q 'cannot boot a kernel directly' "$out"; then
    # As the cross-backend test does: Hyper-V's side of the same file boots efi.
    mkdir -p "$work/efi"
    sed '/^image:/a\  boot: efi' "$lab" >"$work/efi/$(basename "$lab")"
    echo "check.sh: $(basename "$lab") boots a kernel, which Hyper-V cannot: planned with boot: efi"
    lab="$work/efi/$(basename "$lab")"
  fi
  if ! plan "$lab" "$out" || ! grep -q '"powershell"' "$out"; then
    echo "check.sh: labctl plan of $lab for hyperv:// failed or printed no PowerShell:" >&2
    cat "$out" "$work/err" >&2
    exit 1
  fi
  plans+=("$out")
done
parse "$root"/tests/golden/hyperv/*.ps1 "${plans[@]}"
