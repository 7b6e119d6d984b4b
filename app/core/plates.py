"""Plates (车牌): the one format every domain accepts, and how a typed plate is cleaned."""
from __future__ import annotations

import re

from app.core.errors import Invalid

PLATE_RE = re.compile(r"^[A-Z0-9\u4e00-\u9fff]{4,10}$")
_SEPARATORS = re.compile(r"[\s·.\-]")
PLATE_RULE = "A plate is 4 to 10 letters, digits or Chinese characters."


def clean_plate(raw: str | None) -> str:
    """Without blanks, dots and dashes, in capitals: what a search compares too."""
    return _SEPARATORS.sub("", raw or "").upper()


def normalize_plate(raw: str | None) -> str:
    """The plate as stored; Invalid (bad_plate) when it is not one."""
    plate = clean_plate(raw)
    if not PLATE_RE.match(plate):
        raise Invalid("bad_plate", PLATE_RULE, {"plate": "invalid"})
    return plate
