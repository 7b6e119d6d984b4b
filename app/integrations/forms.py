from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.integrations.events import EVENT_TYPES, TOPIC_LABELS


class AllianceSettingsForm(FlaskForm):
    union_id = StringField(_l("Vendor id (union_id)"), validators=[DataRequired(), Length(max=40)])
    ukey = PasswordField(_l("Vendor key (ukey)"), validators=[Optional(), Length(max=120)])
    server_id = StringField(_l("Server id"), validators=[Optional(), Length(max=40)])
    base_url = StringField(_l("Alliance address"), validators=[DataRequired(), Length(max=280)])
    availability_seconds = IntegerField(_l("Push availability at most every (seconds)"), default=30,
                                        validators=[NumberRange(5, 3600)])
    enabled = BooleanField(_l("Connected"))


class SubscriptionForm(FlaskForm):
    node = SelectField(_l("For"), validators=[Optional()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=300)])
    events = SelectMultipleField(_l("Events"), choices=[(e, TOPIC_LABELS[e]) for e in EVENT_TYPES],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    active = BooleanField(_l("Active"), default=True)
