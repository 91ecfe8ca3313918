"""One typed settings object: a TOML file, then ``DMI_*`` environment overrides.

Example ``dmi-live.toml``::

    site = "clinic-north"
    rooms = ["gym-1", "gym-2"]  # the broker creates one ingest account per room
    data_dir = "/var/lib/dmi-live"

    [broker]
    host = "127.0.0.1"
    port = 1883
    username = "recorder"
    password = "..."          # or DMI_BROKER_PASSWORD
    tls = false
    protocol = 5              # 5 (MQTT v5) or 4 (3.1.1)

    [http]
    host = "127.0.0.1"
    port = 8050
    tls = false               # true behind an HTTPS proxy: cookies become Secure

    [store]
    url = ""                  # empty: SQLite under data_dir; or postgresql+psycopg://...

    [cache]
    url = "simple"            # or redis://127.0.0.1:6379/0

Secrets (passwords, the secret key) are never shown by ``repr`` or in logs.

The file's shape (types, unknown keys) is checked by msgspec, the library the wire
contract uses; a mistake is named with the file, its line and the key
(``dmi-live.toml:12: broker.port must be a whole number``).
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from dmi_live.errors import ConfigError

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    protocol: int = 5

    def __post_init__(self) -> None:
        _check_port("broker.port", self.port)
        if self.protocol not in (4, 5):
            raise ConfigError(f"broker.protocol must be 4 (MQTT 3.1.1) or 5, got {self.protocol!r}")


@dataclass(frozen=True)
class Settings:
    site: str = "demo"
    rooms: tuple[str, ...] = ("room-1",)
    data_dir: Path = Path("data")
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    http_host: str = "127.0.0.1"
    http_port: int = 8050
    http_tls: bool = False
    store_url: str = ""
    cache_url: str = "simple"
    secret_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not _ID.match(self.site):
            raise ConfigError(f"site {self.site!r} must be lowercase letters, digits, '-' or '_'")
        for room in self.rooms:
            if not isinstance(room, str) or not _ID.match(room):
                raise ConfigError(f"rooms: {room!r} must be lowercase letters, digits, '-' or '_'")
        _check_port("http.port", self.http_port)
        if not (self.cache_url == "simple" or self.cache_url.startswith(("redis://", "rediss://"))):
            raise ConfigError(
                f"cache.url must be 'simple' or a redis:// URL, got {self.cache_url!r}")

    @property
    def database_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_dir / 'dmi-live.sqlite').resolve()}"

    def with_secret_key(self) -> Settings:
        """Fill in the secret key from ``data_dir/secret_key`` (created once, mode 0600)."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return replace(self, secret_key=path.read_text().strip())


def _check_port(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ConfigError(f"{name} must be a port number 0–65535, got {value!r}")


# ----------------------------------------------------------------------------- the file
# The document's shape, checked by msgspec (types, unknown keys); the rules of each value
# (ids, ports, URLs) are the dataclasses' own.


class _Broker(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    tls: bool | None = None
    ca_file: str | None = None
    protocol: int | None = None


class _Http(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    host: str | None = None
    port: int | None = None
    tls: bool | None = None


class _Url(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    url: str | None = None


class _Document(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    site: str | None = None
    rooms: list[str] | None = None
    data_dir: str | None = None
    secret_key: str | None = None
    broker: _Broker = msgspec.field(default_factory=_Broker)
    http: _Http = msgspec.field(default_factory=_Http)
    store: _Url = msgspec.field(default_factory=_Url)
    cache: _Url = msgspec.field(default_factory=_Url)


_ENV: dict[str, tuple[str, ...]] = {
    "DMI_SITE": ("site",),
    "DMI_DATA_DIR": ("data_dir",),
    "DMI_BROKER_HOST": ("broker", "host"),
    "DMI_BROKER_PORT": ("broker", "port"),
    "DMI_BROKER_USERNAME": ("broker", "username"),
    "DMI_BROKER_PASSWORD": ("broker", "password"),
    "DMI_BROKER_TLS": ("broker", "tls"),
    "DMI_BROKER_CA_FILE": ("broker", "ca_file"),
    "DMI_BROKER_PROTOCOL": ("broker", "protocol"),
    "DMI_HTTP_HOST": ("http", "host"),
    "DMI_HTTP_PORT": ("http", "port"),
    "DMI_HTTP_TLS": ("http", "tls"),
    "DMI_STORE_URL": ("store", "url"),
    "DMI_CACHE_URL": ("cache", "url"),
    "DMI_SECRET_KEY": ("secret_key",),
}
_WORDS = {"int": "a whole number", "bool": "true/false", "str": "text", "array": "a list",
          "object": "a table"}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``DMI_*`` variables as a document, each converted to its key's type."""
    doc: dict[str, Any] = {}
    for name, path in _ENV.items():
        if name not in env:
            continue
        raw = env[name]
        one: dict[str, Any] = {}
        target = one
        for part in path[:-1]:
            target = target.setdefault(part, {})
        low = raw.lower()
        target[path[-1]] = ("true" if low in _TRUE else "false" if low in _FALSE else raw)
        try:  # not strict: "1999" -> 1999, "true" -> True
            value: Any = msgspec.convert(one, _Document, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{name}={raw!r} is not {_expected(str(exc))}") from None
        for part in path:
            value = getattr(value, part)
        target = doc
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return doc


def _expected(message: str) -> str:
    match = re.match(r"Expected `([^`]+)`", message)
    if not match:
        return "valid"
    return " or ".join(_WORDS.get(t.strip(), t.strip()) for t in match.group(1).split("|")
                       if t.strip() != "null")


def _merged(doc: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _line_of(text: str, path: list[str]) -> int | None:
    """The line of ``path`` (``["broker", "port"]``) in a TOML text, where it is plain."""
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[([A-Za-z0-9_.\s]+)\]\s*(#.*)?$", line)
        if header:
            table = [p.strip() for p in header.group(1).split(".")]
            if table == path:
                return number
            continue
        key = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        if key and [*table, key.group(1)] == path[:len(table) + 1] and len(path) > len(table):
            return number
    return None


def from_mapping(doc: dict[str, Any], *, where: str = "settings", text: str = "") -> Settings:
    """Build settings from a parsed TOML document, naming the file, line and key of any
    error (``text``: the file, for the line)."""
    try:
        d = msgspec.convert(doc, _Document, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        at = re.search(r" - at `\$((?:\.[A-Za-z0-9_]+|\[\d+\])*)`$", message)
        path = re.findall(r"\.([A-Za-z0-9_]+)", at.group(1)) if at else []
        unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
        if unknown:
            path = [*path, unknown.group(1)]
        key = (at.group(1).lstrip(".") if at else "") + (
            ("." if at and at.group(1) else "") + unknown.group(1) if unknown else "")
        key = key or "settings"
        line = _line_of(text, path) if text and path else None
        place = f"{where}:{line}" if line else where
        if unknown:
            raise ConfigError(f"{place}: unknown setting {key}") from None
        raise ConfigError(f"{place}: {key} must be {_expected(message)}") from None
    b = {k: v for k, v in msgspec.structs.asdict(d.broker).items() if v is not None}
    kwargs: dict[str, Any] = {f"http_{k}": v for k, v in msgspec.structs.asdict(d.http).items()
                              if v is not None}
    for name, value in (("site", d.site), ("secret_key", d.secret_key),
                        ("store_url", d.store.url), ("cache_url", d.cache.url)):
        if value is not None:
            kwargs[name] = value
    if d.rooms is not None:
        kwargs["rooms"] = tuple(d.rooms)
    if d.data_dir is not None:
        kwargs["data_dir"] = Path(d.data_dir)
    try:
        return Settings(broker=BrokerSettings(**b), **kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_settings(path: Path | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (TOML, optional), then apply ``DMI_*`` overrides from ``env``."""
    env = os.environ if env is None else env
    doc: dict[str, Any] = {}
    text = ""
    where = "environment"
    if path is not None:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
            doc = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    over = _env_overrides(env)
    if path is not None:  # the file's own mistakes first, with their lines
        from_mapping(doc, where=where, text=text)
    return from_mapping(_merged(doc, over), where=where, text=text)
