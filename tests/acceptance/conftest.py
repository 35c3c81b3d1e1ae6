"""Starts the real `easd serve` on free loopback ports with a temporary data dir."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

EASD = os.environ.get("EASD_BIN") or str(Path(__file__).resolve().parents[2] / "target" / "release" / "easd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"easd exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


@dataclass
class Easd:
    data: Path
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    extra_config: str = ""

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def eas_url(self) -> str:
        return f"{self.http}/Microsoft-Server-ActiveSync"

    @property
    def cert(self) -> Path:
        return self.data / "tls" / "cert.pem"

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [EASD, "--data", str(self.data), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    def add_user(self, email: str, password: str) -> None:
        self.cli("user", "add", email, "--password-stdin", input=password + "\n")

    def start(self) -> None:
        (self.data / "easd.toml").write_text(
            f'http_listen = "127.0.0.1:{self.http_port}"\n'
            f'https_listen = "127.0.0.1:{self.https_port}"\n'
            f'lmtp_listen = "127.0.0.1:{self.lmtp_port}"\n'
            f'smtp_listen = "127.0.0.1:{self.smtp_port}"\n'
            f'admin_listen = "127.0.0.1:{self.admin_port}"\n'
            f'access_log = "file"\n' + self.extra_config
        )
        log = open(self.data / "server.log", "ab")
        self.proc = subprocess.Popen(
            [EASD, "--data", str(self.data), "serve"], stdout=log, stderr=subprocess.STDOUT
        )
        wait_port(self.http_port, self.proc)
        wait_port(self.https_port, self.proc)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.proc = None

    def access_log(self) -> str:
        p = self.data / "access.log"
        return p.read_text() if p.exists() else ""


@pytest.fixture(scope="session")
def easd():
    yield from server_of_its_own("easd-acc-", {"alice@example.com": "alice-pw", "bob@example.com": "bob-pw"})


def server_of_its_own(prefix: str, users: dict[str, str], extra_config: str = "", stop_signal: int = signal.SIGTERM):
    """A generator for a fixture: a server with its own data dir and `users`, removed after."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    server = Easd(data=d, extra_config=extra_config)
    for user, password in users.items():
        server.add_user(user, password)
    server.start()
    yield server
    if server.proc is not None:
        server.stop(stop_signal)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture()
def fresh_easd():
    """A server of its own, for tests that kill or restart it."""
    yield from server_of_its_own("easd-own-", {"carol@example.com": "carol-pw"}, stop_signal=signal.SIGKILL)
