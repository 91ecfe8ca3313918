"""Passwords and sign-in throttling. Pure: no Flask, no store.

Passwords are hashed with scrypt (``hashlib.scrypt``, N=2**14, r=8, p=1, 16-byte salt),
a standard memory-hard slow hash; the stored form is
``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so parameters can be raised later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

ROLES = ("therapist", "supervisor", "admin")
MIN_PASSWORD = 10


class PasswordError(ValueError):
    """A password does not meet the rules; the message says which."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.strip() != password:
        raise PasswordError("a password must not start or end with spaces")


def hash_password(password: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to verify against when the user does not exist, so that a wrong user name
# costs as long as a wrong password (no user enumeration by timing).
DUMMY_HASH = hash_password(secrets.token_urlsafe(12))


@dataclass
class Throttle:
    """At most ``attempts`` failed sign-ins per key in ``window_s``; then wait ``lockout_s``."""

    attempts: int = 5
    window_s: float = 300.0
    lockout_s: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may try again (0 when it may try now)."""
        now = time.time() if now is None else now
        with self._lock:
            return max(0.0, self._locked_until.get(key, 0.0) - now)

    def failed(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            recent = self._failures.setdefault(key, deque())
            recent.append(now)
            while recent and recent[0] < now - self.window_s:
                recent.popleft()
            if len(recent) >= self.attempts:
                self._locked_until[key] = now + self.lockout_s
                recent.clear()

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)
