"""Province names beside GSO codes, in the page's language."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from web.formatting import Lang


@lru_cache(maxsize=2)
def province_names(lang: Lang) -> dict[str, str]:
    from geo.provinces import load_provinces

    provinces = load_provinces()
    column = "name_en" if lang == "en" else "name_vi"
    return dict(zip(provinces["gso_code"], provinces[column], strict=True))


def with_names(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """`frame` with ``province_name`` beside its ``province_code`` (national rows: "")."""
    names = province_names(lang)
    return frame.assign(province_name=frame["province_code"].map(names).fillna(""))
