"""Who may reach ``/internal/``: Flask-Login sessions for the users of :mod:`dashboards.users`.

* One guard (:func:`_guard`, a ``before_request`` hook on the whole server) covers every
  path under ``/internal``: the Dash pages, its JSON (``_dash-layout``,
  ``_dash-update-component``, …), its scripts, the CSV exports and the JSON API under
  ``/internal/api/``. An anonymous request gets the login page (a redirect, for a page) or
  ``401`` (anything else, the API included), never data. Only the login form itself is
  open.
* A login is a session kept on the server (:mod:`dashboards.sessions`): the browser's
  cookie holds only its token, renewed at every login. It lasts
  ``VAX_INTERNAL_SESSION_MINUTES`` from the moment of login (auto-refresh does not extend
  it); the session and user rows are read on every request, so logout, expiry and a
  disabled user end it at once, whatever copy of the cookie is presented. Logout is a POST
  with the form's token. The cookie is ``SameSite=Strict`` and ``HttpOnly``, and ``Secure``
  in production (:func:`vaxviet.server.secure`).
* :func:`scope` is the province every query is limited to, taken from the logged-in user
  on the server: never from the request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Final
from urllib.parse import urlencode

import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from dashboards import sessions, users
from dashboards.i18n import text
from web.cache import CACHE
from web.formatting import Lang, lang_of

log = logging.getLogger("vaxviet.dashboards")

PREFIX: Final = "/internal"
LOGIN_PATH: Final = f"{PREFIX}/login"
LOGOUT_PATH: Final = f"{PREFIX}/logout"
HOME_PATH: Final = f"{PREFIX}/"
#: the officials' JSON API (:mod:`dashboards.summary`): never redirected to the login page
API_PREFIX: Final = f"{PREFIX}/api"
ENGINE_KEY: Final = "vaxviet.dashboards.users"
#: the session's key in Flask's signed cookie: the token of the server-side session
_SESSION: Final = "internal_session"
#: failed logins allowed per user name and client address in `FAILURE_SECONDS`, then 429
MAX_FAILURES: Final = 10
FAILURE_SECONDS: Final = 900
_CSRF: Final = "internal_csrf"


class SessionUser(UserMixin):
    """The Flask-Login face of a :class:`dashboards.users.User`."""

    def __init__(self, user: users.User) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return self.user.active


def registry_engine() -> Engine:
    """The registry database (users; the reconciliation reads it too)."""
    engine: Engine = flask.current_app.extensions[ENGINE_KEY]
    return engine


_engine = registry_engine


def _load(user_id: str) -> SessionUser | None:
    """The logged-in user: the one of the live server-side session the cookie names."""
    token = flask.session.get(_SESSION)
    if not isinstance(token, str) or not token:
        return None
    user = sessions.resume(_engine(), token)
    if user is None or str(user.id) != user_id:
        return None
    return SessionUser(user)


def logged_in() -> users.User | None:
    if not current_user.is_authenticated:
        return None
    user: users.User = current_user.user
    return user


def scope() -> str:
    """The province the current user may see ("" = the whole country). Raises when nobody
    is logged in (the guard makes that unreachable from a request)."""
    user = logged_in()
    if user is None:
        flask.abort(401)
    return user.scope


def csrf_token() -> str:
    token = flask.session.get(_CSRF)
    if not token:
        token = flask.session[_CSRF] = secrets.token_urlsafe(24)
    return str(token)


def _csrf_ok() -> bool:
    given = flask.request.form.get("csrf", "")
    expected = flask.session.get(_CSRF, "")
    return bool(expected) and secrets.compare_digest(str(given), str(expected))


def _end_session(reason: sessions.EndReason) -> None:
    """End the browser's session on the server, then forget it in the browser."""
    token = flask.session.get(_SESSION)
    if isinstance(token, str) and token:
        sessions.end(_engine(), token, reason)
    logout_user()
    flask.session.clear()


def _safe_next(target: str | None) -> str:
    """Where to go after login: only a path inside the dashboards."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//"):
        return target
    return HOME_PATH


def _guard() -> Response | tuple[dict[str, str], int] | None:
    path = flask.request.path
    if path != PREFIX and not path.startswith(f"{PREFIX}/"):
        return None
    if path == LOGIN_PATH:
        return None
    if current_user.is_authenticated:
        return None
    wants_page = (
        flask.request.method == "GET"
        and "/_dash-" not in path
        and "/export/" not in path
        and not path.startswith(f"{API_PREFIX}/")
    )
    if wants_page:
        query = {"next": flask.request.full_path.rstrip("?")}
        lang = lang_of(flask.request.args.get("lang", "vi"))
        if lang == "en":
            query["lang"] = "en"
        return flask.redirect(f"{LOGIN_PATH}?{urlencode(query)}")
    return {"error": "login required"}, 401


_LOGIN_PAGE: Final = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1b1b; }
header { background: #3a2e5c; color: #fff; padding: 0.7rem 1rem; font-weight: 700; }
main { max-width: 24rem; margin: 2rem auto; padding: 0 1rem; }
label { display: block; margin: 0.8rem 0 0.2rem; }
input { font-size: 1rem; padding: 0.4rem; width: 100%; box-sizing: border-box; }
button { margin-top: 1rem; font-size: 1rem; padding: 0.4rem 1.2rem; }
.error { background: #fde2e1; border-left: 4px solid #b3261e; padding: 0.5rem; }
</style></head>
<body><header>VaxViet — {{ heading }}</header>
<main><h1>{{ title }}</h1>
{% if error %}<p class="error" role="alert" id="login-error">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="login-name">{{ name_label }}</label>
<input id="login-name" name="name" autocomplete="username" required>
<label for="login-password">{{ password_label }}</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="login-submit">{{ submit }}</button>
</form>
<p><a href="{{ other_href }}">{{ other_label }}</a></p></main></body></html>
"""


def _login_page(lang: Lang, next_path: str, error: str = "") -> str:
    other: Lang = "vi" if lang == "en" else "en"
    query = {"next": next_path, **({"lang": "en"} if other == "en" else {})}
    return flask.render_template_string(
        _LOGIN_PAGE,
        lang=lang,
        title=text("login.title", lang),
        heading=text("app.title", lang),
        error=error,
        action=LOGIN_PATH + ("?lang=en" if lang == "en" else ""),
        csrf=csrf_token(),
        next=next_path,
        name_label=text("login.name", lang),
        password_label=text("login.password", lang),
        submit=text("login.submit", lang),
        other_href=f"{LOGIN_PATH}?{urlencode(query)}",
        other_label=text("lang.switch", lang),
    )


def _failures_key(name: str) -> str:
    """The failed-login counter of a user name from this client (hashed: no names in keys)."""
    client = flask.request.remote_addr or ""
    digest = hashlib.sha256(f"{name.strip().lower()}|{client}".encode()).hexdigest()[:24]
    return f"login-failures:{digest}"


def login() -> Response | str | tuple[str, int]:
    lang = lang_of(flask.request.args.get("lang", "vi"))
    if flask.request.method == "GET":
        if current_user.is_authenticated:
            return flask.redirect(_safe_next(flask.request.args.get("next")))
        return _login_page(lang, _safe_next(flask.request.args.get("next")))
    next_path = _safe_next(flask.request.form.get("next"))
    if not _csrf_ok():
        return _login_page(lang, next_path, text("login.expired", lang)), 400
    name = flask.request.form.get("name", "")
    failures_key = _failures_key(name)
    failures = int(CACHE.get(failures_key) or 0)
    if failures >= MAX_FAILURES:
        return _login_page(lang, next_path, text("login.throttled", lang)), 429
    user = users.authenticate(_engine(), name, flask.request.form.get("password", ""))
    if user is None:
        CACHE.set(failures_key, failures + 1, timeout=FAILURE_SECONDS)
        return _login_page(lang, next_path, text("login.failed", lang)), 401
    CACHE.delete(failures_key)
    # a new session, never the browser's earlier one (which ends on the server too)
    _end_session("replaced")
    lifetime = flask.current_app.config["VAX_INTERNAL_SESSION_MINUTES"]
    flask.session[_SESSION] = sessions.start(_engine(), user.id, lifetime)
    login_user(SessionUser(user))
    flask.session[_CSRF] = secrets.token_urlsafe(24)  # a new token for the new session
    return flask.redirect(next_path)


def logout() -> Response | tuple[dict[str, str], int]:
    if not _csrf_ok():
        return {"error": "bad form token"}, 400
    _end_session("logout")
    lang = lang_of(flask.request.args.get("lang", "vi"))
    return flask.redirect(LOGIN_PATH + ("?lang=en" if lang == "en" else ""))


def init_auth(server: flask.Flask, engine: Engine, session_minutes: int) -> None:
    """Sessions, the guard and the login/logout routes for ``/internal``."""
    try:
        users.ensure_table(engine)
    except SQLAlchemyError as error:  # the portal must still start; logins fail until it is back
        log.warning("dashboard users table not available (registry unreachable?): %s", error)
    server.extensions[ENGINE_KEY] = engine
    server.config["VAX_INTERNAL_SESSION_MINUTES"] = session_minutes
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(_load)
    manager.init_app(server)
    server.before_request(_guard)
    server.add_url_rule(LOGIN_PATH, "internal_login", login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "internal_logout", logout, methods=["POST"])
