#!/bin/sh
# Install what the QEMU lab (tests/lab/test_lab.py, -m lab) needs; run as root on Debian 12.
#   qemu-system-x86  QEMU 7.2 with TCG, SeaBIOS and the linuxboot option ROM
#   busybox-static   the guests' only userland
#   gcc make libc6-dev  the static nestprobe-dump (make -C csrc nestprobe-dump STATIC=1)
#   xz-utils zstd    in case the kernel package ships compressed modules
# The guests' kernel is Debian's linux-image-amd64, unpacked into the cache with
# dpkg -x rather than installed, so this machine's /boot and bootloader stay untouched.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${NESTPROBE_LAB_CACHE:-$repo/.lab-cache}

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    qemu-system-x86 busybox-static gcc make libc6-dev xz-utils zstd >/dev/null

# The versioned image package the linux-image-amd64 metapackage points at.
image=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
version=${image#linux-image-}
tree="$cache/kernel"
if [ -f "$tree/boot/vmlinuz-$version" ] && [ -d "$tree/lib/modules/$version" ]; then
    echo "lab-setup: kernel $version already in $tree"
    exit 0
fi
debs="$cache/debs"
mkdir -p "$debs"
# As root, apt-get download warns that _apt cannot write here and fetches unsandboxed.
(cd "$debs" && apt-get download -qq "$image")
rm -rf "$tree"
dpkg -x "$debs/${image}"_*.deb "$tree"
rm -f "$debs/${image}"_*.deb
# Under sudo, leave the cache to the user who will run the tests (they write into it).
if [ -n "${SUDO_USER:-}" ]; then chown -R "$SUDO_USER" "$cache"; fi
echo "lab-setup: kernel $version unpacked into $tree"
