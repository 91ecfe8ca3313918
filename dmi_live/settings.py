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
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

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
_INT_KEYS = {("broker", "port"), ("broker", "protocol"), ("http", "port")}
_BOOL_KEYS = {("broker", "tls"), ("http", "tls")}


def _env_value(name: str, path: tuple[str, ...], raw: str) -> Any:
    if path in _INT_KEYS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if path in _BOOL_KEYS:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}={raw!r} is not true/false")
    return raw


def _merge(doc: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in doc.items()}
    for name, path in _ENV.items():
        if name in env:
            target = merged
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = _env_value(name, path, env[name])
    return merged


def _typed(where: str, key: str, value: Any, expected: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(f"{where}: {key} must be {_names(expected)}, got {value!r}")
    if not isinstance(value, expected):
        raise ConfigError(f"{where}: {key} must be {_names(expected)}, got {value!r}")
    return value


def _names(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join({"str": "text", "int": "a whole number", "bool": "true/false"}.get(
        t.__name__, t.__name__) for t in types)


def from_mapping(doc: dict[str, Any], *, where: str = "settings") -> Settings:
    """Build settings from a parsed TOML document, naming the file and key of any error."""
    known_top = {"site", "rooms", "data_dir", "broker", "http", "store", "cache", "secret_key"}
    for key in doc:
        if key not in known_top:
            raise ConfigError(f"{where}: unknown setting {key!r}")
    sections: dict[str, dict[str, Any]] = {}
    for name in ("broker", "http", "store", "cache"):
        section = doc.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        sections[name] = section

    broker_fields = {f.name: f for f in fields(BrokerSettings)}
    broker_kwargs: dict[str, Any] = {}
    for key, value in sections["broker"].items():
        if key not in broker_fields:
            raise ConfigError(f"{where}: unknown setting broker.{key}")
        expected: type | tuple[type, ...] = {
            "port": int, "protocol": int, "tls": bool}.get(key, str)
        broker_kwargs[key] = _typed(where, f"broker.{key}", value, expected)

    kwargs: dict[str, Any] = {}
    for key, value in sections["http"].items():
        if key not in ("host", "port", "tls"):
            raise ConfigError(f"{where}: unknown setting http.{key}")
        kind = {"port": int, "tls": bool}.get(key, str)
        kwargs[f"http_{key}"] = _typed(where, f"http.{key}", value, kind)
    for name, target in (("store", "store_url"), ("cache", "cache_url")):
        for key, value in sections[name].items():
            if key != "url":
                raise ConfigError(f"{where}: unknown setting {name}.{key}")
            kwargs[target] = _typed(where, f"{name}.url", value, str)
    if "site" in doc:
        kwargs["site"] = _typed(where, "site", doc["site"], str)
    if "rooms" in doc:
        kwargs["rooms"] = tuple(_typed(where, "rooms", doc["rooms"], list))
    if "data_dir" in doc:
        kwargs["data_dir"] = Path(_typed(where, "data_dir", doc["data_dir"], str))
    if "secret_key" in doc:
        kwargs["secret_key"] = _typed(where, "secret_key", doc["secret_key"], str)
    try:
        return Settings(broker=BrokerSettings(**broker_kwargs), **kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_settings(path: Path | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (TOML, optional), then apply ``DMI_*`` overrides from ``env``."""
    env = os.environ if env is None else env
    doc: dict[str, Any] = {}
    where = "environment"
    if path is not None:
        where = str(path)
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return from_mapping(_merge(doc, env), where=where)
