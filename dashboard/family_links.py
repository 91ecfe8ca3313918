"""Family links: a URL that lets one family see one child, until it expires or is revoked.

The token in the URL is ``<32 random bytes, base64url>.<HMAC-SHA256 of them, truncated>``,
signed with the app's secret key so a guessed or mangled token is refused before any
database lookup. The database keeps only the SHA-256 of the whole token: a copy of the
database gives no working link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_DURATION = re.compile(r"^(\d{1,4})([hdw])$")
_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def _mac(secret_key: str, body: str) -> str:
    digest = hmac.new(secret_key.encode(), body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_token(secret_key: str) -> tuple[str, str]:
    """A fresh token and the hash to store."""
    body = secrets.token_urlsafe(32)
    token = f"{body}.{_mac(secret_key, body)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signature_ok(secret_key: str, token: str) -> bool:
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 200:
        return False
    return hmac.compare_digest(mac, _mac(secret_key, body))


def parse_duration(text: str) -> float:
    """``30d``, ``12h``, ``2w`` → seconds; a clear ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 12h, 30d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]
