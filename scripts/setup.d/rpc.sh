#!/usr/bin/env bash
# RpcPool's njs engine, at the versions its image ships (nginxinc/nginx-unprivileged:1.26.3-alpine: nginx 1.26.3 with
# njs 0.8.9): Debian trixie's nginx 1.26.3 and libnginx-mod-http-js 0.8.9, unpacked with their libraries into
# /opt/scalecharts/rpc-nginx (as root: the tests run nginx as `nobody`, who cannot enter /root) or else
# ~/.cache/scalecharts/rpc-nginx, and run through trixie's own dynamic loader (no chroot, nothing installed on the host).
# Idempotent: skips when the stamp names the same versions. Prints how long it took.
set -euo pipefail
t0=$SECONDS
NGINX_DEB=1.26.3
NJS_DEB=0.8.9
default_dest=$HOME/.cache/scalecharts/rpc-nginx
[ "$(id -u)" != 0 ] || default_dest=/opt/scalecharts/rpc-nginx
dest=${SCALECHARTS_RPC_NGINX:-$default_dest}
mkdir -p "$(dirname "$dest")"
stamp="$dest/version"
want="nginx $NGINX_DEB njs $NJS_DEB"
if [ -x "$dest/bin/nginx" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "setup.d/rpc.sh: $want present in $dest ($(( SECONDS - t0 )) s)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/debs"
cat > "$work/sources.list" <<'LIST'
deb http://deb.debian.org/debian trixie main
deb http://deb.debian.org/debian trixie-updates main
deb http://deb.debian.org/debian-security trixie-security main
LIST
apt_opts=(-o "Dir::State=$work/state" -o Dir::State::status=/dev/null -o "Dir::Cache=$work/cache"
  -o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/nonexistent -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update
# nginx, the njs module and every shared library they load (checked with ldd below).
packages=(nginx libnginx-mod-http-js libnginx-mod-stream libc6 libcrypt1 libpcre2-8-0 libssl3t64 zlib1g libxml2
  liblzma5 libzstd1 libgcc-s1)
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "${packages[@]}")
compgen -G "$work/debs/nginx_${NGINX_DEB}-*" >/dev/null || { echo "setup.d/rpc.sh: trixie no longer has nginx $NGINX_DEB" >&2; exit 1; }
compgen -G "$work/debs/libnginx-mod-http-js_${NJS_DEB}-*" >/dev/null || { echo "setup.d/rpc.sh: trixie no longer has njs $NJS_DEB" >&2; exit 1; }

rm -rf "$dest.new"
mkdir -p "$dest.new/root" "$dest.new/bin"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$dest.new/root"; done
root="$dest/root"
cat > "$dest.new/bin/nginx" <<WRAP
#!/bin/sh
# trixie's nginx with trixie's libraries, through trixie's loader.
exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/sbin/nginx" "\$@"
WRAP
chmod 755 "$dest.new/bin/nginx" "$dest.new" "$dest.new/bin"
ln -s root/usr/lib/nginx/modules "$dest.new/modules"
rm -rf "$dest"
mv "$dest.new" "$dest"
chmod -R a+rX "$dest"
version=$("$dest/bin/nginx" -v 2>&1)
case "$version" in *"nginx/$NGINX_DEB"*) ;; *) echo "setup.d/rpc.sh: unexpected $version" >&2; exit 1 ;; esac
echo "$want" > "$stamp"
echo "setup.d/rpc.sh: installed $want into $dest ($(( SECONDS - t0 )) s)"
