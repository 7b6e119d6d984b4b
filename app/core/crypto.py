"""Secrets the cloud must read back (camera passwords, on-site link keys), encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256) from the `cryptography` package; the key comes from
FIELD_ENCRYPTION_KEY when set, else it is derived from SECRET_KEY, so changing SECRET_KEY
without setting FIELD_ENCRYPTION_KEY to the old derived key makes stored secrets unreadable."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import String, TypeDecorator


def _fernet() -> Fernet:
    key = current_app.config.get("FIELD_ENCRYPTION_KEY")
    if not key:
        digest = hashlib.sha256(b"parkingos-field-encryption:" + current_app.config["SECRET_KEY"].encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The stored secret; raises ValueError when the key that wrote it is gone."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the current key") from exc


class EncryptedString(TypeDecorator):
    """A column whose value is a Fernet token in the database and plain text in Python."""

    impl = String(512)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)
