"""Forms of the members pages. Money is typed in yuan (at most two decimals) and converted to
integer fen exactly with Decimal."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.core.fields import DateField, TimeField
from app.members.models import ProductKind
from app.members.services import MAX_FEN, MAX_MONTHS, PAY_METHODS

YUAN_RE = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
PHONE = [Optional(), Length(max=32), Regexp(r"^[0-9+\- ]+$", message=_l("Digits, +, - and spaces only."))]


def yuan_to_fen(text) -> int:
    """'12.5' -> 1250, exactly; ValueError on anything else (negative, three decimals, letters)."""
    text = str(text).strip().replace(",", "")
    if not YUAN_RE.match(text):
        raise ValueError(text)
    try:
        fen = Decimal(text) * 100
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if fen != fen.to_integral_value() or fen > MAX_FEN:
        raise ValueError(text)
    return int(fen)


def fen_to_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


class YuanField(StringField):
    """A money amount in yuan; `.fen` holds the exact integer fen after validation (None when empty)."""

    fen: int | None = None

    def pre_validate(self, form):
        self.fen = None
        if self.data in (None, ""):
            return
        try:
            self.fen = yuan_to_fen(self.data)
        except ValueError:
            raise ValidationError(_l("An amount in yuan, not negative, with at most two decimals "
                                     "(for example 300 or 12.50).")) from None


KIND_CHOICES = [
    (ProductKind.ALL_DAY.value, _l("All day")),
    (ProductKind.DAY_WINDOW.value, _l("Day window")),
    (ProductKind.NIGHT_WINDOW.value, _l("Night window")),
    (ProductKind.DISCOUNT.value, _l("Discount inside a window")),
    (ProductKind.FREE_HOURS.value, _l("First hours of each stay free")),
]
METHOD_CHOICES = [("cash", _l("Cash")), ("electronic", _l("Electronic payment")), ("card", _l("Card"))]
assert [m for m, _label in METHOD_CHOICES] == list(PAY_METHODS)
VEHICLE_CHOICES = [("small", _l("Small car")), ("large", _l("Large vehicle")), ("new_energy", _l("New energy"))]


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class ProductForm(FlaskForm):
    anchor = SelectField(_l("Sold at"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    price = YuanField(_l("Price per month (yuan)"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    window_start = TimeField(_l("Window start"), validators=[Optional()])
    window_end = TimeField(_l("Window end"), validators=[Optional()])
    discount_percent = IntegerField(_l("Percent off inside the window"), validators=[Optional(), NumberRange(1, 100)])
    free_hours = IntegerField(_l("Free hours of each stay"), validators=[Optional(), NumberRange(1, 24)])
    vehicle_class = SelectField(_l("Vehicle class"), choices=VEHICLE_CHOICES)
    valid_until = DateField(_l("Sold for periods ending by (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ProductFilterForm(FlaskForm):
    class Meta:
        csrf = False

    node = SelectField(_l("Park or group"), validators=[Optional()])
    q = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    status = SelectField(_l("Status"), choices=[("", _l("All")), ("active", _l("Active")),
                                                ("inactive", _l("Disabled"))], validators=[Optional()])


class SaleForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=_optional_int, validators=[DataRequired()])
    selling_park_id = SelectField(_l("Selling park (takes the money)"), coerce=_optional_int,
                                  validators=[Optional()])
    holder_name = StringField(_l("Holder name"), validators=[DataRequired(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=PHONE)
    plates = StringField(_l("Plates (separate several with commas)"), validators=[DataRequired(), Length(max=80)])
    starts_on = DateField(_l("Start date"), validators=[DataRequired()])
    months = IntegerField(_l("Months"), default=1, validators=[DataRequired(), NumberRange(1, MAX_MONTHS)])
    paid = YuanField(_l("Amount paid (yuan; empty = the receivable)"), validators=[Optional()])
    method = SelectField(_l("Payment method"), choices=METHOD_CHOICES)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Sell the pass"))


class RenewForm(FlaskForm):
    selling_park_id = SelectField(_l("Selling park (takes the money)"), coerce=_optional_int,
                                  validators=[DataRequired()])
    months = IntegerField(_l("Months"), default=1, validators=[DataRequired(), NumberRange(1, MAX_MONTHS)])
    paid = YuanField(_l("Amount paid (yuan; empty = the receivable)"), validators=[Optional()])
    method = SelectField(_l("Payment method"), choices=METHOD_CHOICES)
    submit = SubmitField(_l("Renew"))


class PlatesForm(FlaskForm):
    plates = StringField(_l("Plates (separate several with commas)"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Change plates"))


class PassEditForm(FlaskForm):
    holder_name = StringField(_l("Holder name"), validators=[DataRequired(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=PHONE)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Cancel the pass"))


class PassFilterForm(FlaskForm):
    class Meta:
        csrf = False

    node = SelectField(_l("Park or group"), validators=[Optional()])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    holder = StringField(_l("Holder or phone"), validators=[Optional(), Length(max=80)])
    product_id = SelectField(_l("Product"), validators=[Optional()])
    state = SelectField(_l("State"), choices=[("", _l("All")), ("active", _l("Active")),
                                              ("expiring", _l("Expiring in 7 days")), ("expired", _l("Expired")),
                                              ("cancelled", _l("Cancelled"))], validators=[Optional()])


class RenewalFilterForm(FlaskForm):
    class Meta:
        csrf = False

    node = SelectField(_l("Selling park or group"), validators=[Optional()])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    holder = StringField(_l("Holder"), validators=[Optional(), Length(max=80)])
    pass_no = StringField(_l("Pass no."), validators=[Optional(), Regexp(r"^\d{1,12}$")])
    kind = SelectField(_l("Kind"), choices=[("", _l("All")), ("sale", _l("Sale")), ("renewal", _l("Renewal"))],
                       validators=[Optional()])
    method = SelectField(_l("Method"), choices=[("", _l("All"))] + METHOD_CHOICES, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class ListEntryForm(FlaskForm):
    park_id = SelectField(_l("Park"), coerce=_optional_int, validators=[DataRequired()])
    plate = StringField(_l("Plate"), validators=[DataRequired(), Length(max=20)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=100)])
    valid_from = DateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = DateField(_l("Valid until (optional, inclusive)"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class DeactivateForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Confirm"))


class ListFilterForm(FlaskForm):
    class Meta:
        csrf = False

    node = SelectField(_l("Park or group"), validators=[Optional()])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=80)])
    status = SelectField(_l("Status"), choices=[("", _l("All")), ("active", _l("Active")),
                                                ("inactive", _l("Lifted"))], validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx, at most 5 MB and 5,000 rows)"))
    submit = SubmitField(_l("Import"))
