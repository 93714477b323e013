from __future__ import annotations

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_it_runs_on_the_database_the_test_command_asked_for():
    expected = os.environ.get("REBOOK_TEST_EXPECT_VENDOR")
    if expected is None:
        pytest.skip("not run through scripts/test")
    assert connection.vendor == expected
