#!/bin/sh
# Install the daemons the fleet tests start (tests/services.py); run as root on Debian 12.
#   openssh-server            sshd for the Ansible playbook test (tests/contrib/test_ansible.py)
#   prometheus-node-exporter  the textfile collector test (tests/output/test_prometheus.py)
# Neither is started here or left running (apt-lib.sh); each test starts its own instance.
set -eu

. "$(dirname "$0")/apt-lib.sh"
install_missing openssh-server prometheus-node-exporter
# sshd's privilege-separation directory (systemd creates it when it starts the service).
mkdir -p /run/sshd
chmod 755 /run/sshd
echo "fleet-setup: $(/usr/sbin/sshd -V 2>&1 | head -1); $(prometheus-node-exporter --version 2>&1 | head -1)"
