#!/usr/bin/env bash
# Makes a minimal .NET runtime base image from this machine's own .NET install, for machines whose Docker engine
# cannot pull mcr.microsoft.com/dotnet/aspnet. The image holds the runtime, the shared libraries it loads and
# nothing else: no shell, no package manager (like the chiseled images the Dockerfile uses by default).
# With --native the image holds only what a NativeAOT executable needs (the C runtime, OpenSSL, zlib), like
# mcr.microsoft.com/dotnet/runtime-deps, the base of the operator image.
# usage: hack/image/make-base.sh [--native] [image-tag]      (default connect-operator-base:local)
set -euo pipefail
NATIVE=0
if [ "${1:-}" = "--native" ]; then NATIVE=1; shift; fi
TAG=${1:-connect-operator-base:local}
DOTNET_ROOT=$(dirname "$(readlink -f "$(command -v dotnet)")")
ROOTFS=$(mktemp -d)
trap 'rm -rf "$ROOTFS"' EXIT

mkdir -p "$ROOTFS/usr/share/dotnet" "$ROOTFS/tmp" "$ROOTFS/etc" "$ROOTFS/app"
chmod 1777 "$ROOTFS/tmp"
if [ "$NATIVE" = 0 ]; then
  cp -a "$DOTNET_ROOT/dotnet" "$DOTNET_ROOT/host" "$ROOTFS/usr/share/dotnet/"
  mkdir -p "$ROOTFS/usr/share/dotnet/shared"
  for fx in Microsoft.NETCore.App Microsoft.AspNetCore.App; do cp -a "$DOTNET_ROOT/shared/$fx" "$ROOTFS/usr/share/dotnet/shared/"; done
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654:app:/app:/sbin/nologin\n' > "$ROOTFS/etc/passwd"
printf 'root:x:0:\napp:x:1654:\n' > "$ROOTFS/etc/group"
echo "/usr/share/dotnet" > "$ROOTFS/etc/dotnet_install_location"; mkdir -p "$ROOTFS/etc/dotnet"; mv "$ROOTFS/etc/dotnet_install_location" "$ROOTFS/etc/dotnet/install_location"
[ -d /etc/ssl/certs ] && mkdir -p "$ROOTFS/etc/ssl" && cp -aL /etc/ssl/certs "$ROOTFS/etc/ssl/" 2>/dev/null || true

# The native libraries the runtime links, plus the ones it dlopen()s (OpenSSL, zlib) that ldd cannot see.
# (For --native, the runtime's own libraries stand in for the executable's: the same C runtime, libstdc++ and libgcc.)
libs=$( { find "$DOTNET_ROOT/shared/Microsoft.NETCore.App" -name '*.so'; echo "$DOTNET_ROOT/dotnet"; } | xargs -r ldd 2>/dev/null | awk '/=>/ {print $3} /ld-linux/ {print $1}' | grep '^/' || true)
extra=$(ldconfig -p | awk '/libssl\.so\.3 |libcrypto\.so\.3 |libz\.so\.1 |libgcc_s\.so\.1 |libstdc\+\+\.so\.6 / {print $NF}' || true)
for lib in $libs $extra; do
  [ -e "$lib" ] || continue
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
done
# Some loaders look in /lib64 or /lib/x86_64-linux-gnu via usrmerge symlinks.
for d in lib lib64; do [ -L "/$d" ] && [ ! -e "$ROOTFS/$d" ] && ln -s "usr/$d" "$ROOTFS/$d"; done

if [ "$NATIVE" = 1 ]; then
  rm -rf "$ROOTFS/usr/share/dotnet"   # runtime libraries ldd pulled in as dependencies of each other
  env_changes=(--change 'ENV PATH=/usr/bin:/bin' --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true')
else
  env_changes=(--change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'ENV PATH=/usr/share/dotnet:/usr/bin:/bin' --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true')
fi
tar -C "$ROOTFS" -c . | docker import "${env_changes[@]}" --change 'WORKDIR /app' - "$TAG" >/dev/null
echo "$TAG"
