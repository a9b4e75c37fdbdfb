#!/bin/sh
# Builds the runtime image (tgc-runtime:<version>) without a registry: a root filesystem made
# of this host's node, tc and ip (iproute2), iptables, socat and busybox with the libraries they load, piped into
# `docker import`. For machines that cannot pull node:20-bookworm-slim (images/runtime/Dockerfile).
# Needs: docker, node, tc and ip (iproute2), iptables, socat, busybox (busybox-static); dist/native/tgc-sync
# (npm run build, with Go) for instances without Node.js, when it is built.
set -eu
tag="${1:-tgc-runtime:0.1.0}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
for tool in node tc ip socat busybox xtables-nft-multi; do
  path="$(command -v "$tool")" || { echo "offline-runtime: $tool is not installed" >&2; exit 3; }
  mkdir -p "$root/usr/bin"
  cp -L "$path" "$root/usr/bin/$tool"
  # Every shared library it loads, at the same path (ldd prints "name => path (addr)" or "path (addr)").
  ldd "$path" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
mkdir -p "$root/bin" "$root/sbin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
for applet in sh ls cat cp ping sleep mkdir mknod rm test env ps kill nsenter; do ln -sf /usr/bin/busybox "$root/bin/$applet"; done
ln -sf /usr/bin/tc "$root/sbin/tc"
ln -sf /usr/bin/ip "$root/sbin/ip"
# iptables (the nf_tables one, a multi-call binary named by its link) and its extensions, for the
# kernel backend's mark classification (docs/network.md).
ln -sf /usr/bin/xtables-nft-multi "$root/sbin/iptables"
for xtables in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/aarch64-linux-gnu/xtables /usr/lib/xtables; do
  [ -d "$xtables" ] || continue
  mkdir -p "$root$xtables" && cp -L "$xtables"/*.so "$root$xtables/"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
if [ -x "$here/../dist/native/tgc-sync" ]; then
  mkdir -p "$root/usr/local/lib/tgc"
  cp "$here/../dist/native/tgc-sync" "$root/usr/local/lib/tgc/tgc-sync"
fi
# The label says what the image was made from (this script and the tgc sync it carries), so that
# tests rebuild an image that is behind.
made_from="$(cat "$0" "$here/../dist/native/tgc-sync" 2>/dev/null | sha256sum | cut -d' ' -f1)"
tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/bin:/bin:/sbin' -c 'WORKDIR /' \
  -c "LABEL dev.tgc.made-from=$made_from" - "$tag" >/dev/null
echo "$tag"
