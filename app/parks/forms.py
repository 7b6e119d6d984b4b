from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class OverrideForm(FlaskForm):
    """Settings of one field role at a park; the park's own settings use CollectorSettingsForm."""

    role_id = SelectField(_l("Role"), coerce=int, validators=[DataRequired()])
    photo_required_entry = BooleanField(_l("Photo required when a car arrives"))
    photo_required_exit = BooleanField(_l("Photo required when a car leaves"))
    prepay_allowed = BooleanField(_l("Collectors may take prepayment (预收)"))
    prepay_presets = StringField(_l("Prepayment amounts (yuan)"), validators=[Optional(), Length(max=80)],
                                 description=_l("Comma separated, for example 5, 10, 20"))
    receipt_header = StringField(_l("Receipt header"), validators=[Optional(), Length(max=200)])
    receipt_footer = StringField(_l("Receipt footer"), validators=[Optional(), Length(max=200)])
    hide_amounts = BooleanField(_l("Hide amounts and takings on the handheld"))
    refuse_blacklisted = BooleanField(_l("Refuse blacklisted plates"))
    use_sensor_time = BooleanField(_l("Use the sensor's arrival time for new orders"))
    photo_retention_days = IntegerField(_l("Keep photos for (days)"), default=90,
                                        validators=[InputRequired(), NumberRange(1, 3650)])
    signout_password = PasswordField(_l("New sign-out password"), validators=[Optional(), Length(min=4, max=64)],
                                     description=_l("Collectors must type it to sign out. Leave empty to keep "
                                                    "the current one."))
    clear_signout_password = BooleanField(_l("No sign-out password"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Save"))

    def validate_clear_signout_password(self, field):
        if field.data and self.signout_password.data:
            raise ValidationError(_l("Either set a new password or remove it, not both."))


class CollectorSettingsForm(OverrideForm):
    role_id = None


class FreeReasonForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Reason"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Save"))


class WorkHoursForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    role_id = SelectField(_l("Role"), coerce=int, validators=[DataRequired()])
    starts_at = TimeField(_l("Start (local time)"), format="%H:%M", validators=[InputRequired()])
    ends_at = TimeField(_l("End (local time)"), format="%H:%M", validators=[InputRequired()],
                        description=_l("An end before the start runs past midnight."))
    grace_minutes = IntegerField(_l("Grace (minutes)"), default=5, validators=[InputRequired(), NumberRange(0, 240)])
    submit = SubmitField(_l("Save"))


class ParkFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])


class FreeReasonFilterForm(ParkFilterForm):
    q = StringField(_l("Reason"), validators=[Optional(), Length(max=80)])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), ("active", _l("Active")),
                                               ("disabled", _l("Disabled"))], validators=[Optional()])


class WorkHoursFilterForm(ParkFilterForm):
    role_id = SelectField(_l("Role"), coerce=optional_int, validators=[Optional()])


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
VEHICLE_CLASSES = (("small", _l("Small car (小车)")), ("large", _l("Large car (大车)")), ("other", _l("Other")))


class ParametersForm(FlaskForm):
    """参数设置 of one park; the last three fields are stored in the collector and sensor settings."""

    distinguish_vehicle_classes = BooleanField(_l("Distinguish small and large cars (区分大小车)"),
                                               description=_l("Tariffs and car types then apply per vehicle class."))
    allow_free_settlement = BooleanField(_l("Allow settling an order as free (免费结算)"))
    entry_when_full = BooleanField(_l("Let cars in when the park is full"))
    allow_non_pass_cars = BooleanField(_l("Let in cars without a pass (非月卡车)"),
                                       description=_l("Park default; a lane may allow or refuse on its own."))
    allow_pass_second_car = BooleanField(_l("Let in a pass's second car (月卡第二辆车)"),
                                         description=_l("When another car of the same pass is already inside. "
                                                        "Park default; a lane may allow or refuse on its own."))
    lift_on_recognition = BooleanField(_l("Lift the exit barrier as soon as the plate is read (识别就抬杆)"))
    plate_province = SelectField(_l("Preferred plate province (优先识别省份)"),
                                 choices=[("", _l("— none —"))] + [(p, p) for p in PROVINCES],
                                 validators=[Optional()],
                                 description=_l("Plate cameras read this province first when a character is unclear."))
    hide_amounts = BooleanField(_l("Hide amounts and takings on the handheld"),
                                description=_l("Also on the collector settings page: it is the same setting."))
    photo_retention_days = IntegerField(_l("Keep photos (days)"), default=90,
                                        validators=[InputRequired(), NumberRange(1, 3650)])
    auto_escape_unattended = BooleanField(_l("When nobody is on duty, turn an order whose car left into an arrear"),
                                          description=_l("Also on the sensor settings page: it is the same setting."))
    submit = SubmitField(_l("Save"))


class CityRulesForm(FlaskForm):
    """City-level rules (城市参数) edited by a city manager."""

    citywide_arrears = BooleanField(_l("Recover arrears across operating groups (跨集团追缴)"),
                                    description=_l("A car's unpaid orders of any group of the city are shown and "
                                                   "collected at every park of the city."))
    plate_in_two_parks = BooleanField(_l("A plate may be parked in two parks of the city at once"))
    reentry_min_minutes = IntegerField(_l("Refuse a plate's new entry sooner than (minutes)"), default=0,
                                       validators=[InputRequired(), NumberRange(0, 1440)],
                                       description=_l("Measured from its last entry at the same park; 0 = no limit."))
    reentry_resume_minutes = IntegerField(_l("A re-entry this soon after leaving continues the order (minutes)"),
                                          default=0, validators=[InputRequired(), NumberRange(0, 1440)],
                                          description=_l("0 = every entry starts a new order."))
    submit = SubmitField(_l("Save"))


class CarTypeForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    code = StringField(_l("Code in the on-site system (收费系统编号)"), validators=[Optional(), Length(max=32)],
                       description=_l("Left empty, the next free number is used."))
    vehicle_class = SelectField(_l("Vehicle class"), choices=VEHICLE_CLASSES)
    submit = SubmitField(_l("Save"))


class PlateBindingForm(FlaskForm):
    """Bind one or many plates (pasted, one a line or separated by commas) to a car type."""

    car_type_id = SelectField(_l("Car type"), coerce=int, validators=[DataRequired()])
    plates = TextAreaField(_l("Plates"), validators=[DataRequired(), Length(max=20000)],
                           description=_l("One or many: one a line, or separated by commas or spaces. "
                                          "A plate bound to another car type of the park is moved."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Bind"))


class CarTypeFilterForm(ParkFilterForm):
    q = StringField(_l("Name"), validators=[Optional(), Length(max=40)])


class PlateBindingFilterForm(ParkFilterForm):
    q = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    car_type_id = SelectField(_l("Car type"), coerce=optional_int, validators=[Optional()])
