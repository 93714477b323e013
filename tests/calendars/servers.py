"""Real CalDAV servers for the tests, each on a free port with throwaway storage: Radicale (with a plain
htpasswd file, so a wrong password is refused) and Xandikos (one user, no login). Both come from the
package registry."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import caldav


@dataclass(frozen=True)
class Server:
    kind: str
    base: str  # the server's root
    home: str  # where the user's calendars live (a new calendar goes under it)
    login: str
    password: str

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.base, username=self.login or None, password=self.password or None)

    def new_calendar(self, name: str) -> caldav.Calendar:
        """A new, empty calendar; its URL is what a seller would connect."""
        with self.client() as client:
            return client.principal().make_calendar(name=name, cal_id=name.lower().replace(" ", "-"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {process.stdout.read() if process.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start on port {port}")


@contextmanager
def _running(command: list[str], port: int, what: str) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait(port, process, what)
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # stuck in a request: stopped all the same
            process.kill()
            process.wait(10)


@contextmanager
def radicale(tmp: Path) -> Iterator[Server]:
    port = free_port()
    (tmp / "users").write_text("alice:secret\n")
    with _running([sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
                   "--storage-filesystem-folder", str(tmp / "collections"), "--auth-type", "htpasswd",
                   "--auth-htpasswd-filename", str(tmp / "users"), "--auth-htpasswd-encryption", "plain",
                   "--logging-level", "warning"], port, "Radicale"):
        yield Server("radicale", f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/alice/", "alice", "secret")


@contextmanager
def xandikos(tmp: Path) -> Iterator[Server]:
    port = free_port()
    with _running([str(Path(sys.executable).with_name("xandikos")), "serve", "--defaults", "-d", str(tmp / "dav"),
                   "-l", "127.0.0.1", "-p", str(port), "--current-user-principal", "/user/", "--no-detect-systemd"],
                  port, "Xandikos"):
        yield Server("xandikos", f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/user/calendars/", "", "")


SERVERS = {"radicale": radicale, "xandikos": xandikos}
