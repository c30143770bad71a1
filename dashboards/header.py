"""The header above every page: the brand, the pages, the user and their scope, the other
language and the logout form."""

from __future__ import annotations

from dash import dcc, html

from dashboards import auth
from dashboards.corrections import PATH as CORRECTIONS_PATH
from dashboards.i18n import text
from dashboards.names import province_names
from dashboards.pages import HOME, PAGES
from dashboards.view import page_href
from web.formatting import Lang


def header(path: str, lang: Lang, province: str) -> html.Header:
    """The header of the page at `path` in `lang`; a national user's drill-down to
    `province` is kept by the links to the other pages and the other language."""
    user = auth.logged_in()
    assert user is not None
    keep = {"province": province} if province and not user.scope else {}
    who = f"{user.name} · " + (
        f"{text('scope.province', lang)} {province_names(lang)[user.scope]}"
        if user.scope
        else text("scope.national", lang)
    )
    other: Lang = "vi" if lang == "en" else "en"
    return html.Header(
        [
            html.A(
                f"VaxViet — {text('app.title', lang)}",
                href=page_href(HOME, lang),
                className="brand",
            ),
            html.Nav(
                [
                    dcc.Link(
                        text(key, lang),
                        href=page_href(page_path, lang, **keep),
                        className="nav-link current" if page_path == path else "nav-link",
                    )
                    for page_path, (key, _) in PAGES.items()
                ]
                + [
                    dcc.Link(
                        text("nav.corrections", lang),
                        href=page_href(CORRECTIONS_PATH, lang),
                        className="nav-link current" if path == CORRECTIONS_PATH else "nav-link",
                        id="dash-corrections",
                    )
                ]
            ),
            html.Span(who, className="who", id="dash-user"),
            dcc.Link(
                text("lang.switch", lang),
                href=page_href(path, other, **keep),
                className="lang-link",
                id="dash-lang",
            ),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=auth.csrf_token()),
                    html.Button(text("logout", lang), type="submit", id="dash-logout"),
                ],
                method="POST",
                action=auth.LOGOUT_PATH + ("?lang=en" if lang == "en" else ""),
                className="logout",
            ),
        ],
        className="site-header",
    )
