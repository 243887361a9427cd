#!/usr/bin/env bash
# The manylinux wheel, built by the README's command, installed into a throwaway venv far
# from the source tree: the extension must load from the wheel and the CLI must answer.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -m)" != x86_64 ]; then
    echo "linux-wheel: the wheel is built for x86_64; this machine is $(uname -m): skipped"
    exit 0
fi
PY=${PYTHON:-python}
repo=$(pwd)
work=${NESTPROBE_WHEEL_WORK:-$PWD/build/linux-wheel}
rm -rf "$work"
mkdir -p "$work"
"$PY" tools/build_wheels.py linux --dist "$work/dist" --work "$work/tmp"
wheel=$(ls "$work"/dist/nestprobe-*-cp311-abi3-manylinux*_x86_64.whl)
"$PY" -m auditwheel show "$wheel"
# glibc 2.17 is the floor (np_prove.c calls the kernel's timers, not glibc 2.34's).
case $(basename "$wheel") in
    *manylinux_2_17_x86_64*|*manylinux2014_x86_64*) ;;
    *) echo "linux-wheel: $(basename "$wheel") needs a glibc newer than 2.17" >&2; exit 1;;
esac
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel"
# The installed command is the plain POSIX script (setup.py), not pip's wrapper that imports re.
if grep -q "^import re" "$work/venv/bin/nestprobe"; then
    echo "linux-wheel: bin/nestprobe is pip's entry-point wrapper, not scripts/nestprobe" >&2
    exit 1
fi
cd "$work"
venv/bin/python - <<'PYEOF'
import nestprobe._native as ext
from nestprobe import native
assert "/venv/" in ext.__file__, ext.__file__
status, detail = native.cpuid_status()
assert status in ("ok", "not-x86"), (status, detail)
print(f"linux-wheel: extension {ext.__file__}, CPUID {status}")
# The wheel's modules in one file (nestprobe/bytecode.py), compiled by this same Python:
# the installed command's imports come from it.
import sys
import nestprobe.cli
from nestprobe.bytecode import BytecodeFinder
loader = nestprobe.cli.__spec__.loader
assert isinstance(loader, BytecodeFinder), loader
served = sum(isinstance(getattr(m.__spec__, "loader", None), BytecodeFinder)
             for n, m in list(sys.modules.items()) if n.startswith("nestprobe.") and m.__spec__)
print(f"linux-wheel: {served} modules served from {loader.path}")
from importlib import resources
import nestprobe.bench
assert isinstance(nestprobe.bench.__spec__.loader, BytecodeFinder)
schema = resources.files("nestprobe.bench").joinpath("bench.schema.json").read_text()
assert schema.startswith("{"), schema[:40]
PYEOF
venv/bin/nestprobe --no-timing >/dev/null
set +e
venv/bin/nestprobe check hyperv --no-timing >/dev/null
check=$?
set -e
case $check in
    0|1|3|4|5) echo "linux-wheel: $(basename "$wheel") installs and runs (check hyperv: $check)";;
    *) echo "linux-wheel: check hyperv exited $check: not a verdict" >&2; exit 1;;
esac
# The sdist (MANIFEST.in: csrc/ whole) builds and installs on its own: the extension from
# csrc/build_ffi.py, the bytecode file, the command.
"$PY" -m build --sdist --outdir "$work/sdist" "$repo" >/dev/null
"$PY" -m venv "$work/sdist-venv"
"$work/sdist-venv/bin/python" -m pip install -q "$work"/sdist/nestprobe-*.tar.gz
set +e
"$work/sdist-venv/bin/nestprobe" check hyperv --no-timing >/dev/null
check=$?
set -e
case $check in
    0|1|3|4|5) echo "linux-wheel: the sdist builds, installs and runs (check hyperv: $check)";;
    *) echo "linux-wheel: from the sdist, check hyperv exited $check" >&2; exit 1;;
esac
test -f "$work"/sdist-venv/lib/python3*/site-packages/nestprobe/_bytecode.bin
# The layers above the probe, their tests run against this install, its modules served from
# _bytecode.bin (the main run imports the source tree; the Windows stage's Python 3.13 does
# not use the 3.11 file): what they test behaves the same either way. From $work, so the
# checkout is not on sys.path.
venv/bin/python -m pip install -q pytest hypothesis "jsonschema>=4" "prometheus-client>=0.20"
venv/bin/python -m pytest -q -p no:cacheprovider -c "$repo/pyproject.toml" --rootdir "$repo" \
    -m "not lab" "$repo/tests/bytecode" "$repo/tests/cli" "$repo/tests/pipeline" \
    "$repo/tests/assess" "$repo/tests/verdicts" "$repo/tests/output" "$repo/tests/bench"
