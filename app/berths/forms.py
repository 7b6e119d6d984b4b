from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


STATUS_CHOICES = [("", _l("Any")), ("active", _l("Active")), ("disabled", _l("Disabled"))]


class SegmentForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    submit = SubmitField(_l("Save"))


class SegmentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    q = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, validators=[Optional()])


class BerthFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    segment_id = SelectField(_l("Segment"), coerce=optional_int, validators=[Optional()])
    q = StringField(_l("Number"), validators=[Optional(), Length(max=16)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, validators=[Optional()])
    occupancy = SelectField(_l("Occupancy"), choices=[("", _l("Any")), ("occupied", _l("Occupied")),
                                                     ("free", _l("Free"))], validators=[Optional()])


PREFIX_RULES = [Optional(), Length(max=12),
                Regexp(r"^[A-Za-z0-9_\-]*$", message=_l("Letters, digits, - and _ only."))]


class BulkBerthForm(FlaskForm):
    segment_id = SelectField(_l("Segment"), coerce=int, validators=[DataRequired()])
    expression = StringField(_l("Range"), validators=[Optional(), Length(max=40)],
                             description=_l("For example A001-A120; or leave empty and fill the fields below."))
    prefix = StringField(_l("Prefix"), validators=PREFIX_RULES)
    start = IntegerField(_l("First number"), validators=[Optional(), NumberRange(0, 99999999)])
    end = IntegerField(_l("Last number"), validators=[Optional(), NumberRange(0, 99999999)])
    width = IntegerField(_l("Zero padding (digits)"), default=3, validators=[Optional(), NumberRange(0, 8)],
                         description=_l("3 gives A001, A002…; 0 gives A1, A2…"))
    submit = SubmitField(_l("Create berths"))


class BerthForm(FlaskForm):
    number = StringField(_l("Number"), validators=[
        DataRequired(), Length(max=16), Regexp(r"^[A-Za-z0-9_\-]+$", message=_l("Letters, digits, - and _ only."))])
    segment_id = SelectField(_l("Segment"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Save"))
