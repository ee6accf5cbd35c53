#!/usr/bin/env bash
# The main job: a local demo on the embedded default. Starts the project's test API server, the Confluent Cloud
# emulator and the operator; applies crds/ and samples/; waits until every sample ManagedConnector is Ready; shows
# `kubectl get connect -A`; injects a failure and shows it surface in status and events; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/connect-operator-demo.XXXXXX")
export KUBE_TESTENV_DIR="$WORK/kube"
PIDS=()
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  bash hack/kube-testenv/kube-testenv.sh stop >/dev/null 2>&1
  [ "${KEEP_DEMO:-0}" = 1 ] && echo "demo files kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }
wait_http() { for _ in $(seq 1 120); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done; echo "demo: $1 did not come up" >&2; return 1; }

say "Starting the Kubernetes API server (first run builds it from Debian packages: a few minutes)"
bash hack/kube-testenv/kube-testenv.sh start >"$WORK/kube-testenv.log" 2>&1 || { tail -20 "$WORK/kube-testenv.log"; exit 1; }
export KUBECONFIG="$KUBE_TESTENV_DIR/kubeconfig"
kubectl version 2>/dev/null | sed -n 2p

# CONNECT_OPERATOR_BIN runs another build of the operator, e.g. the NativeAOT executable the image ships
# (hack/publish-native.sh); by default the demo builds and runs the operator with `dotnet`.
if [ -n "${CONNECT_OPERATOR_BIN:-}" ]; then
  say "Building the emulator (the operator is $CONNECT_OPERATOR_BIN)"
  OPERATOR=("$CONNECT_OPERATOR_BIN")
else
  say "Building the operator and the emulator"
  dotnet build src/ConnectOperator/ConnectOperator.csproj -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
  OPERATOR=(dotnet src/ConnectOperator/bin/Release/net10.0/connect-operator.dll)
fi
dotnet build src/ConnectOperator.Emulator/ConnectOperator.Emulator.csproj -c Release -nologo -v q >>"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
EMU_DLL=src/ConnectOperator.Emulator/bin/Release/net10.0/ConnectOperator.Emulator.dll

EMU_PORT=$(free_port); METRICS_PORT=$(free_port); WEBHOOK_PORT=$(free_port)
EMU="http://127.0.0.1:$EMU_PORT"
say "Starting the Confluent Cloud emulator on $EMU (connectors take 3 s to provision, as real ones take minutes)"
dotnet "$EMU_DLL" --urls "$EMU" --Emulator:EnableAdmin=true --Emulator:ProvisioningDelay=00:00:03 \
  --Emulator:Keys:0:Key=FAKEFINANCEKEY01 --Emulator:Keys:0:Secret=fake-finance-secret-do-not-use-0000000000000000000000000000 \
  --Emulator:Keys:0:Environments:0=env-fin001 --Emulator:Keys:0:Clusters:0=lkc-fin001 \
  --Emulator:Keys:1:Key=FAKEHRKEY0000001 --Emulator:Keys:1:Secret=fake-hr-secret-do-not-use-00000000000000000000000000000000 \
  --Emulator:Keys:1:Environments:0=env-hr0001 --Emulator:Keys:1:Clusters:0=lkc-hr0001 \
  >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
wait_http "$EMU/emulator/state"

say "kubectl apply -f crds/ && kubectl apply -f samples/"
kubectl apply --server-side -f crds/
kubectl wait --for=condition=Established --timeout=60s -f crds/ >/dev/null
kubectl apply -f samples/platform/
kubectl apply -f samples/finance/ -f samples/hr/

say "Starting the operator (logs: JSON lines in $WORK/operator.log)"
"${OPERATOR[@]}" run --Operator:Namespace=connect-operator-system --Operator:ConfluentBaseUrl="$EMU" --Operator:AllowInsecureConfluentUrl=true \
  --Operator:PollInterval=00:00:02 --Operator:MetricsPort="$METRICS_PORT" --Operator:WebhookPort="$WEBHOOK_PORT" --Operator:BindAddress=127.0.0.1 \
  --Webhook:ManageConfiguration=true --Webhook:Url="https://127.0.0.1:$WEBHOOK_PORT" \
  --Operator:LeaderElection:LeaseDuration=00:00:05 --Operator:LeaderElection:RenewDeadline=00:00:03 --Operator:LeaderElection:RetryPeriod=00:00:01 \
  >"$WORK/operator.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$METRICS_PORT/readyz"

say "Waiting until every sample ManagedConnector is Ready"
if ! kubectl wait --for=condition=Ready managedconnectors --all -A --timeout=180s; then
  kubectl get connect -A; tail -20 "$WORK/operator.log"; exit 1
fi

say "kubectl get connect -A"
kubectl get connect -A

say "kubectl get mc ledger-audit -n finance -o jsonpath='{.status.connectorId}'  (a custom connector from the approved plugin ccp-ledger01)"
kubectl get mc ledger-audit -n finance -o jsonpath='{.status.connectorId}{"\n"}'

say "The admission webhook refuses what breaks policy or quota, with the fix in the message"
for f in samples/invalid/webhook/mc-topic-of-another-department.yaml samples/invalid/webhook/mc-too-many-tasks.yaml; do
  echo "\$ kubectl apply -f $f"
  kubectl apply -f "$f" 2>&1 && { echo "demo: $f was accepted"; exit 1; } || true
done

say "The connectors as Confluent (the emulator) sees them"
curl -fsS "$EMU/emulator/state" | python3 -c 'import json,sys
for c in json.load(sys.stdin)["connectors"]: print("  %-22s %-34s %-14s %s" % (c["environment"] + "/" + c["cluster"], c["name"], c["id"], c["state"]))'
say "Confluent API calls so far, by route (one list per cluster per poll; writes only on change)"
curl -fsS "$EMU/emulator/calls" | python3 -c 'import json,sys
for k, v in json.load(sys.stdin)["counts"].items(): print("  %6d  %s" % (v, k))'

say "Injecting a task failure into fin.finance.s3-ledger-archive (as Confluent would report it)"
curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"trace":"org.apache.kafka.connect.errors.ConnectException: Access Denied (Service: S3, Status Code: 403)"}' \
  "$EMU/emulator/environments/env-fin001/clusters/lkc-fin001/connectors/fin.finance.s3-ledger-archive/tasks/0/fail"
for _ in $(seq 1 60); do
  kubectl get events -n finance --field-selector involvedObject.name=s3-ledger-archive,reason=Restarted -o name 2>/dev/null | grep -q . && break
  sleep 1
done
say "kubectl get events -n finance --field-selector involvedObject.name=s3-ledger-archive"
kubectl get events -n finance --field-selector involvedObject.name=s3-ledger-archive \
  -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message --sort-by=.lastTimestamp
say "kubectl get mc s3-ledger-archive -n finance -o jsonpath='{.status.autoRestart}'  (the operator restarted it)"
kubectl get mc s3-ledger-archive -n finance -o jsonpath='{.status.autoRestart}{"\n"}'
kubectl wait --for=condition=Ready mc/s3-ledger-archive -n finance --timeout=60s

say "Injecting a connector failure into hr.hr.http-payroll-sink with auto-restart off (spec.restartPolicy.type=Never)"
kubectl patch mc http-payroll-sink -n hr --type merge -p '{"spec":{"restartPolicy":{"type":"Never"}}}'
sleep 3
curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"trace":"org.apache.kafka.connect.errors.ConnectException: payroll API returned 401 Unauthorized"}' \
  "$EMU/emulator/environments/env-hr0001/clusters/lkc-hr0001/connectors/hr.hr.http-payroll-sink/fail"
kubectl wait --for=condition=Stalled mc/http-payroll-sink -n hr --timeout=60s
say "kubectl get connect -A  (the failure shows in the READY column; Argo CD shows it Degraded)"
kubectl get connect -A
say "kubectl get mc http-payroll-sink -n hr -o jsonpath='{.status.conditions}'"
kubectl get mc http-payroll-sink -n hr -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'

say "Demo done; stopping everything it started"
