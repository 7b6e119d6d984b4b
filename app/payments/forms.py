from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.core.fields import DateField
from app.payments.providers import PROVIDERS

YUAN = Regexp(r"^\d{1,6}(\.\d{1,2})?$", message=_l("An amount in yuan, e.g. 6 or 6.50."))


class PaymentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(_l("State"), choices=[("", _l("Any")), ("created", _l("Waiting")), ("paid", _l("Paid")),
                                              ("refunded", _l("Refunded")), ("closed", _l("Closed")),
                                              ("failed", _l("Failed")), ("flagged", _l("Flagged"))],
                        validators=[Optional()])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), YUAN])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Refund"))


class AccountForm(FlaskForm):
    node = SelectField(_l("City or operating group"), validators=[DataRequired()])
    provider = SelectField(_l("Provider"), choices=[(p, p) for p in PROVIDERS], validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    app_id = StringField(_l("App ID (WeChat sp_appid, Alipay app_id)"), validators=[Optional(), Length(max=64)])
    mch_id = StringField(_l("Service provider merchant ID (sp_mchid)"), validators=[Optional(), Length(max=64)])
    sub_mch_id = StringField(_l("Sub-merchant ID (sub_mchid)"), validators=[Optional(), Length(max=64)])
    key_serial = StringField(_l("API certificate serial number"), validators=[Optional(), Length(max=64)])
    private_key = TextAreaField(_l("Private key (PEM)"), validators=[Optional(), Length(max=8000)],
                                render_kw={"rows": 4, "autocomplete": "off"})
    api_v3_key = StringField(_l("WeChat API v3 key"), validators=[Optional(), Length(max=64)],
                             render_kw={"autocomplete": "off"})
    provider_public_key = TextAreaField(_l("The provider's public key or certificate (PEM)"),
                                        validators=[Optional(), Length(max=8000)], render_kw={"rows": 4})
    hmac_key = StringField(_l("Sandbox signing key"), validators=[Optional(), Length(max=128)],
                           render_kw={"autocomplete": "off"})
    submit = SubmitField(_l("Save"))


class RunReconciliationForm(FlaskForm):
    account_id = SelectField(_l("Merchant account"), coerce=int, validators=[DataRequired()])
    day = DateField(_l("Day"), validators=[DataRequired()])
    statement = FileField(_l("Statement file (CSV)"), description=_l(
        "Columns: kind (pay or refund), out_trade_no, trade_no, amount_fen, out_refund_no."))
    submit = SubmitField(_l("Reconcile"))
