"""The local time zone and the campaign calendar: one definition for every layer.

* :data:`TIME_ZONE` — the IANA name of Viet Nam's single time zone (UTC+7 all year, no
  daylight saving time since 1975). Pandas takes it as a string (``tz_localize``,
  ``tz_convert``, ``datetime64[ms, Asia/Ho_Chi_Minh]``); the warehouse's SQL files spell the
  same name literally in their ``DateTime64(3, 'Asia/Ho_Chi_Minh')`` columns, because
  ClickHouse needs it in the statement text (a unit test checks that every literal zone in
  the code equals this constant).
* :data:`LOCAL_ZONE` — the same zone as a :class:`zoneinfo.ZoneInfo`, for
  :meth:`datetime.datetime.astimezone` and aware ``datetime`` values.
* :data:`CAMPAIGN_START` — 8 March 2021, the first COVID-19 vaccination in Viet Nam
  (AstraZeneca, in Hải Dương); the first day of OWID's series with doses, so the first day of
  ``registry/data/national_daily.csv`` and of the simulated registry.
* :data:`CAMPAIGN_END` — 30 June 2023, the last day OWID reports for Viet Nam
  (``total_vaccinations`` 266,492,149); the last day the simulator seeds by default.
* :data:`SNAPSHOT_DAY` — 4 August 2021, the day of the only per-province snapshot (the MoH
  vaccination portal, ``vn_moh_vaccination_by_province_2021-08-04.csv``); the provincial
  split of the simulated doses is calibrated on it, and the public portal falls back to it
  when the warehouse holds no day.

The number of provinces is :data:`geo.provinces.N_PROVINCES` (63, pre-July-2025 boundaries).

Importing this module builds :data:`LOCAL_ZONE`, which reads the zone from the system's time
zone database (or the ``tzdata`` package); :mod:`geo` itself does not import it.
"""

from __future__ import annotations

from datetime import date
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["CAMPAIGN_END", "CAMPAIGN_START", "LOCAL_ZONE", "SNAPSHOT_DAY", "TIME_ZONE"]

#: IANA name of the local time zone (a string: what pandas and ClickHouse take).
TIME_ZONE: Final = "Asia/Ho_Chi_Minh"
#: The local time zone as a tzinfo.
LOCAL_ZONE: Final = ZoneInfo(TIME_ZONE)
#: First day of the vaccination campaign (OWID's first day with doses).
CAMPAIGN_START: Final = date(2021, 3, 8)
#: Last day of the vaccination campaign as reported (OWID's last day for Viet Nam).
CAMPAIGN_END: Final = date(2023, 6, 30)
#: Day of the only per-province snapshot (MoH vaccination portal).
SNAPSHOT_DAY: Final = date(2021, 8, 4)
