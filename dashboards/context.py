"""What a page is built for (:class:`dashboards.view.Context`): the province scope of the
logged-in user and the URL, the language and "now".

The province comes from the user (a provincial user can never widen it: a URL or a forged
callback naming another province raises :class:`ScopeDeniedError`, and the caller answers
with a refusal and no figures). National users drill down with ``?province=<code>``.
"""

from __future__ import annotations

from datetime import datetime

from dashboards import auth, data
from dashboards.names import province_names
from dashboards.throughput import reference_time
from dashboards.view import Context
from geo.calendar import LOCAL_ZONE
from vaxviet.services import current_services
from web.formatting import Lang, lang_of


class ScopeDeniedError(Exception):
    """A provincial user asked for another province."""


def local_now() -> datetime:
    """The local wall clock to the minute, naive (pages are memoized per minute of it)."""
    return datetime.now(LOCAL_ZONE).replace(tzinfo=None, second=0, microsecond=0)


def requested_province(query: dict[str, list[str]]) -> str:
    """The province the URL query asks for, if it is one ("" otherwise)."""
    code = (query.get("province") or [""])[0]
    return code if code in province_names("vi") else ""


def requested_lang(query: dict[str, list[str]]) -> Lang:
    return lang_of((query.get("lang") or ["vi"])[0])


def context_for(query: dict[str, list[str]]) -> Context:
    """The page context for the logged-in user and the URL query. The province is the
    user's own for a provincial user (asking for another raises), the one asked for (or
    the whole country) for a national user."""
    own = auth.scope()
    asked = requested_province(query)
    if own and (query.get("province") or [own])[0] != own:
        raise ScopeDeniedError(asked)
    return page_context(own or asked, requested_lang(query))


def page_context(province: str, lang: Lang) -> Context:
    """The page context of a scope (already checked against the user) and a language, at
    the current minute."""
    from web.data import updated_at

    clock = local_now()
    now, live = reference_time(data.latest_hour(), clock)
    return Context(
        province=province,
        lang=lang,
        now=now,
        live=live,
        silent_hours=current_services().settings.silent_site_hours,
        updated=updated_at(),
        clock=clock,
    )
