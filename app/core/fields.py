"""Date and time inputs that read the same in every browser and language: yyyy-mm-dd and 24-hour
hh:mm as plain text with a pattern. A native <input type="date"> follows the browser's own locale
(a zh-CN manager on an English browser would get mm/dd/yyyy and a 12-hour clock)."""
from __future__ import annotations

import wtforms
from wtforms.widgets import TextInput

DATE_HINT = {"placeholder": "YYYY-MM-DD", "pattern": r"\d{4}-\d{1,2}-\d{1,2}", "inputmode": "numeric",
             "autocomplete": "off", "size": 10}
DATETIME_HINT = {"placeholder": "YYYY-MM-DD HH:MM", "pattern": r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2})?",
                 "autocomplete": "off", "size": 16}
TIME_HINT = {"placeholder": "HH:MM", "pattern": r"\d{1,2}:\d{2}", "inputmode": "numeric", "autocomplete": "off",
             "size": 5}


def _hinted(hint: dict, kwargs: dict) -> dict:
    return {**hint, **(kwargs.pop("render_kw", None) or {})}


class DateField(wtforms.DateField):
    widget = TextInput()

    def __init__(self, label=None, validators=None, format="%Y-%m-%d", **kwargs):
        super().__init__(label, validators, format=format, render_kw=_hinted(DATE_HINT, kwargs), **kwargs)


class DateTimeField(wtforms.DateTimeField):
    """Local date and time, 24-hour; `value` written as yyyy-mm-dd hh:mm."""
    widget = TextInput()

    def __init__(self, label=None, validators=None, format="%Y-%m-%d %H:%M", **kwargs):
        super().__init__(label, validators, format=format, render_kw=_hinted(DATETIME_HINT, kwargs), **kwargs)


class TimeField(wtforms.TimeField):
    widget = TextInput()

    def __init__(self, label=None, validators=None, format="%H:%M", **kwargs):
        super().__init__(label, validators, format=format, render_kw=_hinted(TIME_HINT, kwargs), **kwargs)
