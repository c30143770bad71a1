"""Plain HTML for a Dash layout, sent inside the page itself.

The server renders the page a visitor asked for (frame and page layout) into the HTML
response, so the figures, the ranking table and the data-as-of stamp are readable text
before any script has run, and stay readable without JavaScript. When Dash has loaded and
rendered the same page itself, ``assets/prerendered.js`` removes this copy (see
:mod:`portal.app`).

:func:`to_html` is a pure function of the component tree: ``dash.html`` components become
their HTML element; the few ``dash.dcc`` components the portal uses become their static
look (links as links, radio items as checked radio buttons, inputs with their value, a
graph as an empty box of its size); stores, downloads and locations render nothing. Form
controls are rendered ``disabled``: they only work once Dash has taken over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import escape
from typing import Any, Final

from dash.development.base_component import Component

VOID_TAGS: Final = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Dash prop name → HTML attribute
ATTRIBUTES: Final = {"className": "class", "htmlFor": "for", "tabIndex": "tabindex"}
#: Dash-only props that are no HTML attribute
DASH_PROPS: Final = frozenset(
    {"children", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "key", "setProps",
     "loading_state", "n_blur", "n_blur_timestamp", "n_submit", "n_submit_timestamp"}
)  # fmt: skip
#: dcc components with nothing to show
INVISIBLE: Final = frozenset({"Store", "Download", "Location", "Interval"})
#: form controls: disabled until Dash takes over
CONTROLS: Final = frozenset({"button", "input", "select", "textarea"})


def _css(style: Mapping[str, Any]) -> str:
    def kebab(name: str) -> str:
        return re.sub(r"([A-Z])", lambda m: "-" + m[1].lower(), name)

    return "; ".join(f"{kebab(k)}: {v}" for k, v in style.items())


def _attributes(props: Mapping[str, Any]) -> str:
    parts = []
    for name, value in props.items():
        if name in DASH_PROPS or value is None or value is False:
            continue
        if name == "id" and not isinstance(value, str):
            continue  # pattern-matching IDs exist only in Dash's own tree
        if name == "style" and isinstance(value, Mapping):
            value = _css(value)
        attribute = ATTRIBUTES.get(name, name)
        if value is True:
            parts.append(f" {attribute}")
        else:
            parts.append(f' {attribute}="{escape(str(value), quote=True)}"')
    return "".join(parts)


def _element(tag: str, props: Mapping[str, Any], inner: str = "") -> str:
    opening = f"<{tag}{_attributes(props)}>"
    return opening if tag in VOID_TAGS else f"{opening}{inner}</{tag}>"


def _options(options: Any) -> list[tuple[str, Any]]:
    """dcc option lists in any of their forms, as (value, label) pairs."""
    if isinstance(options, Mapping):
        return [(str(value), label) for value, label in options.items()]
    pairs = []
    for option in options or []:
        if isinstance(option, Mapping):
            pairs.append((str(option.get("value")), option.get("label", option.get("value"))))
        else:
            pairs.append((str(option), option))
    return pairs


def _dcc(kind: str, props: dict[str, Any]) -> str:
    children = to_html(props.get("children"))
    basic = {k: props.get(k) for k in ("id", "className", "title", "style")}
    if kind in INVISIBLE:
        return ""
    if kind == "Link":
        return _element("a", {**basic, "href": props.get("href")}, children)
    if kind in ("RadioItems", "Checklist"):
        form = "radio" if kind == "RadioItems" else "checkbox"
        chosen = props.get("value")
        chosen = {str(v) for v in chosen} if isinstance(chosen, list) else {str(chosen)}

        def item(value: str, label: Any) -> str:
            box = {"type": form, "name": props.get("id"), "value": value,
                   "checked": value in chosen, "disabled": True,
                   "className": props.get("inputClassName")}  # fmt: skip
            inner = _element("input", box) + to_html(label)
            return _element("label", {"className": props.get("labelClassName")}, inner)

        items = "".join(item(value, label) for value, label in _options(props.get("options")))
        return _element("div", basic, items)
    if kind in ("Input", "DatePickerSingle"):
        value = props.get("date") if kind == "DatePickerSingle" else props.get("value")
        kind_of = "date" if kind == "DatePickerSingle" else props.get("type", "text")
        return _element(
            "input",
            {**basic, "type": kind_of, "value": value, "placeholder": props.get("placeholder"),
             "disabled": True, **{k: v for k, v in props.items() if k.startswith("aria-")}},
        )  # fmt: skip
    if kind == "Textarea":
        return _element("textarea", {**basic, "disabled": True}, escape(props.get("value") or ""))
    if kind == "Graph":
        return _element("div", {**basic, "className": f"dash-graph {props.get('className') or ''}"})
    if kind == "Markdown":
        text = props.get("children")
        text = "".join(text) if isinstance(text, list) else str(text or "")
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        return _element("div", basic, "".join(f"<p>{escape(p)}</p>" for p in paragraphs))
    return _element("div", basic, children)  # Upload and the rest: their children


def to_html(node: Any) -> str:
    """The HTML of a Dash component tree (components, lists, strings and numbers)."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return escape(str(node), quote=False)
    if isinstance(node, list | tuple):
        return "".join(to_html(child) for child in node)
    if not isinstance(node, Component):
        return escape(json.dumps(node, default=str), quote=False)
    described = node.to_plotly_json()
    kind, namespace, props = described["type"], described["namespace"], described["props"]
    if namespace == "dash_html_components":
        tag = (kind[:-2] if kind.endswith("El") else kind).lower()  # ObjectEl → object
        if tag in CONTROLS:
            props = {**props, "disabled": True}
        return _element(tag, props, to_html(props.get("children")))
    if namespace == "dash_core_components":
        return _dcc(kind, props)
    return to_html(props.get("children"))
