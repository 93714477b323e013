from __future__ import annotations

import pytest

from tests.smtpserver import SMTPServer


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, and Rebook's mail settings pointed at it."""
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    settings.REBOOK_FROM_EMAIL = ""
    yield server
    server.stop()
