"""A real IMAP server for the tests: Debian's Dovecot, started on a free port with a throwaway
configuration, users and maildirs, and stopped afterwards."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, users: dict[str, str]):
        self.users = users
        self.root = Path(tempfile.mkdtemp(prefix="rebook-dovecot-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Dovecot:
        # Dovecot will not keep mail as root: the maildirs belong to an ordinary user.
        uid, gid = (os.getuid(), os.getgid()) if os.getuid() else pwd.getpwnam("dovecot")[2:4]
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        os.chmod(self.root, 0o755)
        os.chown(self.root / "home", uid, gid)
        (self.root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        (self.root / "dovecot.conf").write_text(CONFIG.format(root=self.root, uid=uid, gid=gid, port=self.port))
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"dovecot did not start: {self.log()}") from None
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def url(self, user: str, folder: str = "INBOX") -> str:
        return f"imap://{user}:{self.users[user]}@127.0.0.1:{self.port}/{folder}"

    def client(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(user, self.users[user])
        return imap

    def append(self, user: str, raw: bytes, folder: str = "INBOX", when: float | None = None) -> None:
        imap = self.client(user)
        try:
            date = imaplib.Time2Internaldate(when if when is not None else time.time())
            status, _ = imap.append(folder, None, date, raw)
            assert status == "OK"
        finally:
            imap.logout()

    def flags(self, user: str, folder: str = "INBOX") -> list[bytes]:
        imap = self.client(user)
        try:
            imap.select(folder, readonly=True)
            _, data = imap.fetch("1:*", "(FLAGS)")
            return [d for d in data if d]
        finally:
            imap.logout()
