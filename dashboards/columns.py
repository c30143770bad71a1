"""The table columns more than one page shows (a page writes its own others inline); every
heading is a text of :mod:`dashboards.i18n` (:class:`dashboards.view.Column`)."""

from __future__ import annotations

from typing import Final

from dashboards.view import Column

SITE: Final = Column("site_id")
SITE_NAME: Final = Column("name", label="site_name")
PROVINCE: Final = Column("province_code")
PROVINCE_NAME: Final = Column("province_name")
PRODUCT: Final = Column("vaccine_code")
LOT: Final = Column("lot_number")
DAY: Final = Column("day", "day")
DOSES: Final = Column("doses", "int")
LAST_HOUR: Final = Column("last_hour", "time")
CAPACITY: Final = Column("daily_capacity", "int")
DIFFERENCE: Final = Column("difference", "int")
DETAIL: Final = Column("detail")
REASON: Final = Column("reason")
SOURCE: Final = Column("source")
REJECTS: Final = Column("rejects", "int")
#: the counts of the ETL's checkpoints (per source, per hour)
CHECKPOINT_COUNTS: Final = (
    Column("batches", "int"),
    Column("rows_read", "int"),
    Column("rows_loaded", "int"),
    Column("rows_rejected", "int"),
    Column("rows_per_second", "float"),
)
