"""`rebook serve`: a real server in a child process, and the first start that asks for an account."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request

import pytest

from rebook.cli import serve as serve_module
from tests.clirunner import Rebook
from tests.conftest import child_env, rebook_executable
from tests.smtpserver import free_port
from tests.web.conftest import PASSWORD


@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_serve_answers_pages_and_static_files_and_stops_cleanly(tmp_path):
    env = child_env(tmp_path, REBOOK_PASSWORD=PASSWORD)
    subprocess.run([rebook_executable(), "user", "add", "sam", "--timezone", "Europe/Berlin"], env=env, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen([rebook_executable(), "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        assert page.status == 200 and b"Sign in" in page.read()
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        css = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/rebook/app.css", timeout=5)
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert "Rebook is running at http://127.0.0.1:" in out and "sign in as sam" in out
    assert "REBOOK_SMTP_URL is not set" in out  # so no outbox worker was started


@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_links_point_where_serve_answers_on_any_port(tmp_path):
    """`rebook serve --port P`: the links in mail, on the pages and from `rebook appt links` in another terminal
    all point to port P, and open the prospect's page there."""
    import json

    env = child_env(tmp_path, REBOOK_PASSWORD=PASSWORD, REBOOK_USER="sam")

    def rebook(*args):
        return subprocess.run([rebook_executable(), *args], env=env, check=True, capture_output=True, text=True).stdout

    rebook("user", "add", "sam", "--timezone", "Europe/Berlin")
    lead = json.loads(rebook("lead", "add", "Dana Reyes", "--email", "dana@example.com", "--json"))
    appt = rebook("appt", "book", str(lead["id"]), "--at", "in 3 days 10am").strip()
    port = free_port()
    server = subprocess.Popen([rebook_executable(), "serve", "--port", str(port), "--no-worker"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        manage = json.loads(rebook("appt", "links", appt, "--json"))["manage"]
        assert manage.startswith(f"http://127.0.0.1:{port}/p/"), manage
        page = urllib.request.urlopen(manage, timeout=5)
        assert page.status == 200 and b"Dana" in page.read()
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert f"Links in mail point to http://127.0.0.1:{port}/" in out
    # A REBOOK_BASE_URL (a proxy in front) wins over the port.
    env["REBOOK_BASE_URL"] = "https://rebook.example.com"
    assert json.loads(rebook("appt", "links", appt, "--json"))["manage"].startswith("https://rebook.example.com/p/")


def test_a_server_on_every_interface_gives_links_by_the_machines_name():
    import socket

    assert serve_module.serving_url("0.0.0.0", 8080) == f"http://{socket.getfqdn()}:8080"
    assert serve_module.serving_url("127.0.0.1", 45463) == "http://127.0.0.1:45463"
    assert serve_module.serving_url("::1", 9000) == "http://[::1]:9000"


def test_the_first_start_asks_for_a_password_on_the_terminal(alice, monkeypatch):
    monkeypatch.setenv("REBOOK_BASE_URL", "http://127.0.0.1:8000")  # as if given: nothing kept in the home
    started = []
    monkeypatch.setattr(serve_module, "_run_gunicorn", lambda options: started.append(options))
    monkeypatch.setattr(serve_module, "_interactive", lambda: True)
    result = Rebook().runner.invoke(serve_module.serve_command, ["--port", "8123", "--no-worker"],
                                    input=f"short\nshort\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "No account can sign in yet. Choose a password for alice." in result.output
    assert "This password is too short" in result.output  # refused, asked again
    alice.user.refresh_from_db()
    assert alice.user.check_password(PASSWORD)
    assert started == [{"bind": "127.0.0.1:8123", "workers": 2}]


def test_without_a_terminal_serve_says_how_to_create_an_account(alice, monkeypatch):
    monkeypatch.setenv("REBOOK_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(serve_module, "_run_gunicorn", lambda options: pytest.fail("must not start"))
    monkeypatch.setattr(serve_module, "_interactive", lambda: False)
    result = Rebook().runner.invoke(serve_module.serve_command, [])
    assert result.exit_code == 1
    assert "no account can sign in yet; give one a password first: REBOOK_PASSWORD=... rebook user password alice" in result.stderr


def test_a_forgotten_password_is_reset_from_the_command_line(alice, monkeypatch):
    monkeypatch.setenv("REBOOK_PASSWORD", PASSWORD)
    assert Rebook()("user", "password", "alice").stdout.strip() == "Set the password of alice"
    alice.user.refresh_from_db()
    assert alice.user.check_password(PASSWORD)
    monkeypatch.setenv("REBOOK_PASSWORD", "123")
    assert "password: This password is too short" in Rebook().error("user", "password", "alice")


def test_the_first_start_asks_for_the_name_and_address_prospects_see(db, monkeypatch):
    from rebook.sellers.models import Seller
    from rebook.sellers.services import seller_create

    monkeypatch.setenv("REBOOK_BASE_URL", "http://127.0.0.1:8000")
    seller_create(username="root", password=PASSWORD)
    monkeypatch.setattr(serve_module, "_run_gunicorn", lambda options: None)
    monkeypatch.setattr(serve_module, "_interactive", lambda: True)
    result = Rebook().runner.invoke(serve_module.serve_command, ["--no-worker"],
                                    input="Riley Root\nnot an address\nriley@example.com\n")
    assert result.exit_code == 0, result.output
    assert "is not a valid e-mail address" in result.output  # asked again
    root = Seller.objects.get(user__username="root")
    assert (root.name, root.email) == ("Riley Root", "riley@example.com")


def test_without_a_terminal_serve_says_how_to_set_the_name_prospects_see(db, monkeypatch):
    from rebook.sellers.services import seller_create

    monkeypatch.setenv("REBOOK_BASE_URL", "http://127.0.0.1:8000")
    seller_create(username="root", password=PASSWORD)
    monkeypatch.setattr(serve_module, "_run_gunicorn", lambda options: None)
    monkeypatch.setattr(serve_module, "_interactive", lambda: False)
    result = Rebook().runner.invoke(serve_module.serve_command, ["--no-worker"])
    assert result.exit_code == 0
    assert "Prospects see you as 'root' with no address to write to; set your name and e-mail with: rebook init" \
        in result.stderr


def test_the_first_run_on_an_empty_rebook_offers_the_demo_and_asks_for_a_time_zone(db, monkeypatch):
    from rebook.sellers.models import Seller

    monkeypatch.setenv("REBOOK_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(serve_module, "_run_gunicorn", lambda options: None)
    monkeypatch.setattr(serve_module, "_interactive", lambda: True)
    answers = ["demo", "sam", PASSWORD, PASSWORD, "Mars/Olympus", "Europe/Berlin"]
    result = Rebook().runner.invoke(serve_module.serve_command, ["--no-worker"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "This Rebook is empty" in result.output and "unknown time zone" in result.output
    sam = Seller.objects.get(user__username="sam")
    assert sam.timezone == "Europe/Berlin" and sam.leads.count() >= 20
    assert sam.name == "Sam Rivera"  # the demo's name for prospects, since none was given


def test_the_first_run_started_clean_asks_for_the_name_and_address_too(db, monkeypatch):
    from rebook.sellers.models import Seller

    monkeypatch.setenv("REBOOK_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(serve_module, "_run_gunicorn", lambda options: None)
    monkeypatch.setattr(serve_module, "_interactive", lambda: True)
    answers = ["clean", "robin", PASSWORD, PASSWORD, "", "Robin Seller", "robin@example.com"]
    result = Rebook().runner.invoke(serve_module.serve_command, ["--no-worker"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    robin = Seller.objects.get(user__username="robin")
    assert (robin.name, robin.email, robin.leads.count()) == ("Robin Seller", "robin@example.com", 0)
    assert robin.timezone  # the machine's, offered and taken as it was
