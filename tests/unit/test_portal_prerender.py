"""The server-side HTML of Dash layouts (portal.prerender) on small inline trees."""

from __future__ import annotations

from html.parser import HTMLParser

from dash import dcc, html

from portal.prerender import to_html


class Elements(HTMLParser):
    """The start tags of a document with their attributes, to check structure, not text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(markup)
    return parser.tags


def test_html_components_become_their_elements_with_escaped_text() -> None:
    tree = html.Div(
        [
            html.H1("Số liệu <mới> & đúng"),
            html.Label("Tỉnh", htmlFor="p"),
            html.Del("old"),
            html.ObjectEl(),
            html.Span("1.234", className="figure", **{"data-value": "1234", "aria-live": "polite"}),
            html.Img(src="/a.png", alt='say "hi"'),
            html.Section(None, hidden=True, style={"marginTop": "1px"}),
            42,
        ],
        id="root",
        tabIndex="-1",
    )
    markup = to_html(tree)
    assert "Số liệu &lt;mới&gt; &amp; đúng" in markup and markup.endswith("42</div>")
    tags = elements(markup)
    assert [t for t, _ in tags] == ["div", "h1", "label", "del", "object", "span", "img", "section"]
    assert tags[0][1] == {"id": "root", "tabindex": "-1"}
    assert tags[2][1] == {"for": "p"}
    assert tags[5][1] == {"class": "figure", "data-value": "1234", "aria-live": "polite"}
    assert tags[6][1]["alt"] == 'say "hi"' and "</img>" not in markup
    assert tags[7][1] == {"hidden": None, "style": "margin-top: 1px"}


def test_controls_are_disabled_until_dash_takes_over() -> None:
    markup = to_html(
        html.Div(
            [
                html.Button("Tải CSV", id="download", n_clicks=0),
                html.Button("▲", id={"type": "sort", "column": "doses"}),
                dcc.RadioItems(
                    id="metric",
                    options=[{"label": "≥ 1 mũi", "value": "pct_dose1"}, {"label": "Đủ", "value": "pct_full"}],
                    value="pct_full",
                    inputClassName="radio-input",
                ),
                dcc.Input(id="q", value="01", placeholder="mã"),
                dcc.DatePickerSingle(id="day", date="2021-08-04"),
            ]
        )
    )  # fmt: skip
    tags = elements(markup)
    buttons = [a for t, a in tags if t == "button"]
    assert all("disabled" in a for a in buttons) and "n_clicks" not in markup
    assert "id" not in buttons[1]  # pattern-matching IDs live only in Dash's own tree
    radios = [a for t, a in tags if t == "input" and a.get("type") == "radio"]
    assert [(a["value"], "checked" in a, "disabled" in a) for a in radios] == [
        ("pct_dose1", False, True),
        ("pct_full", True, True),
    ]
    assert "≥ 1 mũi" in markup
    fields = {a["id"]: a for t, a in tags if t == "input" and a.get("id") in ("q", "day")}
    assert fields["q"]["value"] == "01" and fields["q"]["placeholder"] == "mã"
    assert fields["day"] == {"id": "day", "type": "date", "value": "2021-08-04", "disabled": None}


def test_dash_only_components_render_their_static_look() -> None:
    markup = to_html(
        [
            dcc.Store(id="s", data={"secret": 1}),
            dcc.Location(id="url"),
            dcc.Download(id="d"),
            dcc.Link("Hà Nội", href="/province/01?lang=en", className="x"),
            dcc.Graph(id="map", figure={"data": [{"z": [1, 2]}]}, className="map-graph"),
            dcc.Markdown("# Title\n\nSecond <b>para</b>"),
        ]
    )
    assert "secret" not in markup and "url" not in markup and '"z"' not in markup
    tags = elements(markup)
    assert tags[0] == ("a", {"class": "x", "href": "/province/01?lang=en"})
    assert tags[1] == ("div", {"id": "map", "class": "dash-graph map-graph"})
    assert "<p>Second &lt;b&gt;para&lt;/b&gt;</p>" in markup
