#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: prepares the test API server, restores, builds, tests,
# and ends with the line "N passed, N failed, N skipped". Exit status is non-zero on any failure.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RESULTS=${RESULTS_DIR:-$ROOT/.artifacts/test-results}
rm -rf "$RESULTS"; mkdir -p "$RESULTS"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dotnet; then echo "test.sh: dotnet (SDK 10) is required: https://dot.net" >&2; echo "0 passed, 1 failed"; exit 1; fi
if ! need kubectl; then
  echo "test.sh: kubectl not found; installing Debian's kubernetes-client" >&2
  (apt-get install -y -q kubernetes-client || (apt-get update -q && apt-get install -y -q kubernetes-client)) >&2 || true
fi

# Argo CD's health scripts are tested with a real Lua 5.1 (gopher-lua, which Argo CD embeds, implements 5.1).
if ! need lua5.1; then
  echo "test.sh: installing Debian's lua5.1 for the Argo CD health script tests" >&2
  (apt-get install -y -q lua5.1 || (apt-get update -q && apt-get install -y -q lua5.1)) >&2 || true
fi

# The container image test builds the Dockerfile with Debian's Docker engine (it starts dockerd itself).
if ! need dockerd && [ "$(id -u)" = 0 ]; then
  echo "test.sh: installing Debian's docker.io for the container image test" >&2
  (apt-get install -y -q docker.io || (apt-get update -q && apt-get install -y -q docker.io)) >&2 || true
fi

# The docs test parses every Mermaid block with Mermaid's own parser (npm packages mermaid + jsdom, pinned in
# tests/ConnectOperator.Tests/Integration/Docs/mermaid/package-lock.json, ~20 MB) in .artifacts/mermaid. Optional: without
# node/npm that test is skipped; if this install fails (no registry), the test tries again itself and says why.
if need node && need npm; then
  M="$ROOT/.artifacts/mermaid"; L="$ROOT/tests/ConnectOperator.Tests/Integration/Docs/mermaid"
  if ! cmp -s "$L/package-lock.json" "$M/package-lock.json" || [ ! -f "$M/node_modules/mermaid/package.json" ]; then
    mkdir -p "$M" && cp "$L/package.json" "$L/package-lock.json" "$M/" \
      && (cd "$M" && npm ci --ignore-scripts --no-audit --no-fund >&2) || echo "test.sh: npm ci for the Mermaid test failed" >&2
  fi
fi

# The API server is built once into a cache (minutes on a cold machine, ~1 s after); doing it here keeps
# that time out of the first test's timeout. KUBEBUILDER_ASSETS, where set, is used instead.
if [ -z "${KUBEBUILDER_ASSETS:-}" ]; then
  bash hack/kube-testenv/kube-testenv.sh install >&2 || { echo "test.sh: kube-testenv install failed" >&2; echo "0 passed, 1 failed"; exit 1; }
fi

# Locked mode: every package as packages.lock.json pins it (content hash included), or the restore fails. Exported as
# an MSBuild property, so the publishes below and in the tests restore the same way.
export RestoreLockedMode=true
{ dotnet restore ConnectOperator.sln --locked-mode -nologo -v q && dotnet build ConnectOperator.sln -c Release --no-restore -nologo -v q; } >"$RESULTS/build.log" 2>&1
if [ $? -ne 0 ]; then
  grep -E "error|Error" "$RESULTS/build.log" | head -40 >&2
  echo "0 passed, 1 failed"; exit 1
fi

# The layout .editorconfig describes (CONTRIBUTING.md, "Code conventions"), checked offline on the restored solution.
# Whitespace only: the style rules are suggestions, and import order is deliberately not enforced. A failure is counted
# as one failed test and the suite still runs, so the last line reports both.
format_failed=0
if ! dotnet format whitespace ConnectOperator.sln --no-restore --verify-no-changes -v q >"$RESULTS/format.log" 2>&1; then
  echo "test.sh: dotnet format whitespace --verify-no-changes found files to reformat; run dotnet format whitespace ConnectOperator.sln" >&2
  grep -E "error|warning" "$RESULTS/format.log" | head -40 >&2
  format_failed=1
fi

# The NativeAOT executable (what the image ships) is compiled once, before the tests, so the compiler's minutes of
# CPU do not overlap timing-sensitive tests; the tests that run it find it through CONNECT_OPERATOR_NATIVE. If this
# fails, those tests try again themselves and fail with the compiler's output.
if bash hack/publish-native.sh "$ROOT/.artifacts/native" >"$RESULTS/native.log" 2>&1; then
  export CONNECT_OPERATOR_NATIVE="$ROOT/.artifacts/native/connect-operator"
else
  echo "test.sh: hack/publish-native.sh failed (see $RESULTS/native.log)" >&2
fi

dotnet test ConnectOperator.sln -c Release --no-build -nologo --results-directory "$RESULTS" \
  --logger "trx" --logger "console;verbosity=normal" "$@"
rc=$?

passed=0; failed=0; skipped=0
for f in "$RESULTS"/*.trx; do
  [ -f "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
failed=$((failed + format_failed))
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $rc -eq 0 ]
