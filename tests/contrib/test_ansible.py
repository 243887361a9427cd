"""The Ansible playbook (contrib/ansible) against real hosts over real SSH.

The hosts are this machine, reached through an sshd the test starts on 127.0.0.1 under
several inventory names: two collect with the static dumper and have no usable Python
(``ansible_python_interpreter`` points nowhere, so any module that needs Python on the
host fails the run), one runs ``nestprobe --json``. The test checks that every host's
result arrives, that it says what this machine's own probe says, and that the fleet
summary counts every host. The QEMU lab's guests are not used: their busybox initramfs
has no sshd (they talk over the serial console only).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import services
from conftest import REPO

PLAYBOOK = REPO / "contrib" / "ansible" / "nestprobe.yml"
METRICS_PLAYBOOK = REPO / "contrib" / "ansible" / "nestprobe-metrics.yml"
ROLE = REPO / "contrib" / "ansible" / "roles" / "nestprobe"
PLAYBOOK_TIMEOUT_S = 300
DUMPER_HOSTS = ("fleet-a", "fleet-b")
JSON_HOST = "fleet-c"

yaml = pytest.importorskip("yaml", reason="PyYAML comes with ansible-core (test extra)")


def _ansible_playbook() -> str:
    found = shutil.which("ansible-playbook", path=os.path.dirname(sys.executable))
    found = found or shutil.which("ansible-playbook")
    if found is None:
        pytest.skip("ansible-playbook not found (pip install -e '.[test]' installs ansible-core)")
    return found


@pytest.fixture(scope="module")
def dumper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static nestprobe-dump, built from a copy of csrc/ (the tree stays untouched)."""
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("make or cc not found (gcc make libc6-dev; .ci/lab-setup.sh)")
    src = tmp_path_factory.mktemp("dumper") / "csrc"
    shutil.copytree(REPO / "csrc", src,
                    ignore=shutil.ignore_patterns("nestprobe-dump", "*.o", "*.so"))
    build = subprocess.run(["make", "-C", str(src), "nestprobe-dump", "STATIC=1"],
                           capture_output=True, text=True, timeout=120, check=False)
    assert build.returncode == 0, build.stderr
    return src / "nestprobe-dump"


@pytest.fixture(scope="module")
def ssh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Sshd]:
    reason = services.sshd_missing()
    if reason is not None:
        pytest.skip(reason)
    with services.sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def _inventory(tmp: Path, ssh: services.Sshd, extra: tuple[str, ...] = ()) -> Path:
    ssh_args = (f"-o UserKnownHostsFile={ssh.known_hosts} -o StrictHostKeyChecking=yes "
                "-o ControlMaster=no -o BatchMode=yes -o ConnectTimeout=10")
    nestprobe = f"{sys.executable} -m nestprobe"
    no_python = "ansible_python_interpreter=/nonexistent/python"
    a, b = DUMPER_HOSTS
    lines = [
        "[fleet]",
        f"{a} {no_python} nestprobe_mode=dump",
        # auto: nestprobe is not on this host (command -v fails), so the dumper runs
        f"{b} {no_python} nestprobe_mode=auto nestprobe_command=/nonexistent/nestprobe",
        # auto: nestprobe is there, so its JSON report comes back
        f"{JSON_HOST} nestprobe_mode=auto nestprobe_command='{nestprobe}'",
        *extra,
        "",
        "[fleet:vars]",
        "ansible_host=127.0.0.1",
        f"ansible_port={ssh.port}",
        f"ansible_user={ssh.user}",
        f"ansible_ssh_private_key_file={ssh.identity}",
        f"ansible_ssh_common_args='{ssh_args}'",
        f"ansible_remote_tmp={tmp / 'remote-tmp'}",
        "",
    ]
    path = tmp / "inventory.ini"
    path.write_text("\n".join(lines))
    return path


def _play(tmp: Path, ssh: services.Sshd, dumper: Path, hosts: tuple[str, ...] = (),
          playbook: Path = PLAYBOOK,
          **extra: str) -> subprocess.CompletedProcess[str]:
    variables = {
        "nestprobe_results": str(tmp / "results"),
        "nestprobe_dump_binary": str(dumper),
        "nestprobe_build_dumper": False,
        "nestprobe_fleet_command": f"{sys.executable} -m nestprobe",
        **extra,
    }
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(tmp / "ansible-home"),  # nothing written to ~/.ansible
        "ANSIBLE_LOCAL_TEMP": str(tmp / "local-tmp"),
        # Tasks delegated to localhost use localhost's remote tmp, not the hosts' one.
        "ANSIBLE_REMOTE_TEMP": str(tmp / "remote-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",  # no ssh master left behind
        "ANSIBLE_CONFIG": str(tmp / "no-ansible.cfg"),
    }
    cmd = [_ansible_playbook(), "-i", str(_inventory(tmp, ssh, hosts)), str(playbook),
           "-e", json.dumps(variables)]
    # Its own process group: on a timeout its workers and ssh clients go too.
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=PLAYBOOK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"ansible-playbook still running after {PLAYBOOK_TIMEOUT_S} s:\n{out[-4000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_every_host_result_arrives_and_is_counted(
    tmp_path: Path, ssh: services.Sshd, dumper: Path
) -> None:
    import nestprobe

    run = _play(tmp_path, ssh, dumper)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    results = tmp_path / "results"
    machines = results / "machines"
    expected = {f"{h}.dump" for h in DUMPER_HOSTS} | {f"{JSON_HOST}.json"}
    assert {p.name for p in machines.iterdir()} == expected

    # The dumps come from the static C dumper, with the host name it was asked for.
    hostname = Path("/proc/sys/kernel/hostname").read_text().strip()
    for host in DUMPER_HOSTS:
        text = (machines / f"{host}.dump").read_text()
        assert "\nwriter nestprobe-dump-c\n" in text
        assert "\r" not in text  # no tty: the dump arrives byte for byte
        assert nestprobe.load(str(machines / f"{host}.dump")).snapshot.os.text(
            "/proc/sys/kernel/hostname").strip() == hostname

    # Every host is counted once, under its inventory name, and says what this machine says.
    local = nestprobe.probe(timing=False).assessment
    records = [json.loads(line) for line in (results / "fleet.jsonl").read_text().splitlines()]
    assert sorted(r["machine"] for r in records) == sorted((*DUMPER_HOSTS, JSON_HOST))
    for record in records:
        assert "error" not in record, record
        assert record["cpu"]["vendor"] == local.cpu.vendor
        assert record["hypervisor"]["vendor"] == local.hypervisor.vendor
        assert record["virtualization"]["exposed"] == local.virtualization.exposed
        dumped = record["machine"] in DUMPER_HOSTS
        assert record["hostname"] == (hostname if dumped else None)
        assert record["source"]["kind"] == ("dump" if dumped else "live")

    summary = (results / "summary.txt").read_text()
    assert summary.startswith("nestprobe fleet: 3 machines assessed\n")
    for row in summary.splitlines()[3:8]:  # each scenario's counts add up to the 3 hosts
        assert sum(int(n) for n in row.split()[1:]) == 3, row
    csv_rows = (results / "fleet.csv").read_text().splitlines()
    assert len(csv_rows) == 4
    assert "nestprobe fleet: 3 machines assessed" in run.stdout  # the play shows the summary


def test_a_requirement_falls_short_fails_the_play(
    tmp_path: Path, ssh: services.Sshd, dumper: Path
) -> None:
    import nestprobe

    status = nestprobe.probe(timing=False).verdicts["hyperv"].status
    other = "blocked" if status != "blocked" else "supported"
    # One host is enough here (nestprobe_hosts limits the collecting play).
    run = _play(tmp_path, ssh, dumper, nestprobe_fleet_args=f"--require hyperv={other}",
                nestprobe_hosts=DUMPER_HOSTS[0])
    assert run.returncode != 0
    assert f"1 of 1 machines fall short of --require hyperv={other}" in run.stdout
    assert len((tmp_path / "results" / "fleet.jsonl").read_text().splitlines()) == 1


#: A host nothing answers on (port 1 refuses at once), and one whose collection fails.
UNREACHABLE = "fleet-down"
FAILING = "fleet-fails"


def test_a_host_without_a_result_is_listed_and_fails_require(
    tmp_path: Path, ssh: services.Sshd, dumper: Path
) -> None:
    """Issue 22.13: an unreachable or failed host must not vanish from the summary, and
    must fail --require (it proves nothing), like any unreadable input."""
    status = "supported,evaluation-only,unsupported,blocked,unknown"  # any machine meets it
    hosts = (f"{UNREACHABLE} ansible_port=1",
             f"{FAILING} nestprobe_mode=json nestprobe_command=/bin/false")
    run = _play(tmp_path, ssh, dumper, hosts, nestprobe_fleet_args=f"--require hyperv={status}",
                nestprobe_hosts=f"{DUMPER_HOSTS[0]}:{UNREACHABLE}:{FAILING}")
    assert run.returncode != 0
    summary = (tmp_path / "results" / "summary.txt").read_text()
    assert summary.startswith("nestprobe fleet: 1 machine assessed, 2 inputs unreadable\n")
    unread = summary.split("Could not read (2):\n", 1)[1]
    for host in (UNREACHABLE, FAILING):
        assert f"{host}.dump" in unread, summary
    assert "host unreachable or its collection failed" in " ".join(unread.split())
    assert f"2 of 3 machines fall short of --require hyperv={status}" in run.stdout
    errors = [json.loads(line) for line in
              (tmp_path / "results" / "fleet.jsonl").read_text().splitlines()]
    assert sorted(r["machine"] for r in errors if "error" in r) == sorted([FAILING, UNREACHABLE])


@pytest.mark.parametrize("playbook", [PLAYBOOK, METRICS_PLAYBOOK], ids=lambda p: p.name)
def test_playbook_syntax(tmp_path: Path, playbook: Path) -> None:
    check = subprocess.run(
        [_ansible_playbook(), "--syntax-check", "-i", "localhost,", str(playbook)],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOME": str(tmp_path / "home"),
             "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")},
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_role_dumps_the_files_the_report_reads() -> None:
    """The dumper is told every OS file the probe reads, except PID 1's environment (whole,
    secrets included, from the C dumper), plus the host name."""
    from nestprobe.sources.osfacts import ENVIRON_PATH, WATCHED_PATHS

    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    wanted = [p for p in WATCHED_PATHS if p != ENVIRON_PATH] + ["/proc/sys/kernel/hostname"]
    assert defaults["nestprobe_dump_files"] == wanted
    # The Windows tasks cannot run here; they must at least parse.
    for tasks in (ROLE / "tasks").glob("*.yml"):
        assert isinstance(yaml.safe_load(tasks.read_text()), list), tasks


def test_metrics_timer_is_installed_and_its_command_writes_the_textfile(
    tmp_path: Path, ssh: services.Sshd, dumper: Path
) -> None:
    """nestprobe-metrics.yml on a host (over SSH): the service and timer units land in the
    systemd directory, and the service's own ExecStart writes a textfile node_exporter
    serves. systemd itself does not run here: the units are checked by systemd-analyze
    verify where it is installed, and the timer is not started (nestprobe_metrics_start)."""
    import shlex

    textfiles = tmp_path / "textfile"
    units = tmp_path / "systemd"
    units.mkdir()
    run = _play(tmp_path, ssh, dumper, playbook=METRICS_PLAYBOOK, nestprobe_hosts=JSON_HOST,
                nestprobe_metrics_dir=str(textfiles), nestprobe_systemd_dir=str(units),
                nestprobe_metrics_start="false",
                # the modules need Python on the host: this one (pyenv's shims mislead
                # interpreter discovery here)
                ansible_python_interpreter=sys.executable)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    service = (units / "nestprobe-metrics.service").read_text()
    timer = (units / "nestprobe-metrics.timer").read_text()
    assert "OnCalendar=hourly\n" in timer
    assert "WantedBy=timers.target" in timer
    assert f"ReadWritePaths={textfiles}\n" in service
    prom = textfiles / "nestprobe.prom"
    first = prom.read_text()  # written once by the play
    assert "nestprobe_verdict{" in first
    assert sorted(p.name for p in textfiles.iterdir()) == ["nestprobe.prom"]  # no temp left

    # The unit's ExecStart, run as systemd would (its quoting is the shell's for this line).
    [exec_start] = [line.split("=", 1)[1] for line in service.splitlines()
                    if line.startswith("ExecStart=")]
    prom.unlink()
    done = subprocess.run(shlex.split(exec_start), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    parser = pytest.importorskip("prometheus_client.parser")
    families = {f.name for f in parser.text_string_to_metric_families(prom.read_text())}
    assert {"nestprobe_verdict", "nestprobe_fix_needed", "nestprobe_info"} <= families

    verify = shutil.which("systemd-analyze")
    if verify is not None:
        checked = subprocess.run([verify, "verify", "--man=no",
                                  str(units / "nestprobe-metrics.service"),
                                  str(units / "nestprobe-metrics.timer")],
                                 capture_output=True, text=True, timeout=60, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    reason = services.node_exporter_missing()
    if reason is None:
        with services.node_exporter(textfiles, tmp_path / "node_exporter.log") as url:
            served = services.scrape(url)
        assert "node_textfile_scrape_error 0" in served
        assert 'nestprobe_verdict{scenario="wsl2"' in served


def test_windows_metrics_tasks_register_a_scheduled_task() -> None:
    """Not run (no Windows host in CI): the tasks parse and say what they do."""
    tasks = yaml.safe_load((ROLE / "tasks" / "metrics_windows.yml").read_text())
    modules = [next(k for k in t if k.startswith("ansible.")) for t in tasks]
    assert modules == ["ansible.windows.win_file", "ansible.windows.win_powershell",
                       "ansible.windows.win_powershell"]
    script = tasks[1]["ansible.windows.win_powershell"]["script"]
    assert "Register-ScheduledTask -TaskName 'nestprobe-metrics'" in script
    assert "report --format prometheus" in script
    assert "move /y" in script  # written under another name, then renamed
