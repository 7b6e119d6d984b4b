from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.inspections.models import TaskKind


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


KIND_CHOICES = [(TaskKind.CAR_NO_ORDER, _l("Car present, no order")),
                (TaskKind.CAR_LEFT_OPEN, _l("Car left, order open")),
                (TaskKind.SENSOR_FAULT, _l("Sensor fault")), (TaskKind.COLLECTOR, _l("Collector anomaly")),
                (TaskKind.OTHER, _l("Other"))]


class TaskFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    state = SelectField(_l("State"), choices=[("", _l("Any")), ("open", _l("Open")), ("assigned", _l("Assigned")),
                                              ("resolved", _l("Resolved"))], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[("", _l("Any"))] + KIND_CHOICES, validators=[Optional()])


class TaskForm(FlaskForm):
    segment_id = SelectField(_l("Segment"), coerce=int, validators=[DataRequired()])
    berth_number = StringField(_l("Berth number (optional)"), validators=[Optional(), Length(max=16)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, validators=[DataRequired()])
    assignee_id = SelectField(_l("Inspector"), coerce=optional_int, validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Create task"))


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Inspector"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))


class FollowUpForm(FlaskForm):
    note = TextAreaField(_l("Follow-up note"), validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 3})
    close = SelectField(_l("Then"), choices=[("", _l("keep the task as it is")), ("close", _l("resolve the task"))],
                        validators=[Optional()])
    submit = SubmitField(_l("Add note"))


class GroupForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    segment_ids = SelectMultipleField(_l("Segments patrolled"), coerce=int, validators=[Optional()],
                                      render_kw={"size": 8})
    inspector_ids = SelectMultipleField(_l("Inspectors"), coerce=int, validators=[Optional()], render_kw={"size": 6})
    submit = SubmitField(_l("Save"))
