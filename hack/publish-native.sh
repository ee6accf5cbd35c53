#!/usr/bin/env bash
# Publishes the operator as a NativeAOT executable, the build the container image ships, into .artifacts/native
# (or the directory given). NativeAOT needs a C toolchain: clang and zlib's headers (Debian: clang zlib1g-dev);
# they are installed with apt where missing and possible.
# usage: hack/publish-native.sh [output-dir]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/.artifacts/native}

find_clang() { for c in clang clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do command -v "$c" >/dev/null 2>&1 && { echo "$c"; return 0; }; done; return 1; }
CC=$(find_clang || true)
if [ -z "$CC" ] || [ ! -e /usr/include/zlib.h ]; then
  echo "publish-native.sh: installing Debian's clang and zlib1g-dev (NativeAOT links with them)" >&2
  (apt-get install -y -q clang zlib1g-dev || (apt-get update -q && apt-get install -y -q clang zlib1g-dev)) >&2 || true
  CC=$(find_clang) || { echo "publish-native.sh: no clang; install clang and zlib1g-dev" >&2; exit 1; }
fi

rm -rf "$OUT"
dotnet publish "$ROOT/src/ConnectOperator/ConnectOperator.csproj" -c Release -r linux-x64 -p:PublishAot=true \
  -p:CppCompilerAndLinker="$CC" -o "$OUT" -nologo -v q
# The debug symbols are as large as the executable; the image does not carry them.
rm -f "$OUT"/*.dbg "$OUT"/*.pdb
echo "$OUT/connect-operator"
