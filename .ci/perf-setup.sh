#!/bin/sh
# Install what the benchmarks compare with and the Prometheus rules test needs; run as root
# on Debian 12 (tests/services.py and bench/README.md name them):
#   virt-what, cpu-checker (kvm-ok), cpuid   peers in bench/processes.py
#   prometheus                                promtool check/test rules and the live alert test
#                                             (tests/output/test_prometheus_rules.py)
# The prometheus package's own service is not started (policy-rc.d, as in fleet-setup.sh):
# the test starts its own server on 127.0.0.1 with its own config and data directory.
set -eu

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

apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
packages="virt-what cpu-checker cpuid prometheus"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt_get update -qq
    # shellcheck disable=SC2086 # word splitting is the point
    apt_get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "perf-setup: $(dpkg-query -W -f='${Package} ${Version}; ' $packages)"
