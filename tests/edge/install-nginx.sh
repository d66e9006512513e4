#!/usr/bin/env bash
# Fetches Debian's nginx into a repo-local directory, without root: `apt-get download` + `dpkg -x`. Called by
# `make edge-tools` (and so by `make test`, CI) for tests/edge, which run the edge's rendered annotations in a
# real nginx. Idempotent: does nothing when the binary is already there.
set -euo pipefail

DEST=${1:?usage: install-nginx.sh DIR}
PACKAGES=(nginx)
BINARY="$DEST/root/usr/sbin/nginx"

if [ -x "$BINARY" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "the edge tests need nginx: this script fetches Debian's nginx with apt-get download + dpkg -x, and" \
         "this machine has no apt-get/dpkg; put nginx on PATH instead" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# An empty package list (a fresh container) is filled first; that needs root.
if ! (cd "$work" && apt-get download "${PACKAGES[@]}" >/dev/null 2>&1); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
    fi
    (cd "$work" && apt-get download "${PACKAGES[@]}")
fi
rm -rf "$DEST.partial"
mkdir -p "$DEST.partial/root"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$DEST.partial/root"
done
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
[ -x "$BINARY" ]
echo "nginx in $DEST/root/usr/sbin: $("$BINARY" -v 2>&1 | head -1)"
