"""The certificate lookup's warehouse reads, shared between concurrent lookups.

A lookup reads three things: the identity on record for the typed-in CCCD (code request),
then that identity again and the person's live doses (confirm). Each is a point read whose
statement costs far more than the read itself, so lookups in flight at the same moment
share statements (`warehouse.batching.Coalesced`): one identity statement for every key
queued while the previous one ran, one dose statement likewise. A lone lookup runs its own
statements at once, as before.

The citizen key of a typed-in CCCD is made in Python (`warehouse.pseudonyms`, equal to
the ETL's SQL), so the identity read is a plain key-value get. Everything here is keyed by
the pseudonym; the typed details never leave the caller.
"""

from __future__ import annotations

from certificates import issue
from certificates.issue import Dose, Identity
from warehouse.batching import Coalesced
from warehouse.client import Warehouse

#: how long a code request's identity read waits for others to share its statement when
#: code requests are arriving close together (a lone one runs at once); the request answers
#: no sooner than its floor (0.4 s, `certificates.web`), so the citizen does not see it, and
#: the server makes a fraction of the statements (docs/certificates.md)
CODE_REQUEST_LINGER = 0.05


class CitizenReads:
    """Identity and dose reads of one warehouse, coalesced across threads."""

    def __init__(self, warehouse: Warehouse, pseudonym_key: bytes) -> None:
        self.warehouse = warehouse
        self.pseudonym_key = pseudonym_key
        self.identities: Coalesced[str, Identity | None] = Coalesced(
            lambda keys: issue.load_identities(warehouse, keys), lambda: None
        )
        self.doses: Coalesced[str, tuple[Dose, ...]] = Coalesced(
            lambda keys: issue.load_doses_of(warehouse, keys), tuple
        )
        #: the code request's identity reads: the same statement, lingering (above)
        self.typed_identities: Coalesced[str, Identity | None] = Coalesced(
            lambda keys: issue.load_identities(warehouse, keys),
            lambda: None,
            linger=CODE_REQUEST_LINGER,
        )

    def find_identity(self, citizen_id: str, phone: str = "") -> tuple[str, Identity | None, str]:
        """(citizen key, identity on record, typed phone's hash) for a typed-in CCCD;
        ("", None, "") when no one has that CCCD."""
        key, typed_phone_hash = issue.citizen_key(self.pseudonym_key, citizen_id, phone)
        identity = self.typed_identities.get(key)
        return (key, identity, typed_phone_hash) if identity is not None else ("", None, "")

    def citizen(self, key: str) -> tuple[Identity | None, tuple[Dose, ...]]:
        """The identity on record (None if unknown) and live doses, oldest first."""
        return self.identities.get(key), self.doses.get(key)
