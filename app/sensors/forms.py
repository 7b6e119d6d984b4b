from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class SensorFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), ("online", _l("Online")), ("offline", _l("Offline")),
                                                ("low_battery", _l("Low battery")), ("unbound", _l("Not bound")),
                                                ("occupied", _l("Car present"))], validators=[Optional()])
    q = StringField(_l("Serial or berth"), validators=[Optional(), Length(max=64)])


class BindForm(FlaskForm):
    berth_id = SelectField(_l("Berth"), coerce=optional_int, validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ImportForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    station_id = SelectField(_l("Base station"), coerce=optional_int, validators=[Optional()])
    lines = TextAreaField(_l("Lines “serial,berth_number”"), validators=[DataRequired(), Length(max=200_000)],
                          render_kw={"rows": 12, "placeholder": "DC-0001,A001\nDC-0002,A002"})
    submit = SubmitField(_l("Import"))


class StationForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    serial = StringField(_l("Serial"), validators=[DataRequired(), Length(max=64),
                                                   Regexp(r"^[A-Za-z0-9_\-:.]+$",
                                                          message=_l("Letters, digits, - _ : ."))])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    submit = SubmitField(_l("Create and show the key"))


class SensorSettingsForm(FlaskForm):
    blip_seconds = IntegerField(_l("Ignore arrive/depart pairs shorter than (seconds)"),
                                validators=[DataRequired(), NumberRange(5, 3600)])
    no_order_minutes = IntegerField(_l("Alert after (minutes) when a car has no order, or left with the order open"),
                                    validators=[DataRequired(), NumberRange(1, 240)])
    offline_minutes = IntegerField(_l("Offline after no heartbeat for (minutes)"),
                                   validators=[DataRequired(), NumberRange(5, 1440)])
    low_battery_mv = IntegerField(_l("Low battery below (mV)"), validators=[DataRequired(), NumberRange(2000, 5000)])
    auto_escape_unattended = BooleanField(_l("When nobody is on duty and a car leaves with its order open, "
                                             "mark the order unpaid"))
    submit = SubmitField(_l("Save"))
