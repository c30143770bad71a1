"""The one settings object.

Built once, in an entry point, from the environment (`Settings.from_env()`), then passed down.
Importing this module reads nothing and opens nothing.

Two modes:

* ``embedded`` (default): everything runs in one process on local files under ``var/``
  (chDB warehouse, SQLite registry, in-process cache). Secrets that are not given are generated
  on first start and kept in ``var/secrets.json`` (mode 0600), so restarts keep working.
* ``production``: every secret must be given explicitly; a missing one stops the start with a
  message naming each missing variable.

Every variable is documented in ``.env.example``; `VARIABLES` below is the same list in code
and a test checks the two agree.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Mode = Literal["embedded", "production"]

#: name -> (default shown in .env.example, meaning). Defaults marked "<...>" are computed.
VARIABLES: dict[str, tuple[str, str]] = {
    "VAX_MODE": ("embedded", "embedded (one process, local files) or production"),
    "VAX_VAR_DIR": ("<project>/var", "where embedded mode keeps its data, keys and secrets"),
    "VAX_WAREHOUSE_DSN": (
        "chdb://<VAX_VAR_DIR>/warehouse",
        "ClickHouse: chdb:///dir (embedded) or http(s)://user:password@host:8123",
    ),
    "VAX_WAREHOUSE_DATABASE": ("vax", "ClickHouse database that holds the schema"),
    "VAX_WAREHOUSE_CLUSTER": (
        "",
        "cluster name: render the schema ON CLUSTER (empty: single node)",
    ),
    "VAX_SOURCE_DSN": (
        "sqlite:///<VAX_VAR_DIR>/registry.sqlite",
        "operational registry (SQLAlchemy URL); postgresql+psycopg://… in production",
    ),
    "VAX_ETL_WORKER": (
        "auto",
        "stream the registry inside the web process: auto (only with embedded chDB), on, off",
    ),
    "VAX_LIVE": (
        "auto",
        "record a live vaccination day into the registry inside the web process: auto (only "
        "in embedded mode on a simulated sample registry), on (a simulated registry in any "
        "mode), off",
    ),
    "VAX_LIVE_INTERVAL": ("5", "seconds between the live feed's recordings"),
    "VAX_CACHE_URL": ("simple://", "flask-caching backend: simple:// (in-process) or redis://…"),
    "VAX_HOST": ("127.0.0.1", "address the web server binds"),
    "VAX_PORT": ("8050", "port the web server binds"),
    "VAX_TRUSTED_PROXIES": (
        "0",
        "reverse proxies in front of the web server (TLS terminator, load balancer) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; 0: none, the client is the "
        "connection's address (rate limits count per client address)",
    ),
    "VAX_COMPACT_HOUR": (
        "2",
        "local hour (0-23, Asia/Ho_Chi_Minh) at which the serve process compacts the tables "
        "the certificate lookup reads by key, once a day; 'off' for never",
    ),
    "VAX_SHED_QUEUE": (
        "64",
        "a request queued behind more than this many others waiting for a web thread is "
        "answered 503 with Retry-After at once (load shedding; /healthz and the certificate "
        "lookup are always served)",
    ),
    "VAX_WEB_THREADS": (
        "128",
        "requests the web server serves at once; each certificate code request holds one for "
        "its fixed 0.4 s, so 200 lookups/s need at least 80",
    ),
    "VAX_FRONT": (
        "auto",
        "the front process that takes every connection, queues requests for the web process "
        "and sheds past VAX_SHED_QUEUE (docs/scaling.md): haproxy, off (the web process takes "
        "connections itself), auto (haproxy when the haproxy program is installed)",
    ),
    "VAX_EDGE": (
        "on",
        "with the front: a second process that serves the portal's stored answers, so a crowd "
        "of page views does not queue for the web process's interpreter lock (on, off)",
    ),
    "VAX_FRONT_APP_CONNECTIONS": (
        "16",
        "page and API requests the front lets into the web process at once; the others wait "
        "in the front's queue (the certificate lookup and /healthz have the rest of "
        "VAX_WEB_THREADS to themselves)",
    ),
    "VAX_WEB_CONNECTIONS": (
        "4096",
        "open connections the web server accepts, idle keep-alive ones included (a browser "
        "keeps several); past it, new connections wait unaccepted",
    ),
    "VAX_LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
    "VAX_SECRET_KEY": ("<generated in embedded mode>", "Flask session signing key (secret)"),
    "VAX_PSEUDONYM_KEY": (
        "<generated in embedded mode>",
        "HMAC key that turns citizen IDs into citizen keys (secret, hex, >= 32 bytes)",
    ),
    "VAX_SIGNING_KEY_PATH": (
        "<VAX_VAR_DIR>/keys/signing-key.pem",
        "certificate signing private key, PEM (required in production)",
    ),
    "VAX_SIGNING_CERT_PATH": (
        "<VAX_VAR_DIR>/keys/signing-cert.pem",
        "certificate signer X.509 certificate, PEM (required in production)",
    ),
    "VAX_SMS_SENDER": (
        "outbox",
        "one-time codes for the certificate lookup: outbox (a local file a demo page shows; "
        "embedded only) or package.module:factory (a gateway adapter, called with the settings), "
        "e.g. certificates.sms_http:from_settings",
    ),
    "VAX_SMS_GATEWAY_URL": (
        "",
        "certificates.sms_http: the gateway's send endpoint (https:// in production)",
    ),
    "VAX_SMS_GATEWAY_TOKEN": ("", "certificates.sms_http: bearer token for the gateway (secret)"),
    "VAX_SMS_GATEWAY_SENDER_ID": (
        "VAXVIET",
        "certificates.sms_http: sender name (brandname) the messages carry",
    ),
    "VAX_SMS_GATEWAY_TIMEOUT_SECONDS": (
        "10",
        "certificates.sms_http: wait this long for one attempt's answer (connecting: at most 5 s)",
    ),
    "VAX_SMS_GATEWAY_TOTAL_SECONDS": (
        "30",
        "certificates.sms_http: give up on a message after this long, retries and waits included",
    ),
    "VAX_SMS_WORKERS": (
        "32",
        "certificate lookup: one-time codes sent at once at most, each waiting on the sender "
        "(32 keep up with 200 codes/s from a gateway answering in 0.16 s)",
    ),
    "VAX_INTERNAL_SESSION_MINUTES": (
        "480",
        "internal dashboards: a login lasts this many minutes, then asks again",
    ),
    "VAX_SILENT_SITE_HOURS": (
        "2",
        "internal dashboards: an open site with no dose for this many hours is silent",
    ),
}

_GENERATED_SECRETS = ("VAX_SECRET_KEY", "VAX_PSEUDONYM_KEY")
_PRODUCTION_REQUIRED = (
    "VAX_WAREHOUSE_DSN",
    "VAX_SOURCE_DSN",
    "VAX_SECRET_KEY",
    "VAX_PSEUDONYM_KEY",
    "VAX_SIGNING_KEY_PATH",
    "VAX_SIGNING_CERT_PATH",
)
_MIN_KEY_BYTES = 32


class SettingsError(Exception):
    """The environment does not describe a platform that can start; the message says why."""


@dataclass(frozen=True)
class Settings:
    mode: Mode
    var_dir: Path
    warehouse_dsn: str
    warehouse_database: str
    warehouse_cluster: str
    source_dsn: str
    etl_worker: Literal["auto", "on", "off"]
    cache_url: str
    host: str
    port: int
    log_level: str
    secret_key: str = field(repr=False)
    pseudonym_key: bytes = field(repr=False)
    signing_key_path: Path
    signing_cert_path: Path
    sms_sender: str = "outbox"
    internal_session_minutes: int = 480
    silent_site_hours: int = 2
    web_threads: int = 128
    shed_queue: int = 256
    web_connections: int = 4096
    front: Literal["auto", "haproxy", "off"] = "auto"
    front_app_connections: int = 16
    edge: bool = True
    trusted_proxies: int = 0
    compact_hour: int | None = 2
    sms_gateway_url: str = ""
    sms_gateway_token: str = field(default="", repr=False)
    sms_gateway_sender_id: str = "VAXVIET"
    sms_gateway_timeout_seconds: float = 10.0
    sms_gateway_total_seconds: float = 30.0
    sms_workers: int = 32
    live: Literal["auto", "on", "off"] = "auto"
    live_interval: int = 5

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from `env` (default: the process environment)."""
        env = dict(os.environ if env is None else env)

        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        mode = get("VAX_MODE", "embedded").lower()
        if mode not in ("embedded", "production"):
            raise SettingsError(f"VAX_MODE must be 'embedded' or 'production', not {mode!r}")

        var_dir = Path(get("VAX_VAR_DIR", str(PROJECT_ROOT / "var"))).resolve()

        if mode == "production":
            missing = [name for name in _PRODUCTION_REQUIRED if not get(name)]
            if missing:
                raise SettingsError(
                    "production mode needs these environment variables, which are not set: "
                    + ", ".join(missing)
                    + " (see .env.example)"
                )
            secret_values = {name: get(name) for name in _GENERATED_SECRETS}
        else:
            secret_values = _embedded_secrets(var_dir, {n: get(n) for n in _GENERATED_SECRETS})

        port_text = get("VAX_PORT", "8050")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"VAX_PORT must be a port number, not {port_text!r}")

        log_level = get("VAX_LOG_LEVEL", "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(
                f"VAX_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}"
            )

        database = get("VAX_WAREHOUSE_DATABASE", "vax")
        if not database.replace("_", "").isalnum() or not database[0].isalpha():
            raise SettingsError(
                f"VAX_WAREHOUSE_DATABASE must be letters, digits and '_', starting with a letter, not {database!r}"
            )

        etl_worker = get("VAX_ETL_WORKER", "auto").lower()
        if etl_worker not in ("auto", "on", "off"):
            raise SettingsError(f"VAX_ETL_WORKER must be auto, on or off, not {etl_worker!r}")

        live = get("VAX_LIVE", "auto").lower()
        if live not in ("auto", "on", "off"):
            raise SettingsError(f"VAX_LIVE must be auto, on or off, not {live!r}")

        front = get("VAX_FRONT", "auto").lower()
        if front not in ("auto", "haproxy", "off"):
            raise SettingsError(f"VAX_FRONT must be auto, haproxy or off, not {front!r}")
        web_threads = _positive(get("VAX_WEB_THREADS", "128"), "VAX_WEB_THREADS")
        edge = get("VAX_EDGE", "on").lower()
        if edge not in ("on", "off"):
            raise SettingsError(f"VAX_EDGE must be on or off, not {edge!r}")
        front_app = _positive(get("VAX_FRONT_APP_CONNECTIONS", "16"), "VAX_FRONT_APP_CONNECTIONS")
        if front_app >= web_threads:
            raise SettingsError(
                f"VAX_FRONT_APP_CONNECTIONS ({front_app}) must be below VAX_WEB_THREADS "
                f"({web_threads}): the certificate lookup and /healthz need threads of their own"
            )

        return cls(
            mode=mode,  # type: ignore[arg-type]
            var_dir=var_dir,
            warehouse_dsn=get("VAX_WAREHOUSE_DSN", f"chdb://{var_dir / 'warehouse'}"),
            warehouse_database=database,
            warehouse_cluster=get("VAX_WAREHOUSE_CLUSTER"),
            source_dsn=get("VAX_SOURCE_DSN", f"sqlite:///{var_dir / 'registry.sqlite'}"),
            etl_worker=etl_worker,  # type: ignore[arg-type]
            cache_url=get("VAX_CACHE_URL", "simple://"),
            host=get("VAX_HOST", "127.0.0.1"),
            port=int(port_text),
            log_level=log_level,
            secret_key=secret_values["VAX_SECRET_KEY"],
            pseudonym_key=_decode_key(secret_values["VAX_PSEUDONYM_KEY"]),
            signing_key_path=Path(
                get("VAX_SIGNING_KEY_PATH", str(var_dir / "keys" / "signing-key.pem"))
            ),
            signing_cert_path=Path(
                get("VAX_SIGNING_CERT_PATH", str(var_dir / "keys" / "signing-cert.pem"))
            ),
            sms_sender=get("VAX_SMS_SENDER", "outbox"),
            internal_session_minutes=_positive(
                get("VAX_INTERNAL_SESSION_MINUTES", "480"), "VAX_INTERNAL_SESSION_MINUTES"
            ),
            silent_site_hours=_positive(get("VAX_SILENT_SITE_HOURS", "2"), "VAX_SILENT_SITE_HOURS"),
            web_threads=web_threads,
            shed_queue=_positive(get("VAX_SHED_QUEUE", "256"), "VAX_SHED_QUEUE"),
            web_connections=_positive(get("VAX_WEB_CONNECTIONS", "4096"), "VAX_WEB_CONNECTIONS"),
            front=front,  # type: ignore[arg-type]
            front_app_connections=front_app,
            edge=edge == "on",
            trusted_proxies=_count(get("VAX_TRUSTED_PROXIES", "0"), "VAX_TRUSTED_PROXIES"),
            compact_hour=_hour(get("VAX_COMPACT_HOUR", "2"), "VAX_COMPACT_HOUR"),
            sms_gateway_url=get("VAX_SMS_GATEWAY_URL"),
            sms_gateway_token=get("VAX_SMS_GATEWAY_TOKEN"),
            sms_gateway_sender_id=get("VAX_SMS_GATEWAY_SENDER_ID", "VAXVIET"),
            sms_gateway_timeout_seconds=_seconds(
                get("VAX_SMS_GATEWAY_TIMEOUT_SECONDS", "10"), "VAX_SMS_GATEWAY_TIMEOUT_SECONDS"
            ),
            sms_gateway_total_seconds=_seconds(
                get("VAX_SMS_GATEWAY_TOTAL_SECONDS", "30"), "VAX_SMS_GATEWAY_TOTAL_SECONDS"
            ),
            sms_workers=_positive(get("VAX_SMS_WORKERS", "32"), "VAX_SMS_WORKERS"),
            live=live,  # type: ignore[arg-type]
            live_interval=_positive(get("VAX_LIVE_INTERVAL", "5"), "VAX_LIVE_INTERVAL"),
        )


def _positive(text: str, name: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise SettingsError(f"{name} must be a whole number above 0, not {text!r}")
    return int(text)


def _hour(text: str, name: str) -> int | None:
    if text.strip().lower() == "off":
        return None
    if not text.isdigit() or int(text) > 23:
        raise SettingsError(f"{name} must be an hour 0-23 or 'off', not {text!r}")
    return int(text)


def _count(text: str, name: str) -> int:
    if not text.isdigit():
        raise SettingsError(f"{name} must be a whole number, 0 or more, not {text!r}")
    return int(text)


def _seconds(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a number of seconds above 0, not {text!r}")
    return value


def _decode_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise SettingsError("VAX_PSEUDONYM_KEY must be hexadecimal") from None
    if len(key) < _MIN_KEY_BYTES:
        raise SettingsError(
            f"VAX_PSEUDONYM_KEY must hold at least {_MIN_KEY_BYTES} bytes ({2 * _MIN_KEY_BYTES} hex digits)"
        )
    return key


def _embedded_secrets(var_dir: Path, given: dict[str, str]) -> dict[str, str]:
    """Secrets for embedded mode: given values win; the rest are generated once and kept."""
    path = var_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SettingsError(
                f"{path} is not valid JSON ({error}); delete it to regenerate"
            ) from None
    changed = False
    for name in _GENERATED_SECRETS:
        if name not in stored:
            stored[name] = secrets.token_hex(_MIN_KEY_BYTES)
            changed = True
    if changed:
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
        tmp.replace(path)
    return {name: given[name] or stored[name] for name in _GENERATED_SECRETS}
