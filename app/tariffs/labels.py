"""Fee lines in the reader's language. The engine (app/tariffs/engine) is pure and fast: it writes each
line's label in English once, and orders keep those labels in `fee_lines`. Pages translate them here,
by the shapes the engine writes, so old and new lines read the same in both languages."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.core.labels import label, register

register("fee_line_kind", {
    "band": _l("Time band"), "free": _l("Free time"), "first_period": _l("First period"), "cap": _l("Cap"),
    "assist": _l("Assist price"), "flat": _l("Flat fee"), "grace": _l("Grace period"), "pass": _l("Monthly pass"),
    "repeat": _l("Repeated days"), "rounding": _l("Rounding"),
})

register("tariff_kind", {"parkingos": _l("Day and night price table"), "banded": _l("Time bands")})

BAND_NAMES = {"day": _l("day"), "night": _l("night")}
_TIER = re.compile(r"^(?P<name>.+), tier (?P<n>\d+)$")

# (the engine's label, as a pattern) -> the message; a group named `band` is a band name, translated too
LINE_PATTERNS = [(re.compile(pattern), message) for pattern, message in (
    (r"^within free time \((?P<minutes>\d+) min\)$", _l("within free time (%(minutes)s min)")),
    (r"^(?P<band>.+): within free time \((?P<minutes>\d+) min\)$", _l("%(band)s: within free time (%(minutes)s min)")),
    (r"^(?P<band>.+): free time deducted$", _l("%(band)s: free time deducted")),
    (r"^(?P<band>.+): first period \(首优惠时段\)$", _l("%(band)s: first period")),
    (r"^(?P<band>.+), (?P<count>\d+) full band\(s\)$", _l("%(band)s, %(count)s full bands")),
    (r"^(?P<band>.+) \(x(?P<days>\d+) days\)$", _l("%(band)s (× %(days)s days)")),
    (r"^first (?P<minutes>\d+) min flat$", _l("first %(minutes)s min at a flat price")),
    (r"^per visit, per (?P<minutes>\d+) min$", _l("per visit, per %(minutes)s min")),
    (r"^per visit$", _l("per visit")),
    (r"^entry fee$", _l("entry fee")),
    (r"^daily cap \(每日封顶\)$", _l("daily cap")),
    (r"^24 h cap \(24小时封顶\)$", _l("24 h cap")),
    (r"^per-stay cap \(单次封顶\)$", _l("per-stay cap")),
    (r"^(?P<count>\d+) further 24 h window\(s\) at the cap$", _l("%(count)s further 24 h windows at the cap")),
    (r"^(?P<count>\d+) further 24 h window\(s\) priced like the previous one$",
     _l("%(count)s further 24 h windows priced like the previous one")),
    (r"^stay under the (?P<minutes>\d+) min grace period$", _l("stay under the %(minutes)s min grace period")),
    (r"^covered by pass$", _l("covered by the monthly pass")),
    (r"^pass gives no saving on this stay: normal fee applies$",
     _l("the monthly pass gives no saving on this stay: normal fee applies")),
    (r"^pass covers (?P<percent>\d+)%$", _l("the monthly pass covers %(percent)s%%")),
    (r"^pass discount (?P<percent>\d+)%$", _l("monthly pass discount %(percent)s%%")),
    (r"^minimum price unit (?P<yuan>[\d.]+) yuan$", _l("minimum price unit %(yuan)s yuan")),
)]


def band_name(name: str) -> str:
    if name in BAND_NAMES:
        return str(BAND_NAMES[name])
    tier = _TIER.match(name)
    if tier:
        return str(_l("%(name)s, tier %(n)s", name=band_name(tier["name"]), n=tier["n"]))
    return name


def fee_line_label(line) -> str:
    """A fee line (the engine's FeeLine or a stored dict) as words; an unknown shape stays as written."""
    text = (line.get("label") if isinstance(line, dict) else getattr(line, "label", None)) or ""
    if not text:
        kind = line.get("kind") if isinstance(line, dict) else getattr(line, "kind", "")
        return label(kind, "fee_line_kind")
    for pattern, message in LINE_PATTERNS:
        found = pattern.match(text)
        if found:
            values = found.groupdict()
            if "band" in values:
                values["band"] = band_name(values["band"])
            return str(message) % values
    return band_name(text)
