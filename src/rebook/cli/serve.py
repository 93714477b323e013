"""rebook serve: the web app under gunicorn, with one outbox worker beside it."""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import click

from rebook.cli import cli
from rebook.cli.base import fail, setup_django
from rebook.errors import RebookError


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Web worker processes.")
@click.option("--no-worker", is_flag=True, help="Do not start an outbox worker (run `rebook worker` elsewhere).")
def serve_command(host, port, workers, no_worker) -> None:
    """Run the web app at http://HOST:PORT (default `127.0.0.1:8000`; `--host 0.0.0.0` listens on every interface) with
    gunicorn and `--workers` web processes (default 2), plus one `rebook worker` (`--no-worker` leaves sending,
    imports and webhooks to a worker you run elsewhere). When nobody can sign in yet, it asks for a password on the
    terminal first (or, without a terminal, says how to create an account). Ctrl-C or SIGTERM stop both.
    """
    # Links in mail and on pages point where this server answers, unless REBOOK_BASE_URL says otherwise (a
    # proxy in front): set before Django reads its settings, so the web processes and the worker agree.
    chosen = os.environ.get("REBOOK_BASE_URL", "").strip()
    if not chosen:
        os.environ["REBOOK_BASE_URL"] = serving_url(host, port)
    try:
        setup_django()
        from django.conf import settings

        username = _ensure_account()
        _ensure_profile(username)
        if not chosen:
            remember_url(settings.REBOOK_BASE_URL)
    except RebookError as e:
        fail(str(e))
        return
    outbox_worker = None
    if no_worker:
        click.echo("Not starting an outbox worker (--no-worker).")
    else:
        if settings.EMAIL_BACKEND.endswith("NotConfiguredBackend"):
            click.echo("REBOOK_SMTP_URL is not set: messages are planned and reviewed, but nothing is sent.")
        # The worker also runs uploaded imports and webhooks, so it runs with or without mail.
        outbox_worker = Supervised([sys.executable, "-m", "rebook", "worker"], "the worker").start()
    click.echo(f"Rebook is running at http://{host}:{port}/ (sign in as {username}). Stop it with Ctrl-C.")
    click.echo(f"Links in mail point to {settings.REBOOK_BASE_URL}/" + (
        "" if chosen else " (behind a proxy, or for another address, set REBOOK_BASE_URL)."))
    try:
        _run_gunicorn({"bind": f"{host}:{port}", "workers": workers})
    finally:
        if outbox_worker is not None:
            outbox_worker.stop()


class Supervised:
    """A child process started again whenever it dies, with why in the log (its exit status or the signal that
    ended it), after a pause that grows while it keeps dying at once: one bad night must not leave a team
    without its worker until somebody notices."""

    QUICKLY = 60.0  # seconds: a child that dies sooner than this waits longer before its next start
    MAX_PAUSE = 60.0

    def __init__(self, argv: list[str], name: str, *, say=None) -> None:
        self.argv, self.name = argv, name
        self.say = say or (lambda text: click.echo(f"[{time.strftime('%Y-%m-%d %H:%M:%S %z')}] rebook serve: {text}",
                                                   err=True))
        self.stopping = threading.Event()
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> Supervised:
        self.process = subprocess.Popen(self.argv)
        threading.Thread(target=self._watch, name=f"supervise {self.name}", daemon=True).start()
        return self

    def _watch(self) -> None:
        pause = 1.0
        while True:
            started = time.monotonic()
            code = self.process.wait()
            if self.stopping.is_set():
                return
            if code == 0:
                # The worker ends cleanly only when asked to (SIGTERM or Ctrl-C): a Ctrl-C on the terminal, or a
                # SIGTERM to serve's process group, reaches it before serve itself has stopped. Starting it
                # again would leave a fresh worker running through serve's own shutdown.
                self.say(f"{self.name} stopped when asked (pid {self.process.pid}); not started again")
                return
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            pause = 1.0 if time.monotonic() - started > self.QUICKLY else min(pause * 2, self.MAX_PAUSE)
            self.say(f"{self.name} {how} (pid {self.process.pid}); starting it again in {pause:.0f} s")
            if self.stopping.wait(pause):
                return
            self.process = subprocess.Popen(self.argv)
            self.restarts += 1
            if self.stopping.is_set():  # stop() came while it started: it must not outlive us
                self._end(self.process)
                return

    def stop(self) -> None:
        self.stopping.set()
        if self.process is not None:
            self._end(self.process)

    @staticmethod
    def _end(process: subprocess.Popen) -> None:
        process.terminate()  # SIGTERM: the worker finishes the message in hand
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def serving_url(host: str, port: int) -> str:
    """The address a prospect's browser can use for a server bound to host:port: a wildcard address is no
    address, so the machine's name stands in for it."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.getfqdn() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def remember_url(url: str) -> None:
    """Keep the address in REBOOK_HOME, for the commands run beside the server (`rebook appt links`)."""
    from django.conf import settings

    with contextlib.suppress(OSError):  # a read-only home: the links of other commands keep their default
        (settings.REBOOK_HOME / settings.BASE_URL_FILE).write_text(url + "\n")


def _ensure_account() -> str:
    """Someone must be able to sign in; on the first start, ask for an account on the terminal."""
    from django.contrib.auth import get_user_model

    from rebook.sellers.models import Seller
    from rebook.sellers.services import seller_create, seller_set_password

    ready = [u for u in get_user_model().objects.filter(seller__isnull=False).order_by("id") if u.has_usable_password()]
    if ready:
        return ready[0].get_username()
    existing = Seller.objects.select_related("user").order_by("id").first()
    if not _interactive():
        how = f"rebook user password {existing.username}" if existing else "rebook user add USERNAME"
        raise RebookError(f"no account can sign in yet; give one a password first: REBOOK_PASSWORD=... {how}")
    demo, first_run = False, existing is None
    if first_run:  # an empty Rebook
        click.echo("This Rebook is empty. Load the demo (four months of one seller's leads and meetings, to look "
                   "around), or start clean with your own?")
        demo = click.prompt("demo or clean", type=click.Choice(["demo", "clean"]), default="clean") == "demo"
    click.echo("No account can sign in yet. Choose a password" + (f" for {existing.username}." if existing else "."))
    username = existing.username if existing else click.prompt("User name", default=getpass.getuser())
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            if existing:
                seller_set_password(seller=existing, password=password)
            else:
                existing = seller_create(username=username, password=password)
        except RebookError as e:
            click.echo(str(e))
            continue
        break
    if first_run:
        _first_run_zone(existing)
    if demo:
        from django.utils import timezone

        from rebook.demo import load_demo

        summary = load_demo(seller=existing, now=timezone.now())
        click.echo(f"Loaded the demo: {summary['leads']} leads, {summary['appointments']} meetings.")
    return username


def _first_run_zone(seller) -> None:
    """Times are shown in the seller's zone: ask for it on the first run, the machine's offered."""
    from rebook.sellers.services import default_timezone, seller_update

    while True:
        name = click.prompt("Your time zone", default=seller.timezone or default_timezone())
        try:
            seller_update(seller=seller, timezone_name=name)
        except RebookError as e:
            click.echo(str(e))
            continue
        return


def _ensure_profile(username: str) -> None:
    """Prospects see the seller's name and write to their address: on a start with neither, ask for them on the
    terminal, or say how to set them."""
    from rebook.errors import RebookError
    from rebook.sellers.models import Seller
    from rebook.sellers.services import seller_update

    seller = Seller.objects.select_related("user").filter(user__username=username).first()
    if seller is None or (seller.display_name and seller.email):
        return
    if not _interactive():
        click.echo(f"Prospects see you as {seller.name!r}{' with no address to write to' if not seller.email else ''}; "
                   "set your name and e-mail with: rebook init --name NAME --email ADDRESS", err=True)
        return
    click.echo("Prospects see your name on their pages and in your mails, and write to your address.")
    while True:
        name = seller.display_name or click.prompt("Your name, as prospects see it")
        email = seller.email or click.prompt("Your e-mail address")
        try:
            seller_update(seller=seller, display_name=name, email=None if seller.email else email)
        except RebookError as e:
            click.echo(str(e))
            continue
        return


def _interactive() -> bool:
    return sys.stdin.isatty()


def _run_gunicorn(options: dict) -> None:
    from gunicorn.app.base import BaseApplication  # imported here: only `serve` needs it

    class Rebook(BaseApplication):
        def load_config(self) -> None:
            config = {
                "worker_class": "gthread",
                "threads": 4,
                "timeout": 60,
                # A browser's connection idle between two clicks is kept 5 s: with gunicorn's 2 s, it was closed
                # just as a client reused it, and that request failed (seen in bench/load.py).
                "keepalive": 5,
                "graceful_timeout": 20,
                "accesslog": "-",
                "errorlog": "-",
                "proc_name": "rebook",
                **options,
            }
            if "control_socket_disable" in self.cfg.settings:
                config["control_socket_disable"] = True  # no socket in the user's home; `rebook serve` is the control
            for key, value in config.items():
                self.cfg.set(key, value)

        def load(self):
            from rebook.wsgi import application

            return application

    Rebook().run()
