# Sourced by the tool installers (tests/alerting/install-tools.sh, tests/edge/install-nginx.sh,
# tests/images/install-tools.sh): Debian packages fetched and unpacked without root.
#
# apt_unpack PARTIAL INSTEAD PACKAGE...: `apt-get download` the packages and `dpkg -x` each into PARTIAL/root
# (PARTIAL is emptied first; the caller moves it into place once its tools are there, so a failed run leaves
# the last good install). INSTEAD finishes the message when this machine has no apt-get/dpkg (exit 2).
apt_unpack() {
    local partial=$1 instead=$2 work deb
    shift 2
    if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
        echo "this script fetches Debian's $* with apt-get download + dpkg -x, and this machine has no" \
             "apt-get/dpkg; $instead" >&2
        exit 2
    fi
    work=$(mktemp -d)
    # An empty package list (a fresh container) is filled first; that needs root.
    if ! (cd "$work" && apt-get download "$@" >/dev/null 2>&1); then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq
        fi
        if ! (cd "$work" && apt-get download "$@"); then
            rm -rf "$work"
            exit 1
        fi
    fi
    rm -rf "$partial"
    mkdir -p "$partial/root"
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$partial/root"
    done
    rm -rf "$work"
}
