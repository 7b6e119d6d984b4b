from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.tenancy.models import ParkKind


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


@cache
def _timezones() -> frozenset:
    return frozenset(available_timezones())  # reads the tz database from disk: once per process


class TimezoneMixin:
    def validate_timezone(self, field):
        if field.data not in _timezones():
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


SITE_TYPES = [("", _l("— not set —")), ("ground", _l("Surface (地面)")), ("underground", _l("Underground (地下)")),
              ("roadside", _l("Roadside (占道)")), ("outdoor", _l("Outdoor (室外)")), ("indoor", _l("Indoor (室内)")),
              ("mixed", _l("Indoor and outdoor (室内外)"))]


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
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)],
                           description=_l("An IANA name such as Asia/Shanghai; tariffs and days follow it."))
    site_type = SelectField(_l("Site type (车场类型)"), choices=SITE_TYPES, validators=[Optional()])
    opens_at = TimeField(_l("Opens at (local time)"), format="%H:%M", validators=[Optional()],
                         description=_l("Leave both times empty for a park open day and night."))
    closes_at = TimeField(_l("Closes at (local time)"), format="%H:%M", validators=[Optional()],
                          description=_l("A closing time before the opening time runs past midnight."))
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None):
        """Pairs of fields: both or neither (Optional() skips the inline validators of an empty field)."""
        valid = super().validate(extra_validators)
        pairs = ((self.latitude, self.longitude, _l("Give both latitude and longitude, or neither.")),
                 (self.opens_at, self.closes_at, _l("Give both opening and closing times, or neither "
                                                    "(open all day).")))
        for first, second, message in pairs:
            if not first.errors and not second.errors and (first.data is None) != (second.data is None):
                (second if second.data is None else first).errors.append(message)
                valid = False
        return valid

    def validate_longitude(self, field):
        if field.data == 0 and self.latitude.data == 0:
            raise ValidationError(_l("0, 0 is not a place of this park; leave both empty if unknown."))

    def validate_closes_at(self, field):
        if field.data == self.opens_at.data:
            raise ValidationError(_l("Closing must differ from opening; leave both empty for a park open all day."))

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
