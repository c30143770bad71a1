"""Correction requests written in bulk: the rows `registry.corrections` writes, built from
records the caller already holds.

The campaign simulator files and resolves its requests inside its bulk load, where a query
per request would cost more than the requests are worth (the doses' citizen index is built
only at the end of a seed). So it keeps the records of the citizens concerned and asks this
module for the rows each action writes — the same rows, field for field, as the service
functions (a test runs both on one registry and compares them):

* :func:`request_row` and the audit rows :func:`filed_audit`, :func:`approved_audit`,
  :func:`rejected_audit`;
* :func:`approve`: what approval changes in the registry — the new dose of a missing dose
  (numbered after the valid doses before it, the later ones renumbered), the void of a dose
  that is not the citizen's, the corrected identity and a new version of every dose — and
  the record after it;
* :func:`record`: the record as `corrections.citizen_record` shows it (the audit's before
  and after);
* :func:`reference`: a reference of the service's shape, drawn from the caller's generator
  (the service draws from `secrets`; a seeded campaign must be reproducible).

The rules the service checks at filing (a valid claim, no duplicate open request, a missing
dose not already on record) are the caller's to keep: the simulator files only claims that
pass them. Doses are dicts with the `doses` table's columns, ``administered_at`` and
``recorded_at`` as aware timestamps; identities have the `citizens` columns as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from registry.corrections import (
    IDENTITY_FIELDS,
    LOCAL,
    MISSING_DOSE_HOUR,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    CorrectionError,
)

IDENTITY_COLUMNS = ("citizen_id", "full_name", "date_of_birth", "sex", "residence_province")
#: A dose as `corrections.citizen_record` shows it, in its key order.
RECORD_DOSE_FIELDS = ("dose_id", "version", "status", "dose_number", "vaccine_code", "lot_number",
                      "site_id", "site_name", "province_code")  # fmt: skip
REQUEST_COLUMNS = ["request_id", "reference", "citizen_id", "kind", "province_code", "dose_id",
                   "claim", "status", "reason", "filed_at", "resolved_at", "resolved_by"]  # fmt: skip
AUDIT_COLUMNS = ["request_id", "action", "actor", "at", "before", "after"]


def reference(rng: np.random.Generator) -> str:
    """``VX-`` and 10 characters of the service's alphabet (no look-alikes)."""
    letters = rng.integers(0, len(REFERENCE_ALPHABET), REFERENCE_LENGTH)
    return "VX-" + "".join(REFERENCE_ALPHABET[i] for i in letters)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _iso(moment: pd.Timestamp) -> str:
    return pd.Timestamp(moment).tz_convert("UTC").isoformat()


def record(
    identity: dict[str, str], doses: list[dict[str, Any]], site_names: dict[str, str]
) -> dict[str, Any]:
    """``{"identity": …, "doses": […]}`` as the audit keeps a citizen's record: the identity's
    fields as text, the doses in order of administration (then dose_id)."""
    ordered = sorted(
        doses, key=lambda dose: (pd.Timestamp(dose["administered_at"]), dose["dose_id"])
    )
    return {
        "identity": {name: str(identity[name]) for name in IDENTITY_COLUMNS},
        "doses": [
            {
                **{name: _plain(dose[name]) for name in RECORD_DOSE_FIELDS if name != "site_name"},
                "site_name": site_names[dose["site_id"]],
                "administered_at": _iso(dose["administered_at"]),
            }
            for dose in ordered
        ],
    }


def _plain(value: Any) -> Any:
    """NumPy scalars as the Python values a database driver returns."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class Approval:
    """What approving one request writes: `identity` (the citizen after it) with
    `identity_changed`, `added` (a new dose or None) and `changed` (doses after it, each
    a new version), and the citizen's doses after it."""

    identity: dict[str, str]
    doses: list[dict[str, Any]]
    added: dict[str, Any] | None = None
    changed: list[dict[str, Any]] = field(default_factory=list)
    identity_changed: bool = False


def approve(
    request_id: int,
    kind: str,
    claim: dict[str, Any],
    dose_id: str | None,
    identity: dict[str, str],
    doses: list[dict[str, Any]],
    at: pd.Timestamp,
) -> Approval:
    """The changes `corrections.approve` writes for this request, given the citizen's
    `identity` and every dose of theirs on record at `at`; raises `CorrectionError` where
    the service would (a sixth dose, a dose no longer valid)."""
    doses = [dict(dose) for dose in doses]
    if kind == "missing_dose":
        return _add_dose(request_id, claim, identity, doses, at)
    if kind == "not_mine":
        target = [d for d in doses if d["dose_id"] == dose_id and d["status"] == "valid"]
        if not target:
            raise CorrectionError("changed", "Mũi tiêm đã thay đổi / The dose has changed")
        _new_version(target[0], at, status="void")
        return Approval(dict(identity), doses, changed=target)
    corrected = dict(identity)
    for name in IDENTITY_FIELDS:
        if name in claim:
            corrected[name] = str(claim[name])
    changed = sorted(doses, key=lambda dose: dose["dose_id"])
    for dose in changed:
        _new_version(dose, at)
    return Approval(corrected, doses, changed=changed, identity_changed=True)


def _new_version(dose: dict[str, Any], at: pd.Timestamp, **values: Any) -> None:
    dose.update(values, version=int(dose["version"]) + 1, recorded_at=at)


def _add_dose(request_id: int, claim: dict[str, Any], identity: dict[str, str],
              doses: list[dict[str, Any]], at: pd.Timestamp) -> Approval:  # fmt: skip
    given = pd.Timestamp(
        datetime.combine(date.fromisoformat(claim["day"]), MISSING_DOSE_HOUR, LOCAL)
    )
    valid = [dose for dose in doses if dose["status"] == "valid"]
    number = 1 + sum(pd.Timestamp(dose["administered_at"]) < given for dose in valid)
    if number > 5:
        raise CorrectionError("invalid", "Quá 5 mũi tiêm / More than 5 doses")
    later = sorted(
        (dose for dose in valid if pd.Timestamp(dose["administered_at"]) > given),
        key=lambda dose: pd.Timestamp(dose["administered_at"]),
    )
    for dose in later:
        _new_version(dose, at, dose_number=min(5, int(dose["dose_number"]) + 1))
    added = {
        "dose_id": f"VC{request_id:012d}",
        "version": 1,
        "status": "valid",
        "citizen_id": identity["citizen_id"],
        "site_id": claim["site_id"],
        "province_code": claim["province_code"],
        "vaccine_code": claim["vaccine_code"],
        "lot_number": claim["lot_number"] or "UNKNOWN",
        "dose_number": number,
        "administered_at": given,
        "recorded_at": at,
    }
    return Approval(dict(identity), [*doses, added], added=added, changed=later)


# -- rows ---------------------------------------------------------------------------------


def request_row(request_id: int, ref: str, citizen_id: str, kind: str, province_code: str,
                dose_id: str | None, claim: dict[str, Any],
                filed_at: pd.Timestamp) -> dict[str, Any]:  # fmt: skip
    """A request as `corrections.file_request` inserts it (open)."""
    return {
        "request_id": request_id,
        "reference": ref,
        "citizen_id": citizen_id,
        "kind": kind,
        "province_code": province_code,
        "dose_id": dose_id,
        "claim": _json(claim),
        "status": "open",
        "reason": None,
        "filed_at": filed_at,
        "resolved_at": None,
        "resolved_by": None,
    }


def filed_audit(request_id: int, kind: str, claim: dict[str, Any], at: pd.Timestamp,
                actor: str = "citizen") -> dict[str, Any]:  # fmt: skip
    return _audit(request_id, "filed", actor, at, {}, {"kind": kind, "claim": claim})


def approved_audit(request_id: int, official: str, at: pd.Timestamp, before: dict[str, Any],
                   after: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return _audit(request_id, "approved", official, at, before, after)


def rejected_audit(request_id: int, official: str, at: pd.Timestamp,
                   reason: str) -> dict[str, Any]:  # fmt: skip
    return _audit(request_id, "rejected", official, at, {"status": "open"},
                  {"status": "rejected", "reason": reason})  # fmt: skip


def _audit(request_id: int, action: str, actor: str, at: pd.Timestamp, before: dict[str, Any],
           after: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {"request_id": request_id, "action": action, "actor": actor, "at": at,
            "before": _json(before), "after": _json(after)}  # fmt: skip
