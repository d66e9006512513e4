#!/usr/bin/env bash
# Fetches Debian's promtool (package prometheus) and amtool + alertmanager (prometheus-alertmanager) into
# a repo-local directory, without root: `apt-get download` + `dpkg -x`. Called by `make alert-tools` (and so
# by `make test`, CI). Idempotent: does nothing when the tools are already there.
#
# Debian bookworm ships Prometheus 2.42 and Alertmanager 0.25, older than the images kube-prometheus-stack
# 81.6.2 runs (Prometheus 3.9, Alertmanager 0.31); docs/alerting.md says what that leaves unchecked.
set -euo pipefail

DEST=${1:?usage: install-tools.sh DIR}
PACKAGES=(prometheus prometheus-alertmanager)
BINARIES=(promtool prometheus amtool prometheus-alertmanager)

installed() {
    for binary in "${BINARIES[@]}"; do
        [ -x "$DEST/root/usr/bin/$binary" ] || return 1
    done
}

if installed; then
    exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "the alerting tests need promtool and amtool: this script fetches Debian's ${PACKAGES[*]} with" \
         "apt-get download + dpkg -x, and this machine has no apt-get/dpkg; put promtool and amtool on PATH instead" >&2
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
installed
echo "alerting tools in $DEST/root/usr/bin: $("$DEST/root/usr/bin/promtool" --version 2>&1 | head -1);" \
     "$("$DEST/root/usr/bin/amtool" --version 2>&1 | head -1)"
