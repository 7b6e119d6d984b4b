"""The filter form of every report: date range, node (park / operating group from the scope), grouping."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional

from app.core.fields import DateField
from app.reports import queries as q
from app.tenancy.models import Level


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    group_id = SelectField(_l("Operating group"), validators=[Optional()])
    park_id = SelectField(_l("Park"), validators=[Optional()])
    by = SelectField(_l("Group by"), validators=[Optional()])


def build_form(report, scope, f: q.Filters, by: str | None, args) -> ReportFilterForm:
    """Choices come from the scope; the values shown are the filters actually applied."""
    form = ReportFilterForm(formdata=None)
    form.date_from.data, form.date_to.data = f.date_from, f.date_to
    parks = scope.nodes(Level.PARK, active_only=False)
    form.park_id.choices = [("", str(_l("All parks")))] + [(str(p.id), p.name) for p in parks]
    form.park_id.data = str(f.park_id or "")
    if scope.level.depth <= Level.CITY.depth:
        groups = scope.nodes(Level.GROUP, active_only=False)
        form.group_id.choices = [("", str(_l("All groups")))] + [(str(g.id), g.name) for g in groups]
        form.group_id.data = str(f.group_id or "")
    else:
        del form.group_id
    if report.groupings:
        form.by.choices = [(k, str(v)) for k, v in q.GROUPINGS.items()
                           if not (k == "group" and scope.level.depth > Level.CITY.depth)]
        form.by.data = by
    else:
        del form.by
    return form


__all__ = ["ReportFilterForm", "build_form"]
