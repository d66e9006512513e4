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
# shellcheck source=../apt-unpack.sh
. "$(dirname "$0")/../apt-unpack.sh"
apt_unpack "$DEST.partial" "the alerting tests need promtool and amtool: put them on PATH instead" "${PACKAGES[@]}"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
installed
echo "alerting tools in $DEST/root/usr/bin: $("$DEST/root/usr/bin/promtool" --version 2>&1 | head -1);" \
     "$("$DEST/root/usr/bin/amtool" --version 2>&1 | head -1)"
