"""Settings: TOML then DMI_* environment; secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmi_live.errors import ConfigError
from dmi_live.settings import load_settings


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "dmi.toml"
    path.write_text('site = "north"\n[broker]\nport = 1884\npassword = "hunter2"\n'
                    '[http]\nport = 9000\n')
    settings = load_settings(path, env={"DMI_BROKER_PORT": "1999", "DMI_CACHE_URL": "redis://h/0"})
    assert settings.site == "north"
    assert settings.broker.port == 1999
    assert settings.http_port == 9000
    assert settings.cache_url == "redis://h/0"
    assert "hunter2" not in repr(settings)


def test_defaults_use_sqlite_under_the_data_dir() -> None:
    settings = load_settings(None, env={"DMI_DATA_DIR": "/srv/dmi"})
    assert settings.database_url == "sqlite:////srv/dmi/dmi-live.sqlite"


@pytest.mark.parametrize(
    ("env", "message"),
    [({"DMI_BROKER_PORT": "eighty"}, "DMI_BROKER_PORT='eighty' is not a whole number"),
     ({"DMI_BROKER_TLS": "maybe"}, "DMI_BROKER_TLS='maybe' is not true/false"),
     ({"DMI_CACHE_URL": "memcached://x"}, "cache.url must be 'simple' or a redis:// URL")],
)
def test_bad_environment_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, env=env)


def test_secret_key_is_created_once(tmp_path: Path) -> None:
    settings = load_settings(None, env={"DMI_DATA_DIR": str(tmp_path)})
    first = settings.with_secret_key().secret_key
    assert len(first) >= 32
    assert settings.with_secret_key().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [('site = "north"\n[broker]\nhost = "h"\nport = "eighty"\n',
      r"dmi.toml:4: broker.port must be a whole number"),
     ('site = "north"\nrooms = ["gym-1", 3]\n', r"dmi.toml:2: rooms\[1\] must be text"),
     ('[http]\nport = 9000\nfoo = 1\n', r"dmi.toml:3: unknown setting http.foo"),
     ('sight = "north"\n', r"dmi.toml:1: unknown setting sight"),
     ('[cache]\nurl = "memcached://x"\n', r"dmi.toml: cache.url must be 'simple' or a redis")],
)
def test_a_mistake_in_the_file_names_its_line_and_key(tmp_path: Path, text: str,
                                                      message: str) -> None:
    path = tmp_path / "dmi.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_true_and_false_in_the_environment_read_as_people_write_them() -> None:
    assert load_settings(None, env={"DMI_HTTP_TLS": "yes"}).http_tls is True
    assert load_settings(None, env={"DMI_HTTP_TLS": "Off"}).http_tls is False
    assert load_settings(None, env={"DMI_BROKER_TLS": "1"}).broker.tls is True
