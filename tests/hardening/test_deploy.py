"""Django's deployment checks pass with the settings a production Rebook runs with (behind a TLS proxy)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import child_env


@pytest.mark.subprocess
def test_check_deploy_is_clean_behind_a_tls_proxy(tmp_path, db):
    env = child_env(tmp_path, REBOOK_BASE_URL="https://rebook.example.com", DJANGO_SETTINGS_MODULE="rebook.settings")
    done = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    probe = subprocess.run([sys.executable, "-c", (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "plain = Client().get('/login/', HTTP_HOST='rebook.example.com')\n"
        "proxied = Client().get('/login/', HTTP_HOST='rebook.example.com', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(plain.status_code, plain.get('Location'), proxied.status_code, proxied.get('Strict-Transport-Security'))\n"
        "static = Client().get('/static/rebook/app.css', HTTP_HOST='rebook.example.com', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(static.status_code, static.get('Strict-Transport-Security'), static.get('Cache-Control'))"
    )], env=env, capture_output=True, text=True, timeout=120)
    pages, static = probe.stdout.splitlines()
    assert pages.split() == ["301", "https://rebook.example.com/login/", "200", "max-age=3600"], probe.stderr
    # Static files (served by WhiteNoise, inside SecurityMiddleware) send the same HSTS as pages; their
    # "max-age=60" is Cache-Control, how long a browser may keep a file whose name has no content hash.
    assert static == "200 max-age=3600 max-age=60, public", probe.stderr
