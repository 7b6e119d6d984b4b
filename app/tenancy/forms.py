from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.tenancy.models import ParkKind


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class TimezoneMixin:
    def validate_timezone(self, field):
        if field.data not in available_timezones():
            raise ValidationError(_l("Unknown time zone; use an IANA name such as Asia/Shanghai."))


PHONE = [Optional(), Length(max=32), Regexp(r"^[0-9+\- ]+$", message=_l("Digits, +, - and spaces only."))]


class CityForm(TimezoneMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=32),
                                              Regexp(r"^[A-Za-z0-9_\-]+$", message=_l("Letters, digits, - and _."))])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Save"))


class GroupForm(FlaskForm):
    city_id = SelectField(_l("City"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    contact = StringField(_l("Contact person"), validators=[Optional(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=PHONE)
    submit = SubmitField(_l("Save"))


class AreaForm(FlaskForm):
    group_id = SelectField(_l("Operating group"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Save"))


class ParkForm(TimezoneMixin, FlaskForm):
    group_id = SelectField(_l("Operating group"), coerce=int, validators=[DataRequired()])
    area_id = SelectField(_l("Area"), coerce=_optional_int, validators=[Optional()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=[(ParkKind.ON_STREET.value, _l("On-street (路内)")),
                                           (ParkKind.OFF_STREET.value, _l("Off-street (路外)"))])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    capacity = IntegerField(_l("Capacity (spaces)"), default=0, validators=[NumberRange(0, 100000)])
    phone = StringField(_l("Phone"), validators=PHONE)
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Save"))

    def validate_area_id(self, field):
        if field.data is not None and field.data not in self.area_groups:
            raise ValidationError(_l("Choose an area of your part of the tree."))
        if field.data is not None and self.area_groups[field.data] != self.group_id.data:
            raise ValidationError(_l("This area belongs to another operating group."))

    area_groups: dict = {}


class NodeFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), ("active", _l("Active")),
                                               ("disabled", _l("Disabled"))], validators=[Optional()])
