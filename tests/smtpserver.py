"""A real SMTP server on loopback (aiosmtpd), recording what it receives and answering as scripted."""

from __future__ import annotations

import email
import email.policy
import functools
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    raw: bytes

    @functools.cached_property
    def message(self) -> EmailMessage:
        # Parsed when a test reads it, not while the client waits for the 250: a sink must not be slow.
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    # Answers to give to the next DATA commands, e.g. "451 4.7.1 Try again later"; then 250.
    script: list[str] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        with self.lock:
            if self.script:
                return self.script.pop(0)
            raw = envelope.original_content or envelope.content
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 Message accepted"


class SMTPServer:
    def __init__(self) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.handler.received]

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
