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
