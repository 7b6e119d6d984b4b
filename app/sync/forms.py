from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class CommandForm(FlaskForm):
    lane_id = SelectField(_l("Lane"), coerce=int, validators=[DataRequired()])
    action = SelectField(_l("Action"), choices=[("lift", _l("Lift (open)")), ("lower", _l("Lower (close)"))])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class LinkFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Park"), validators=[Optional(), Length(max=80)])
    status = SelectField(_l("Link"), choices=[("", _l("Any")), ("down", _l("Down"))], validators=[Optional()])
