#!/usr/bin/env bash
# Fetches Debian's docker-registry (distribution 2.8) and skopeo (1.9) into a repo-local directory, without
# root: `apt-get download` + `dpkg -x`. Called by `make image-tools` (and so by `make test`, CI) for
# tests/images, which push a small multi-arch image into a real registry on 127.0.0.1 and lock its digest with
# `haflow images lock`; the deploy runner can use the same skopeo. Idempotent: does nothing when both are there.
#
# skopeo links libgpgme (and through it libassuan and libgpg-error) and libdevmapper: their packages are
# unpacked beside it, and DIR/bin/skopeo is a wrapper that puts them on LD_LIBRARY_PATH.
set -euo pipefail

DEST=${1:?usage: install-tools.sh DIR}
PACKAGES=(docker-registry skopeo golang-github-containers-common libgpgme11 libassuan0 libgpg-error0
          libdevmapper1.02.1)

installed() {
    [ -x "$DEST/bin/skopeo" ] && [ -x "$DEST/bin/docker-registry" ] && "$DEST/bin/skopeo" --version >/dev/null 2>&1
}

if installed; then
    exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "the image tests need docker-registry and skopeo: this script fetches Debian's ${PACKAGES[*]} with" \
         "apt-get download + dpkg -x, and this machine has no apt-get/dpkg; put skopeo and docker-registry on PATH" \
         "(or set HAFLOW_SKOPEO and HAFLOW_DOCKER_REGISTRY) instead" >&2
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
mkdir -p "$DEST.partial/root" "$DEST.partial/bin"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$DEST.partial/root"
done
# The libraries' directory: usr/lib/<multiarch triplet> (x86_64-linux-gnu here), found rather than assumed.
libdir=$(dirname "$(find "$DEST.partial/root/usr/lib" -name 'libgpgme.so.11' | head -1)")
libdir=${libdir#"$DEST.partial/"}
cat > "$DEST.partial/bin/skopeo" <<WRAPPER
#!/bin/sh
# skopeo from Debian's package, with the shared libraries unpacked beside it (tests/images/install-tools.sh)
here=\$(dirname "\$(readlink -f "\$0")")/..
LD_LIBRARY_PATH="\$here/$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/root/usr/bin/skopeo" "\$@"
WRAPPER
ln -s ../root/usr/bin/docker-registry "$DEST.partial/bin/docker-registry"
chmod +x "$DEST.partial/bin/skopeo"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
installed
echo "image tools in $DEST/bin: $("$DEST/bin/skopeo" --version); $("$DEST/bin/docker-registry" --version)"
