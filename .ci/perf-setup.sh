#!/bin/sh
# Install what the benchmarks compare with and the Prometheus rules test needs; run as root
# on Debian 12 (tests/services.py and bench/README.md name them):
#   virt-what, cpu-checker (kvm-ok), cpuid   peers in bench/processes.py
#   prometheus                                promtool check/test rules and the live alert test
#                                             (tests/output/test_prometheus_rules.py)
# The prometheus package's own service is not started (apt-lib.sh): the test starts its own
# server on 127.0.0.1 with its own config and data directory.
set -eu

. "$(dirname "$0")/apt-lib.sh"
packages="virt-what cpu-checker cpuid prometheus"
# shellcheck disable=SC2086 # word splitting is the point
install_missing $packages
echo "perf-setup: $(dpkg-query -W -f='${Package} ${Version}; ' $packages)"
