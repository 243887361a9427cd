# Sourced by fleet-setup.sh and perf-setup.sh (run as root on Debian 12): install Debian
# packages without starting their services. policy-rc.d keeps a package's service from
# starting (Debian's container images ship one; otherwise one is added for the install and
# removed on exit); each test starts its own instance on 127.0.0.1 with its own config.
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
added=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    added=1
fi
cleanup() { if [ -n "$added" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

# Another apt run on the machine holds the lock for a while: wait for it, do not fail.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }

# install_missing PACKAGE...: install those not installed yet (one update, one install).
install_missing() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        apt_get update -qq
        # shellcheck disable=SC2086 # word splitting is the point
        apt_get install -y -qq --no-install-recommends $missing >/dev/null
    fi
}
