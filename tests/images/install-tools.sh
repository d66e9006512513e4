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
# shellcheck source=../apt-unpack.sh
. "$(dirname "$0")/../apt-unpack.sh"
apt_unpack "$DEST.partial" "the image tests need skopeo and docker-registry: put them on PATH (or set HAFLOW_SKOPEO and HAFLOW_DOCKER_REGISTRY) instead" "${PACKAGES[@]}"
mkdir -p "$DEST.partial/bin"
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
