"""Passwords: rules, hashing and checking. Pure: no Flask, no store (sign-in throttling
is :mod:`dashboard.throttle`).

Hashing is Werkzeug's (``werkzeug.security``) with scrypt, N=2**14, r=8, p=1: a standard
memory-hard slow hash, stored as ``scrypt:16384:8:1$<salt>$<hex>`` so the parameters can
be raised later. Hashes written by DMI Live before 0.9 (``scrypt$<n>$<r>$<p>$<salt
b64>$<hash b64>``, ``hashlib.scrypt``) still verify; :func:`needs_rehash` says when to
store a new one (the sign-in does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD = 10
METHOD = "scrypt:16384:8:1"


class PasswordError(ValueError):
    """A password does not meet the rules; the message says which."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.strip() != password:
        raise PasswordError("a password must not start or end with spaces")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _verify_legacy(password, stored)
    try:
        return check_password_hash(stored, password)
    except (ValueError, TypeError):
        return False


def needs_rehash(stored: str) -> bool:
    """A hash in an older form or with other parameters than :data:`METHOD`."""
    return not stored.startswith(METHOD + "$")


def _verify_legacy(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected),
                                maxmem=256 * int(r) * int(n) + 1024 * 1024)
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to verify against when the user does not exist, so that a wrong user name
# costs as long as a wrong password (no user enumeration by timing).
DUMMY_HASH = hash_password(secrets.token_urlsafe(12))
