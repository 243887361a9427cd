"""Real daemons for the fleet tests: an sshd and a node_exporter on loopback, each on a
free port, with everything they need in a temporary directory, killed in teardown.

Debian's packages provide them (.ci/fleet-setup.sh installs openssh-server and
prometheus-node-exporter); without them the tests skip with the reason.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"  # sshd refuses to start unless given by absolute path
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
CMD_TIMEOUT_S = 30
SETUP_HINT = "run .ci/fleet-setup.sh as root"


def free_port() -> int:
    """A port nobody listens on now; the daemon binds it right after (a small race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)


def _wait_for(proc: subprocess.Popen[bytes], ready: object, what: str, log: Path) -> None:
    """Poll ``ready()`` until it is true; fail with the daemon's log if it dies or hangs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}: {log.read_text()[-2000:]}")
        if callable(ready) and ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {START_TIMEOUT_S} s: {log.read_text()[-2000:]}")


@dataclass(frozen=True, slots=True)
class Sshd:
    port: int
    user: str
    identity: Path  # the client's private key
    known_hosts: Path  # holds this sshd's host key: host keys are checked for real


def _ssh_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def sshd_missing() -> str | None:
    if not os.path.exists(SSHD):
        return f"{SSHD} not found (openssh-server; {SETUP_HINT})"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return f"ssh / ssh-keygen not found (openssh-client; {SETUP_HINT})"
    return None


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nestprobe-test",
                    "-f", str(path)], check=True, capture_output=True, timeout=CMD_TIMEOUT_S)
    return Path(f"{path}.pub").read_text().strip()


@contextmanager
def sshd(tmp: Path) -> Iterator[Sshd]:
    """An sshd on 127.0.0.1:<free port> that lets this user in with a fresh key only."""
    user = getpass.getuser()
    tmp.mkdir(parents=True, exist_ok=True)
    host_pub = _keygen(tmp / "host_ed25519.key")
    (tmp / "authorized_keys").write_text(_keygen(tmp / "id_ed25519.key") + "\n")
    port = free_port()
    (tmp / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    config = tmp / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {tmp / 'host_ed25519.key'}",
        f"PidFile {tmp / 'sshd.pid'}",
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}",
        f"AllowUsers {user}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",  # the temp dir's permissions are pytest's, not ~/.ssh's
        "Subsystem sftp internal-sftp",
        "MaxStartups 50",
        "MaxSessions 50",
        "LogLevel VERBOSE",
        "",
    ]))
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755)  # sshd's privilege-separation directory
    check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True,
                           timeout=CMD_TIMEOUT_S, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"sshd -t: {check.stderr}")
    log = tmp / "sshd.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=sink,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for(proc, lambda: _ssh_banner(port), "sshd", log)
        yield Sshd(port, user, tmp / "id_ed25519.key", tmp / "known_hosts")
    finally:
        _stop(proc)


def node_exporter_missing() -> str | None:
    if not os.path.exists(NODE_EXPORTER):
        return f"{NODE_EXPORTER} not found (prometheus-node-exporter; {SETUP_HINT})"
    return None


#: No proxy for loopback, whatever http_proxy says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def scrape(url: str) -> str:
    with _OPENER.open(url, timeout=10) as response:
        body: bytes = response.read()
        return body.decode("utf-8")


def _serving(url: str) -> bool:
    try:
        scrape(url)
    except OSError:
        return False
    return True


@contextmanager
def node_exporter(textfile_dir: Path, log: Path) -> Iterator[str]:
    """node_exporter with only the textfile collector, on loopback; yields its metrics URL."""
    port = free_port()
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
             f"--collector.textfile.directory={textfile_dir}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        _wait_for(proc, lambda: _serving(url), "node_exporter", log)
        yield url
    finally:
        _stop(proc)


PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS_HINT = "run .ci/perf-setup.sh as root (Debian's prometheus package)"


def prometheus_missing() -> str | None:
    for tool in (PROMETHEUS, PROMTOOL):
        if not os.path.exists(tool):
            return f"{tool} not found (prometheus; {PROMETHEUS_HINT})"
    return None


@contextmanager
def prometheus(tmp: Path, targets: list[str], rule_files: list[Path],
               interval_s: int = 1) -> Iterator[str]:
    """A Prometheus server on 127.0.0.1:<free port> scraping ``targets`` (host:port) and
    evaluating ``rule_files`` every ``interval_s``, with its data in ``tmp``; yields its
    base URL."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "prometheus.yml"
    config.write_text("\n".join([
        "global:",
        f"  scrape_interval: {interval_s}s",
        f"  evaluation_interval: {interval_s}s",
        "rule_files:",
        *[f"  - {path}" for path in rule_files],
        "scrape_configs:",
        "  - job_name: node",
        "    static_configs:",
        f"      - targets: [{', '.join(targets)}]",
        "",
    ]))
    port = free_port()
    log = tmp / "prometheus.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(proc, lambda: _serving(f"{url}/-/ready"), "prometheus", log)
        yield url
    finally:
        _stop(proc)
