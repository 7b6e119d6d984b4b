from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.devices.models import HandheldStatus

SERIAL_RULES = [DataRequired(), Length(max=64),
                Regexp(r"^[A-Za-z0-9_\-:.]+$", message=_l("Letters, digits and - _ : . only."))]


class HandheldForm(FlaskForm):
    serial = StringField(_l("Serial (IMEI)"), validators=SERIAL_RULES)
    label = StringField(_l("Label"), validators=[Optional(), Length(max=80)])
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Save"))


class HandheldEditForm(HandheldForm):
    serial = None


class ApproveForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    label = StringField(_l("Label"), validators=[Optional(), Length(max=80)])
    submit = SubmitField(_l("Approve"))


class HandheldFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[("", _l("Any")), (HandheldStatus.PENDING.value, _l("Pending")),
                                               (HandheldStatus.APPROVED.value, _l("Approved")),
                                               (HandheldStatus.REVOKED.value, _l("Revoked"))],
                         validators=[Optional()])
    q = StringField(_l("Serial or label"), validators=[Optional(), Length(max=64)])
