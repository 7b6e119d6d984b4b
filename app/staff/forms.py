from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

PASSWORD_RULES = [DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))]
USERNAME_RULES = [DataRequired(), Length(min=3, max=64),
                  Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Letters, digits, dot, dash and underscore only."))]


class StaffForm(FlaskForm):
    username = StringField(_l("Username"), validators=USERNAME_RULES)
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32),
                                                 Regexp(r"^[0-9+\- ]+$", message=_l("Digits, +, - and spaces only."))])
    node = SelectField(_l("Works at"), validators=[DataRequired()])
    role_id = SelectField(_l("Role"), coerce=int, validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Initial password"), validators=PASSWORD_RULES)
    submit = SubmitField(_l("Save"))


class StaffEditForm(StaffForm):
    password = None
    username = StringField(_l("Username"), render_kw={"readonly": True})


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=PASSWORD_RULES)
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))])
    submit = SubmitField(_l("Reset password"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=[("admin", _l("Web manager")), ("collector", _l("Collector (收费员)")),
                                           ("inspector", _l("Inspector (巡查员)"))])
    target_level = SelectField(_l("For staff at level"))
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    codes = MultiCheckboxField(_l("Permissions"), validate_choice=False)
    submit = SubmitField(_l("Save"))


class StaffFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or username"), validators=[Optional(), Length(max=64)])
    role_id = SelectField(_l("Role"), coerce=lambda v: int(v) if v not in (None, "") else None,
                          validators=[Optional()])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), ("active", _l("Active")),
                                               ("disabled", _l("Disabled"))], validators=[Optional()])
