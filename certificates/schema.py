"""DCC payload validation: the JSON schema release of the payload's ``ver``, plus value sets.

Rules (docs/certificates.md):

* ``ver`` is "major.minor.patch" in ASCII digits; the release is the one equal to it; if
  that release does not exist, the newest with the same major.minor ("1.0.4" → 1.0.1); no
  such release is a failure;
* plain JSON Schema 2020-12: ``format`` is an annotation, not asserted;
* exactly one of ``v``, ``t``, ``r`` (older releases allow several groups);
* coded fields must be members of the eHealth Network value sets (listed, active or not; a
  value that is not text, such as a list, is no member): target disease, vaccine
  prophylaxis, product, manufacturer, test type and result. Not checked: the country (ISO
  3166 "where possible": the schema's own tests use "UNHCR") and rapid-test devices (that
  value set is only an example).

The schema and value-set files are the project's copy in ``certificates/data/dcc-schema/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

DATA_DIR = Path(__file__).resolve().parent / "data" / "dcc-schema"
CERTIFICATE_TYPES = ("v", "t", "r")

#: certificate type -> field -> value-set file
_CODED_FIELDS: dict[str, dict[str, str]] = {
    "v": {
        "tg": "disease-agent-targeted",
        "vp": "vaccine-prophylaxis",
        "mp": "vaccine-medicinal-product",
        "ma": "vaccine-mah-manf",
    },
    "t": {
        "tg": "disease-agent-targeted",
        "tt": "test-type",
        "tr": "test-result",
    },
    "r": {"tg": "disease-agent-targeted"},
}


#: a version number of more digits than this is read as this placeholder (int() refuses
#: texts of more than 4300 digits): it equals no release and is above them all
_MAX_DIGITS = 4000
_HUGE = 10**_MAX_DIGITS


def _version(text: str) -> tuple[int, ...] | None:
    """Major, minor and patch of a "1.3.0" text: ASCII digits only ("１.３.０" is no version)."""
    parts = text.split(".")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    numbers = (part.lstrip("0") or "0" for part in parts)
    return tuple(int(digits) if len(digits) <= _MAX_DIGITS else _HUGE for digits in numbers)


@cache
def releases() -> dict[tuple[int, ...], Path]:
    found: dict[tuple[int, ...], Path] = {}
    for path in (DATA_DIR / "schema").glob("*/*combined-schema.json"):
        version = _version(path.parent.name)
        if version is not None:
            found[version] = path
    return found


def release_for(ver: Any) -> tuple[int, ...] | None:
    """The schema release that validates a payload of version `ver`, or None."""
    version = _version(ver) if isinstance(ver, str) else None
    if version is None:
        return None
    available = releases()
    if version in available:
        return version
    same_minor = [known for known in available if known[:2] == version[:2]]
    return max(same_minor) if same_minor else None


@cache
def _validator(release: tuple[int, ...]) -> Draft202012Validator:
    schema = json.loads(releases()[release].read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


@cache
def value_set(name: str) -> frozenset[str]:
    document = json.loads((DATA_DIR / "valuesets" / f"{name}.json").read_text(encoding="utf-8"))
    return frozenset(document["valueSetValues"])


def certificate_type(dcc: Mapping[str, Any]) -> str | None:
    """'v', 't' or 'r' when exactly one group is present, else None."""
    present = [kind for kind in CERTIFICATE_TYPES if kind in dcc]
    return present[0] if len(present) == 1 else None


def problems(dcc: Any) -> list[str]:
    """Every reason `dcc` is not a valid payload; empty when it is valid."""
    if not isinstance(dcc, Mapping):
        return ["payload is not a JSON object"]
    release = release_for(dcc.get("ver"))
    if release is None:
        return [f"no schema release for ver {dcc.get('ver')!r}"]
    found = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in _validator(release).iter_errors(dcc)
    ]
    kind = certificate_type(dcc)
    if kind is None:
        found.append("exactly one of v, t, r must be present")
        return found
    entries = dcc.get(kind)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, Mapping):
            continue
        for name, set_name in _CODED_FIELDS[kind].items():
            value = entry.get(name)
            if value is None:
                continue
            if not isinstance(value, str) or value not in value_set(set_name):
                found.append(f"{kind}/{index}/{name}: {value!r} is not in value set {set_name}")
    return found
