#!/bin/busybox sh
# /init of every lab guest (PID 1, busybox only). What to do comes as data:
#   kernel cmdline  nplab_tag=NAME   marker tag of this guest's dump (default: guest)
#   /lab/files      paths to pass as --file to the dumper, one per line
#   /lab/modules    kernel modules to insmod, in dependency order: "PATH [PARAM=VALUE...]"
#   /lab/l2         nested guests to boot with KVM: "TAG TIMEOUT_S QEMU-CPU-MODEL"
#   /lab/bench      optional: run /bin/nestprobe-bench with this plan after the dump
#   /lab/prove      optional: the dump also runs the proof (a tiny VM: nestprobe-dump --prove)
# Every block on the console is fenced by @@NPLAB-...@@ markers the host cuts out.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages would interleave with the dump on the shared console.
dmesg -n 1

tag=guest
for arg in $(cat /proc/cmdline); do
    case "$arg" in nplab_tag=*) tag="${arg#nplab_tag=}" ;; esac
done

if [ -f /lab/modules ]; then
    while read -r path params; do
        # shellcheck disable=SC2086  # params are separate words by design
        insmod "$path" $params || echo "@@NPLAB-INSMOD-FAILED $path@@"
    done < /lab/modules
fi

dump_args=""
if [ -f /lab/prove ]; then dump_args="--prove"; fi
if [ -f /lab/files ]; then
    while read -r path; do dump_args="$dump_args --file $path"; done < /lab/files
fi

echo "@@NPLAB-BEGIN $tag@@"
# shellcheck disable=SC2086
/bin/nestprobe-dump $dump_args
echo "@@NPLAB-END $tag rc=$?@@"

# /lab/bench (a plan name): the bench suite's raw samples, fenced as dump "TAG.bench".
if [ -f /lab/bench ]; then
    echo "@@NPLAB-BEGIN $tag.bench@@"
    /bin/nestprobe-bench --plan "$(cat /lab/bench)"
    echo "@@NPLAB-END $tag.bench rc=$?@@"
fi

if [ -f /lab/l2 ]; then
    while read -r l2tag seconds cpu; do
        echo "@@NPLAB-GUEST-BEGIN $l2tag@@"
        start=$(cut -d. -f1 /proc/uptime)
        # The L2's UART writes straight to our console: a hang still shows how far it got.
        timeout "$seconds" qemu-system-x86_64 -L /usr/share/qemu -accel kvm -cpu "$cpu" \
            -m 320 -smp 1 -nodefaults -display none -no-reboot -net none \
            -serial file:/dev/console -kernel /lab/vmlinuz -initrd /lab/l2.cpio \
            -append "console=ttyS0 panic=-1 nplab_tag=$l2tag" \
            < /dev/null > "/tmp/$l2tag.err" 2>&1
        rc=$?
        end=$(cut -d. -f1 /proc/uptime)
        sed 's/^/qemu-stderr: /' "/tmp/$l2tag.err"
        echo "@@NPLAB-GUEST-END $l2tag rc=$rc seconds=$((end - start))@@"
    done < /lab/l2
fi

echo "@@NPLAB-DONE@@"
reboot -f
