"""The settings object: defaults, embedded secrets, production refusals, .env.example."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from vaxviet.settings import PROJECT_ROOT, VARIABLES, Settings, SettingsError

KEY = "ab" * 32


def test_embedded_defaults_live_under_var(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    assert settings.mode == "embedded" and settings.embedded
    assert settings.warehouse_dsn == f"chdb://{tmp_path}/warehouse"
    assert settings.source_dsn == f"sqlite:///{tmp_path}/registry.sqlite"
    assert settings.warehouse_database == "vax"
    assert settings.cache_url == "simple://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8050)
    assert settings.web_threads == 128  # room for 200 lookups/s, each code request 0.4 s
    assert settings.compact_hour == 2
    assert (
        Settings.from_env({"VAX_VAR_DIR": str(tmp_path), "VAX_COMPACT_HOUR": "off"}).compact_hour
        is None
    )
    assert settings.signing_key_path == tmp_path / "keys" / "signing-key.pem"


def test_embedded_secrets_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    second = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    assert len(first.pseudonym_key) == 32 and len(first.secret_key) == 64
    assert (first.pseudonym_key, first.secret_key) == (second.pseudonym_key, second.secret_key)
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600
    other = Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "other")})
    assert other.pseudonym_key != first.pseudonym_key


def test_given_secrets_win_over_generated_ones(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path), "VAX_PSEUDONYM_KEY": KEY})
    assert settings.pseudonym_key == bytes.fromhex(KEY)


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path), "VAX_PSEUDONYM_KEY": KEY})
    assert KEY not in repr(settings) and settings.secret_key not in repr(settings)


def test_production_names_every_missing_secret() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"VAX_MODE": "production", "VAX_SECRET_KEY": "s"})
    message = str(caught.value)
    for name in ("VAX_WAREHOUSE_DSN", "VAX_SOURCE_DSN", "VAX_PSEUDONYM_KEY",
                 "VAX_SIGNING_KEY_PATH", "VAX_SIGNING_CERT_PATH"):  # fmt: skip
        assert name in message
    assert "VAX_SECRET_KEY" not in message


def test_production_with_everything_set_starts(tmp_path: Path) -> None:
    env = {
        "VAX_MODE": "production",
        "VAX_VAR_DIR": str(tmp_path),
        "VAX_WAREHOUSE_DSN": "https://etl:pw@clickhouse.internal:8443",
        "VAX_SOURCE_DSN": "postgresql+psycopg://registry@db/registry",
        "VAX_CACHE_URL": "redis://127.0.0.1:6379/0",
        "VAX_SECRET_KEY": "s" * 40,
        "VAX_PSEUDONYM_KEY": KEY,
        "VAX_SIGNING_KEY_PATH": "/etc/vax/key.pem",
        "VAX_SIGNING_CERT_PATH": "/etc/vax/cert.pem",
    }
    settings = Settings.from_env(env)
    assert settings.mode == "production" and not settings.embedded
    assert not (tmp_path / "secrets.json").exists()  # production never invents secrets


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VAX_MODE", "staging", "VAX_MODE"),
        ("VAX_PORT", "80a", "VAX_PORT"),
        ("VAX_PORT", "70000", "VAX_PORT"),
        ("VAX_LOG_LEVEL", "LOUD", "VAX_LOG_LEVEL"),
        ("VAX_PSEUDONYM_KEY", "not-hex", "hexadecimal"),
        ("VAX_PSEUDONYM_KEY", "abcd", "at least 32 bytes"),
        ("VAX_WAREHOUSE_DATABASE", "vax; DROP", "VAX_WAREHOUSE_DATABASE"),
        ("VAX_WEB_THREADS", "0", "VAX_WEB_THREADS"),
        ("VAX_TRUSTED_PROXIES", "-1", "VAX_TRUSTED_PROXIES"),
        ("VAX_COMPACT_HOUR", "24", "VAX_COMPACT_HOUR"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"VAX_VAR_DIR": str(tmp_path), name: value})


def test_env_example_documents_every_variable() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^(VAX_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert documented == set(VARIABLES)
