from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

# A fixed "now" for every database test: Monday 2 March 2026, 09:00 in New York.
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    import time_machine

    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_pipeline_counts():
    """Each test starts without the pipeline counts an earlier test's process kept (an earlier test may
    have had the same seller id and, with the clock frozen, the same stamp)."""
    from rebook.forecast import services as forecast
    from rebook.leads.selectors import forget_counts

    forget_counts()
    forecast._RISKS.clear()
    forecast._MODELS.clear()  # a rolled-back test's model id comes again on SQLite
    yield


@pytest.fixture
def alice(db):
    from rebook.sellers.services import seller_create

    return seller_create(username="alice", display_name="Alice Adams", email="alice@example.com",
                         timezone_name="America/New_York")


@pytest.fixture
def bob(db):
    from rebook.sellers.services import seller_create

    return seller_create(username="bob", display_name="Bob Brown", email="bob@example.com", timezone_name="Europe/Paris")


@pytest.fixture
def charlie(alice):
    """Alice's prospect."""
    from rebook.leads.services import lead_create

    return lead_create(seller=alice, name="Charlie Chen", email="charlie@chen.example", company="Chen Bakery")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob.user)
    return client


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL') or 'SQLite (default)'}"


def rebook_executable() -> str:
    import shutil
    import sys
    from pathlib import Path

    exe = shutil.which("rebook", path=str(Path(sys.executable).parent)) or shutil.which("rebook")
    assert exe, "the rebook command is not installed (pip install -e .)"
    return exe


def child_env(tmp_path, **extra: str) -> dict[str, str]:
    """Environment for a `rebook` child process: its own home, and on PostgreSQL the test database."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if not k.startswith("REBOOK_") and k != "DATABASE_URL"}
    env["REBOOK_HOME"] = str(tmp_path / "home")
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        assert db["NAME"].startswith("test_"), db["NAME"]
        env["DATABASE_URL"] = (
            f"postgres://{db['USER'] or ''}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env | extra
