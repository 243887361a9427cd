#!/usr/bin/env bash
# Portable Windows build stage: the zip and the MSI of tools/build_portable.py, under wine,
# in a fresh prefix where no Python is installed (README "Windows": download and run).
#
#   bash .ci/portable-stage.sh        (after `bash .ci/windows-stage.sh install`: wine,
#                                      mingw-w64, make, wixl, msitools)
#
# 1. build both (the Windows wheel, the embeddable CPython, the launcher, the dumper);
# 2. a new wine prefix: no python.exe anywhere on C:, none on PATH;
# 3. unzip and run: nestprobe.exe --version, check wsl2 --ready (a verdict or readiness
#    code), --json (validated against the schema here), check --ready --from the Windows
#    fixtures (exact codes: 0 ready, 9 after steps), fleet (multiprocessing), every module
#    of the package imported by the bundled Python, nestprobe-dump.exe /?;
# 4. msiexec /i /qn: installed under Program Files, on the system PATH, `nestprobe check
#    wsl2 --ready` found through PATH by cmd.exe; msiexec /x /qn: the folder, the PATH entry
#    and the uninstall entry are gone (wine 8.0 leaves an empty PATH separator behind:
#    entries are compared, not the raw string).
# Wine quirks as in windows-stage.sh: Python's standard handles must be pipes or /dev/null;
# programs run from C:\ so that no path reaches the host through Z:.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
PY=${PYTHON:-python}
work=${NESTPROBE_PORTABLE_WORK:-$repo/build/portable-stage}
export WINEPREFIX=$work/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
step() { echo "portable-stage: [$(( $(date +%s) - started )) s] $*"; }
fail() { echo "portable-stage: FAILED: $*" >&2; exit 1; }
for tool in wine wineserver x86_64-w64-mingw32-gcc make wixl msibuild unzip; do
    command -v "$tool" >/dev/null || fail "$tool missing: run 'bash .ci/windows-stage.sh install'"
done
mkdir -p "$work"

step "building the zip and the MSI (tools/build_portable.py)"
rm -rf "$work/dist"
# PORTABLE_WHEEL: a Windows wheel already built of this tree (.ci/run passes the Windows
# stage's); without it the tool builds one (tools/build_wheels.py win).
"$PY" tools/build_portable.py --dist "$work/dist" --work "$work/build" \
    ${PORTABLE_WHEEL:+--wheel "$PORTABLE_WHEEL"}
zip=$(ls "$work"/dist/nestprobe-*-win_amd64.zip)
msi=$(ls "$work"/dist/nestprobe-*-win_amd64.msi)
echo "portable-stage: $(basename "$zip") $(stat -c %s "$zip") bytes;" \
     "$(basename "$msi") $(stat -c %s "$msi") bytes"

step "a new wine prefix, without Python"
wineserver -k 2>/dev/null || true
rm -rf "$WINEPREFIX"
wine wineboot -i </dev/null >/dev/null 2>&1
wineserver -w
wineserver -p || [ $? = 2 ]
trap 'wineserver -k 2>/dev/null || true' EXIT
drive=$WINEPREFIX/drive_c
if find "$drive" -iname python.exe -o -iname 'python3*.dll' | grep -q .; then
    fail "the new prefix already holds a Python"
fi

# A Windows program, from C:\, its handles pipes; prints its output; returns its exit code.
win() {
    local code
    set +e
    (cd "$drive" && wine "$@" </dev/null 2> >(cat >&2) | cat)
    code=${PIPESTATUS[0]}
    set -e
    return "$code"
}
expect() {  # expect CODE LABEL COMMAND...
    local want=$1 label=$2 code=0
    shift 2
    win "$@" >/dev/null || code=$?
    [ "$code" = "$want" ] || fail "$label exited $code, expected $want"
    echo "portable-stage: $label -> $code"
}

step "unzip and run"
mkdir -p "$drive/fixtures" "$drive/portable"
unzip -q "$zip" -d "$drive/portable"
cp tests/fixtures/windows/*.dump "$drive/fixtures/"
exe="C:\\portable\\$(basename "$zip" -win_amd64.zip)\\nestprobe.exe"
version=$(win "$exe" --version | tr -d "\r")
[ "$version" = "nestprobe $("$PY" -c 'from nestprobe.model.contract import VERSION; print(VERSION)')" ] \
    || fail "--version said '$version'"
code=0
win "$exe" check wsl2 --ready || code=$?
case $code in
    0|1|3|4|5|9|10) echo "portable-stage: check wsl2 --ready (this wine machine) -> $code";;
    *) fail "check wsl2 --ready exited $code: not a verdict or readiness code";;
esac
win "$exe" --json > "$work/report.json"
"$PY" - "$work/report.json" <<'EOF'
import json, sys
from importlib import resources
import jsonschema
schema = json.loads(resources.files("nestprobe.output").joinpath("report.schema.json").read_text())
report = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.Draft202012Validator(schema).validate(report)
assert report["environment"]["os"] == "Windows", report["environment"]["os"]
print("portable-stage: the zip's --json validates; readiness:",
      {s: v["readiness"]["state"] for s, v in report["verdicts"].items()})
EOF
expect 0 "check hyperv --ready (Hyper-V root fixture)" \
    "$exe" check hyperv --ready -q --from 'C:\fixtures\win11-pro-baremetal-hyperv-root.dump'
expect 9 "check hyperv --ready (hypervisor-off fixture)" \
    "$exe" check hyperv --ready -q --from 'C:\fixtures\win11-enterprise-baremetal-hypervisor-off.dump'
expect 9 "check wsl2 --ready (Hyper-V root fixture: VMP to confirm)" \
    "$exe" check "wsl2" --ready -q --from 'C:\fixtures\win11-pro-baremetal-hyperv-root.dump'
expect 0 "check hyperv (no --ready, hypervisor-off fixture: supported)" \
    "$exe" check hyperv -q --from 'C:\fixtures\win11-enterprise-baremetal-hypervisor-off.dump'
expect 2 "check no-such-scenario (usage)" "$exe" check no-such-scenario
expect 6 "report --from a missing file" "$exe" report --from 'C:\fixtures\missing.dump'
expect 0 "fleet over the fixtures" "$exe" fleet 'C:\fixtures'
win "C:\\portable\\$(basename "$zip" -win_amd64.zip)\\python\\python.exe" -I -c "
import importlib, pkgutil, nestprobe
optional = {'matplotlib', 'tqdm'}  # extras, not in the zip
n = 0
for m in pkgutil.walk_packages(nestprobe.__path__, 'nestprobe.'):
    try:
        importlib.import_module(m.name)
    except ModuleNotFoundError as e:
        if e.name.split('.')[0] not in optional:
            raise
    n += 1
print('portable-stage: the bundled Python imports all', n, 'modules of nestprobe')
"
# The installer step of contrib/ with the real exe: this wine machine is blocked (exit 1).
mkdir -p "$drive/contrib"
sed 's/$/\r/' contrib/windows/installer/wsl2-prereq.cmd > "$drive/contrib/wsl2-prereq.cmd"
NESTPROBE="$exe" DRYRUN=1 \
    expect 1 "contrib wsl2-prereq.cmd with the zip's nestprobe.exe (blocked here)" \
    cmd /c 'C:\contrib\wsl2-prereq.cmd'
expect 0 "nestprobe-dump.exe /?" "C:\\portable\\$(basename "$zip" -win_amd64.zip)\\nestprobe-dump.exe" '/?'

step "the MSI: install per machine, run from PATH, uninstall"
envkey='HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
path_entries() {
    win reg query "$envkey" /v PATH | tr -d '\r' | sed -n 's/.*REG_[A-Z_]*SZ *//p' | tr ';' '\n' \
        | sed '/^$/d' | sort
}
uninstall_keys() {
    win reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s | tr -d '\r' \
        | grep -c 'DisplayName.*nestprobe' || true
}
before_path=$(path_entries)
before_files=$(cd "$drive" && find . -path ./users -prune -o -path ./windows -prune -o -print | sort)
cp "$msi" "$drive/nestprobe.msi"
expect 0 "msiexec /i /qn" msiexec /i 'C:\nestprobe.msi' /qn
installed="$drive/Program Files/nestprobe"
[ -f "$installed/nestprobe.exe" ] || fail "nothing under Program Files\\nestprobe"
[ -f "$installed/python/python.exe" ] || fail "python\\python.exe was not installed"
path_entries | grep -qx 'C:\\Program Files\\nestprobe\\' || fail "PATH does not name the install folder"
[ "$(uninstall_keys)" = 1 ] || fail "no uninstall entry for nestprobe"
code=0
win cmd /c 'nestprobe check wsl2 --ready' >/dev/null || code=$?
case $code in
    0|1|3|4|5|9|10) echo "portable-stage: cmd /c nestprobe check wsl2 --ready (through PATH) -> $code";;
    *) fail "nestprobe through PATH exited $code";;
esac
expect 9 "installed: check hyperv --ready (hypervisor-off fixture)" cmd /c \
    'nestprobe check hyperv --ready -q --from C:\fixtures\win11-enterprise-baremetal-hypervisor-off.dump'
expect 0 "msiexec /x /qn" msiexec /x 'C:\nestprobe.msi' /qn
rm "$drive/nestprobe.msi"
[ ! -e "$installed" ] || fail "Program Files\\nestprobe is still there: $(ls -R "$installed" | head)"
[ "$(path_entries)" = "$before_path" ] || fail "PATH differs after uninstall: $(path_entries)"
[ "$(uninstall_keys)" = 0 ] || fail "the uninstall entry is still there"
after_files=$(cd "$drive" && find . -path ./users -prune -o -path ./windows -prune -o -print | sort)
[ "$after_files" = "$before_files" ] || fail "files left behind: $(diff <(echo "$before_files") <(echo "$after_files") | head)"
echo "portable-stage: uninstalled: no folder, no PATH entry, no uninstall entry, no file left"

step "done"
