"""Filters of the shift pages (上下班记录); choices from the manager's scope."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from app.core.fields import DateField
from app.orders.forms import _fill_node_fields, _FilterForm, optional_int, sane_date, valid_data

FLAG_CHOICES = [("", _l("Any")), ("yes", _l("Yes")), ("no", _l("No"))]


class ShiftFilterForm(_FilterForm):
    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    segment_id = SelectField(_l("Segment"), coerce=optional_int, validators=[Optional()])
    collector_id = SelectField(_l("Collector"), coerce=optional_int, validators=[Optional()])
    date_from = DateField(_l("Signed in from"), validators=[Optional(), sane_date])
    date_to = DateField(_l("Signed in to"), validators=[Optional(), sane_date])
    late = SelectField(_l("Late"), choices=FLAG_CHOICES, validators=[Optional()])
    early = SelectField(_l("Left early"), choices=FLAG_CHOICES, validators=[Optional()])

    def fill_choices(self, scope) -> None:
        _fill_node_fields(self, scope)

    def filters(self) -> dict:
        return valid_data(self)
