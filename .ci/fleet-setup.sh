#!/bin/sh
# Install the daemons the fleet tests start (tests/services.py); run as root on Debian 12.
#   openssh-server            sshd for the Ansible playbook test (tests/contrib/test_ansible.py)
#   prometheus-node-exporter  the textfile collector test (tests/output/test_prometheus.py)
# Neither is started here or left running: policy-rc.d keeps the packages' services from
# starting (Debian's container images ship one; otherwise one is added for the install and
# removed), and each test starts its own instance on 127.0.0.1 with its own config.
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

# Another apt run on the machine holds the lock for a while: wait for it, do not fail.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
if ! dpkg-query -W -f='${Status}' openssh-server prometheus-node-exporter 2>/dev/null \
        | grep -q '^install ok installed.*install ok installed$'; then
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends openssh-server prometheus-node-exporter \
        >/dev/null
fi
# sshd's privilege-separation directory (systemd creates it when it starts the service).
mkdir -p /run/sshd
chmod 755 /run/sshd
echo "fleet-setup: $(/usr/sbin/sshd -V 2>&1 | head -1); $(prometheus-node-exporter --version 2>&1 | head -1)"
