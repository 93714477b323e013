"""The mailbox password at rest: encrypted with Fernet (AES with an HMAC), under a key derived from
Django's secret key with HKDF, so a copy of the database alone does not reveal it."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from rebook.errors import RebookError


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"rebook.mailbox", info=b"imap password").derive(
        settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(password: str) -> bytes:
    return _fernet().encrypt(password.encode())


def unseal(token: bytes, what: str = "the mailbox password", again: str = "set the mailbox again (rebook mailbox set)") -> str:
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except InvalidToken:
        raise RebookError(f"{what} cannot be read with this secret key; {again}") from None
