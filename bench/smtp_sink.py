"""A local SMTP server for the worker benchmark: accepts everything and writes one line per message
(arrival time, X-Rebook-Message, Message-ID) to a file.   python bench/smtp_sink.py PORT FILE"""

from __future__ import annotations

import signal
import sys
import time
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out) -> None:
        self.out = out
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope):
        headers = self.parser.parsebytes(envelope.content)
        self.out.write(f"{time.time():.6f}\t{headers.get('X-Rebook-Message', '')}\t{headers.get('Message-ID', '')}\n")
        self.out.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "w") as out:
        controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
        controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
