"""The registry's bulk writers' conversions, on small inline frames."""

from __future__ import annotations

import csv
import io

import pandas as pd

from registry.bulk import _csv_bytes, _prepared


def test_copy_csv_of_concatenated_strings_is_exact() -> None:
    """Frames the simulator concatenates carry empty Arrow chunks; Arrow's CSV writer once
    wrote other memory for them (NUL bytes, other columns' text) into COPY's input."""
    pieces = [
        pd.DataFrame({"citizen_id": pd.Series([], dtype="str"), "n": pd.Series([], dtype="int64")}),
        pd.DataFrame({"citizen_id": ["079213594576", "001190000001"], "n": [1, 2]}),
        pd.DataFrame({"citizen_id": pd.Series([], dtype="str"), "n": pd.Series([], dtype="int64")}),
        pd.DataFrame({"citizen_id": ['a "quoted", name', None], "n": [3, 4]}),
    ]
    frame = pd.concat(pieces, ignore_index=True)
    data = _csv_bytes(frame)
    assert b"\x00" not in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows == [["079213594576", "1"], ["001190000001", "2"], ['a "quoted", name', "3"],
                    ["", "4"]]  # fmt: skip
    assert data.splitlines()[-1] == b",4"  # NULL: unquoted and empty, unlike '""'


def test_copy_csv_instants_are_utc_with_microseconds() -> None:
    at = pd.Series(pd.to_datetime(["2021-08-04 09:30:01"]).tz_localize("Asia/Ho_Chi_Minh"))
    frame = _prepared(pd.DataFrame({"at": at, "day": pd.to_datetime(["2022-01-01"])}), "postgresql")
    assert _csv_bytes(frame) == b'2021-08-04 02:30:01.000000Z,"2022-01-01"\n'
