"""Filter and action forms of the order pages. Filter choices come from the manager's scope;
a value the form refuses is reported beside its field and ignored, never a 500."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.berths.models import BerthSegment
from app.core.fields import DateField
from app.extensions import db
from app.orders.models import OrderState, PaymentMethod
from app.staff.models import Role, RoleKind, Staff
from app.tenancy.models import Level, Park
from app.tenancy.scope import node_label

STATE_LABELS = {OrderState.OPEN.value: _l("Parked (open)"), OrderState.SETTLED.value: _l("Settled"),
                OrderState.UNPAID.value: _l("Unpaid (left without paying)"),
                OrderState.RECOVERED.value: _l("Recovered")}
METHOD_LABELS = {PaymentMethod.CASH.value: _l("Cash"), PaymentMethod.ELECTRONIC.value: _l("Electronic"),
                 PaymentMethod.CARD.value: _l("Card"), PaymentMethod.PASS.value: _l("Monthly pass"),
                 PaymentMethod.FREE.value: _l("Free release")}
ENTRY_METHOD_LABELS = {"pos": _l("Handheld"), "sensor": _l("Sensor"), "camera": _l("Camera"),
                       "manual": _l("Manual")}
MAX_YUAN = Decimal("1000000")


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def sane_date(form, field):
    if field.data is not None and not (2000 <= field.data.year <= 2100):
        raise ValidationError(_l("Choose a date between 2000 and 2100."))


def to_fen(value: Decimal | None) -> int | None:
    if value is None:
        return None
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def two_decimals(form, field):
    if field.data is None:
        return
    try:
        if (field.data * 100) != (field.data * 100).to_integral_value():
            raise ValidationError(_l("At most two decimals (fen)."))
    except InvalidOperation:
        raise ValidationError(_l("Not a valid amount.")) from None


def _choices(labels: dict, any_label) -> list:
    return [("", any_label)] + [(k, v) for k, v in labels.items()]


def valid_data(form) -> dict:
    """The values of the fields that passed validation; a refused field counts as not set."""
    return {name: f.data for name, f in form._fields.items()
            if not f.errors and name not in ("csrf_token", "submit")}


class _FilterForm(FlaskForm):
    class Meta:
        csrf = False

    @classmethod
    def build(cls, scope, params):
        """The form on `params` (request.args or an export's dict), choices from the scope, validated."""
        formdata = params if hasattr(params, "getlist") else MultiDict(
            {k: v for k, v in (params or {}).items() if v is not None})
        form = cls(formdata=formdata)
        form.fill_choices(scope)
        form.validate()
        return form

    def fill_choices(self, scope) -> None:  # pragma: no cover - overridden
        pass


def park_choices(scope) -> list:
    return [(p.id, node_label(p) if scope.level != Level.PARK else p.name)
            for p in scope.nodes(Level.PARK, active_only=False)]


def segment_choices(scope, park_id: int | None) -> list:
    stmt = scope.select(BerthSegment).join(Park, Park.id == BerthSegment.park_id).order_by(Park.name,
                                                                                         BerthSegment.name)
    if park_id is not None:
        stmt = stmt.where(BerthSegment.park_id == park_id)
    return [(s.id, f"{s.park.name} / {s.name}") for s in db.session.scalars(stmt)]


def collector_choices(scope) -> list:
    stmt = scope.select(Staff).join(Role, Role.id == Staff.role_id) \
        .where(Role.kind == RoleKind.COLLECTOR.value).order_by(Staff.display_name)
    return [(s.id, s.display_name) for s in db.session.scalars(stmt)]


def _fill_node_fields(form, scope) -> None:
    parks = park_choices(scope)
    form.park_id.choices = [("", _l("Any park"))] + parks
    park_id = form.park_id.data if form.park_id.data in {p for p, _ in parks} else None
    if hasattr(form, "segment_id"):
        form.segment_id.choices = [("", _l("Any segment"))] + segment_choices(scope, park_id)
    if hasattr(form, "collector_id"):
        form.collector_id.choices = [("", _l("Any collector"))] + collector_choices(scope)


class OrderFilterForm(_FilterForm):
    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    segment_id = SelectField(_l("Segment"), coerce=optional_int, validators=[Optional()])
    collector_id = SelectField(_l("Collector (in or out)"), coerce=optional_int, validators=[Optional()])
    time_field = SelectField(_l("Dates by"), choices=[("entered", _l("Entry time")), ("left", _l("Exit time"))],
                             default="entered", validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional(), sane_date])
    date_to = DateField(_l("To"), validators=[Optional(), sane_date])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    state = SelectField(_l("State"), choices=_choices(STATE_LABELS, _l("Any state")), validators=[Optional()])
    method = SelectField(_l("Paid by"), choices=_choices(METHOD_LABELS, _l("Any method")), validators=[Optional()])
    amount_min = DecimalField(_l("Paid from (¥)"), places=2,
                              validators=[Optional(), NumberRange(0, MAX_YUAN), two_decimals])
    amount_max = DecimalField(_l("Paid to (¥)"), places=2,
                              validators=[Optional(), NumberRange(0, MAX_YUAN), two_decimals])
    entry_method = SelectField(_l("Entry method"), choices=_choices(ENTRY_METHOD_LABELS, _l("Any entry")),
                               validators=[Optional()])

    def fill_choices(self, scope) -> None:
        _fill_node_fields(self, scope)

    def filters(self) -> dict:
        data = valid_data(self)
        data["amount_min_fen"] = to_fen(data.pop("amount_min", None))
        data["amount_max_fen"] = to_fen(data.pop("amount_max", None))
        return data


class ParkedFilterForm(_FilterForm):
    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    segment_id = SelectField(_l("Segment"), coerce=optional_int, validators=[Optional()])
    collector_id = SelectField(_l("Collector (in)"), coerce=optional_int, validators=[Optional()])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    min_days = IntegerField(_l("Parked at least (days)"), validators=[Optional(), NumberRange(0, 3650)])
    max_days = IntegerField(_l("Parked at most (days)"), validators=[Optional(), NumberRange(0, 3650)])

    def fill_choices(self, scope) -> None:
        _fill_node_fields(self, scope)

    def filters(self) -> dict:
        return valid_data(self)


class ArrearFilterForm(_FilterForm):
    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=16)])
    date_from = DateField(_l("From"), validators=[Optional(), sane_date])
    date_to = DateField(_l("To"), validators=[Optional(), sane_date])

    def fill_choices(self, scope) -> None:
        _fill_node_fields(self, scope)

    def filters(self) -> dict:
        return valid_data(self)


class ManualSettleForm(FlaskForm):
    method = SelectField(_l("Payment method"), choices=[
        (PaymentMethod.CASH.value, _l("Cash")), (PaymentMethod.ELECTRONIC.value, _l("Electronic")),
        (PaymentMethod.CARD.value, _l("Card")), (PaymentMethod.FREE.value, _l("Free release (0 yuan)"))],
        validators=[DataRequired()])
    amount = DecimalField(_l("Amount collected (¥)"), places=2,
                          validators=[Optional(), NumberRange(0, MAX_YUAN), two_decimals],
                          description=_l("Beyond any prepayment. Less than the amount due needs a reason."))
    reason = SelectField(_l("Reason for the reduction"), validators=[Optional()],
                         description=_l("Required for a free release or any reduction."))
    submit = SubmitField(_l("Settle the order"))


class RecoverForm(FlaskForm):
    method = SelectField(_l("Payment method"), choices=[
        (PaymentMethod.CASH.value, _l("Cash")), (PaymentMethod.ELECTRONIC.value, _l("Electronic")),
        (PaymentMethod.CARD.value, _l("Card"))], validators=[DataRequired()])
    amount = DecimalField(_l("Amount received (¥)"), places=2,
                          validators=[DataRequired(), NumberRange(0, MAX_YUAN), two_decimals],
                          description=_l("Must equal the total owed by the debts chosen."))
    submit = SubmitField(_l("Record the recovery"))


class WaiveForm(FlaskForm):
    """0元追缴: close the debts chosen at zero."""
    reason = StringField(_l("Reason for waiving"), validators=[DataRequired(), Length(max=80)],
                         description=_l("Kept on the order and in the audit log."))
    submit = SubmitField(_l("Waive the debts (zero recovery)"))


def selected_ids(values) -> list[int]:
    """Ids ticked in a list; anything that is not a plain id is dropped."""
    ids = []
    for raw in values:
        if isinstance(raw, str) and raw.isdigit() and len(raw) < 19:
            ids.append(int(raw))
    return sorted(set(ids))


__all__ = ["OrderFilterForm", "ParkedFilterForm", "ArrearFilterForm", "ManualSettleForm",
           "RecoverForm", "STATE_LABELS", "METHOD_LABELS", "ENTRY_METHOD_LABELS", "selected_ids", "to_fen"]
