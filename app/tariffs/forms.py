"""Forms of the tariff pages. Values are checked by WTForms for shape only; the rule itself is
validated by the fee engine (`parse_rule`), whose messages are put back on these fields."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.core.fields import DateTimeField
from app.tariffs.engine import VEHICLE_CLASSES
from app.tariffs.models import ANY_CLASS

CLASS_CODE = r"^[a-z0-9_]{1,32}$"
CLASS_SUGGESTIONS = (ANY_CLASS,) + VEHICLE_CLASSES
LOCAL_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]  # shown as the first
YUAN = [Optional(), Length(max=12)]  # the engine says what is wrong with an amount
MINPRICE_UNITS = [("0", _l("exact (no rounding)")), ("0.5", _l("0.5 yuan")), ("1", _l("1 yuan"))]
PASS_KINDS = [("", _l("no pass")), ("all_day", _l("all day free")), ("day_window", _l("free in a day window")),
              ("night_window", _l("free in a night window")), ("discount", _l("percent off in a window")),
              ("free_hours", _l("first hours of each stay free"))]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def vehicle_class_field(label=_l("Vehicle class"), default=ANY_CLASS):  # noqa: B008  (a lazy text, translated when shown)
    return StringField(label, default=default, filters=[_strip], validators=[
        DataRequired(), Regexp(CLASS_CODE, message=_l("1 to 32 lower-case letters, digits or _ (small, large, "
                                                      "new_energy, any, or a code of the park's own)."))])


def local_time_field(label, optional=True, description=None):
    return DateTimeField(label, format=LOCAL_FORMATS, description=description,
                              validators=[Optional()] if optional else [InputRequired()])


# ---------------------------------------------------------------- the rule's identity and version

class RuleHeaderMixin:
    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=80)])
    vehicle_class = vehicle_class_field()


class VersionMixin:
    effective_from = local_time_field(_l("Effective from (park time)"),
                                      description=_l("Leave empty for now; a later time schedules the change."))
    note = StringField(_l("Note"), filters=[_strip], validators=[Optional(), Length(max=200)])


# ---------------------------------------------------------------- structured ParkingOS day/night rule

class _RowFields(Form):
    unit = IntegerField(_l("Unit (minutes)"), validators=[Optional()])
    price = StringField(_l("Price per unit (yuan)"), filters=[_strip], validators=YUAN)
    first_times = IntegerField(_l("First period (minutes)"), validators=[Optional()])
    fprice = StringField(_l("First period price per unit (yuan)"), filters=[_strip], validators=YUAN)
    free_time = IntegerField(_l("Free time (minutes)"), validators=[Optional()])
    fpay_type = SelectField(_l("Beyond the free time"), coerce=int, default=0,
                            choices=[(0, _l("charge the whole stay")), (1, _l("deduct the free minutes"))])
    total24 = StringField(_l("24 h cap (yuan, empty = none)"), filters=[_strip], validators=YUAN)


class DayRowForm(_RowFields):
    unit = IntegerField(_l("Unit (minutes)"), default=15, validators=[Optional()])
    b_time = IntegerField(_l("Day starts (hour)"), default=7, validators=[Optional()])
    e_time = IntegerField(_l("Day ends (hour)"), default=21, validators=[Optional()])
    is_fulldaytime = SelectField(_l("Last day unit"), coerce=int, default=0,
                                 choices=[(0, _l("fill it with following night minutes")), (1, _l("do not fill"))])


class NightRowForm(_RowFields):
    unit = IntegerField(_l("Unit (minutes)"), default=60, validators=[Optional()])


class StructuredMixin:
    day = FormField(DayRowForm, label=_l("Day"))
    has_night = BooleanField(_l("Night row (the hours outside the day)"), default=True)
    night = FormField(NightRowForm, label=_l("Night"))
    minprice_unit = SelectField(_l("Round the total down to"), default="0", choices=MINPRICE_UNITS)
    assist_unit = IntegerField(_l("Assist price: first minutes"), validators=[Optional()])
    assist_price = StringField(_l("Assist price (yuan)"), filters=[_strip], validators=YUAN)

    structured = True

    def document(self) -> dict:
        """The "parkingos" rule document the fields describe (missing values are left for the engine to report)."""
        day = _row_document(self.day.form, ("b_time", "e_time", "is_fulldaytime"))
        doc: dict = {"kind": "parkingos", "day": day, "night": None}
        if self.has_night.data:
            night = _row_document(self.night.form, ())
            night.update({"b_time": day.get("e_time", 0), "e_time": day.get("b_time", 0)})
            doc["night"] = night
        if self.minprice_unit.data and self.minprice_unit.data != "0":
            doc["minprice_unit"] = self.minprice_unit.data
        if self.assist_unit.data is not None or self.assist_price.data:
            doc["assist"] = {"assist_unit": self.assist_unit.data, "assist_price": self.assist_price.data or None}
        return doc

    def fill(self, doc: dict) -> None:
        """Prefill from a document `structured_supported` accepts."""
        _fill_row(self.day.form, doc["day"])
        self.has_night.data = doc.get("night") is not None
        if doc.get("night"):
            _fill_row(self.night.form, doc["night"])
        self.minprice_unit.data = str(doc.get("minprice_unit") or "0")
        assist = doc.get("assist") or {}
        self.assist_unit.data = assist.get("assist_unit")
        self.assist_price.data = _text(assist.get("assist_price"))

    def field_for(self, path: str):
        """The field an engine error path ("day.unit", "assist.assist_price"...) belongs to."""
        head, _, rest = path.partition(".")
        if head in ("day", "night") and rest:
            return getattr(getattr(self, head).form, rest, None)
        if head == "assist":
            return getattr(self, rest, None) or self.assist_unit
        return getattr(self, head, None) if head == "minprice_unit" else None


ROW_FORM_KEYS = ("unit", "price", "first_times", "fprice", "free_time", "fpay_type", "total24")


def _row_document(form: Form, extra: tuple[str, ...]) -> dict:
    row = {}
    for key in extra + ROW_FORM_KEYS:
        value = form[key].data
        if value is not None and value != "":
            row[key] = value
    return row


def _text(value) -> str | None:
    return None if value is None else str(value)


def _fill_row(form: Form, row: dict) -> None:
    for key in ROW_FORM_KEYS + ("b_time", "e_time", "is_fulldaytime"):
        if hasattr(form, key):
            value = row.get(key)
            form[key].data = _text(value) if key in ("price", "fprice", "total24") else value
    for key in ("fpay_type", "is_fulldaytime"):
        if hasattr(form, key) and row.get(key) is None:
            form[key].data = 0


def structured_supported(doc) -> bool:
    """Whether the structured form can show a document without losing anything."""
    if not isinstance(doc, dict) or doc.get("kind") != "parkingos":
        return False
    if set(doc) - {"kind", "day", "night", "minprice_unit", "assist"} or not isinstance(doc.get("day"), dict):
        return False
    rows = [doc["day"]] + ([doc["night"]] if isinstance(doc.get("night"), dict) else [])
    if doc.get("night") is not None and len(rows) == 1:
        return False
    allowed = set(ROW_FORM_KEYS) | {"b_time", "e_time", "is_fulldaytime", "b_minute", "e_minute"}
    return all(set(row) <= allowed and not row.get("b_minute") and not row.get("e_minute") for row in rows) \
        and str(doc.get("minprice_unit") or "0") in ("0", "0.5", "1")


# ---------------------------------------------------------------- JSON document

class JsonMixin:
    document_json = TextAreaField(_l("Rule document (JSON)"), render_kw={"rows": 18, "spellcheck": "false"},
                                  validators=[DataRequired(), Length(max=100_000)])

    structured = False

    def validate_document_json(self, field):
        try:
            value = json.loads(field.data)
        except json.JSONDecodeError as exc:
            raise ValidationError(_l("Not valid JSON: %(msg)s (line %(line)s, column %(col)s).",
                                     msg=exc.msg, line=exc.lineno, col=exc.colno)) from None
        if not isinstance(value, dict):
            raise ValidationError(_l("The document must be a JSON object with a “kind”."))

    def document(self) -> dict:
        return json.loads(self.document_json.data)

    def fill(self, doc: dict) -> None:
        self.document_json.data = json.dumps(doc, indent=2, ensure_ascii=False)

    def field_for(self, path: str):
        return None  # every engine message is listed under the textarea with its path


class NewStructuredRuleForm(RuleHeaderMixin, VersionMixin, StructuredMixin, FlaskForm):
    pass


class NewJsonRuleForm(RuleHeaderMixin, VersionMixin, JsonMixin, FlaskForm):
    pass


class StructuredVersionForm(VersionMixin, StructuredMixin, FlaskForm):
    pass


class JsonVersionForm(VersionMixin, JsonMixin, FlaskForm):
    pass


# ---------------------------------------------------------------- sample stays

class StayMixin:
    entered_at = local_time_field(_l("Entry (park time)"), optional=False)
    left_at = local_time_field(_l("Exit (park time)"), optional=False)
    stay_class = vehicle_class_field(_l("Vehicle class"), default="small")
    pass_kind = SelectField(_l("Monthly pass"), default="", choices=PASS_KINDS)
    pass_start = StringField(_l("Pass window start (HH:MM)"), filters=[_strip],
                             validators=[Optional(), Length(max=5)])
    pass_end = StringField(_l("Pass window end (HH:MM)"), filters=[_strip], validators=[Optional(), Length(max=5)])
    pass_percent = IntegerField(_l("Percent off"), validators=[Optional(), NumberRange(1, 100)])
    pass_hours = IntegerField(_l("Free hours"), validators=[Optional(), NumberRange(1, 24 * 366)])

    def validate_left_at(self, field):
        if field.data and self.entered_at.data and field.data <= self.entered_at.data:
            raise ValidationError(_l("Must be later than the entry."))

    def pass_spec(self) -> dict | None:
        if not self.pass_kind.data:
            return None
        spec: dict = {"kind": self.pass_kind.data}
        for key in ("start", "end"):
            if getattr(self, f"pass_{key}").data:
                spec[key] = getattr(self, f"pass_{key}").data
        if self.pass_kind.data == "discount":
            spec["percent"] = self.pass_percent.data
        if self.pass_kind.data == "free_hours":
            spec["hours"] = self.pass_hours.data
        return spec

    def stay_field_for(self, path: str):
        if path.startswith("pass."):
            return getattr(self, "pass_" + path[5:], None) or self.pass_kind
        return None


class RulePreviewForm(StayMixin, FlaskForm):
    class Meta:
        csrf = False  # a read-only GET form

    version = SelectField(_l("Version"), default="", validators=[Optional()])


class ParkPreviewForm(StayMixin, FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=_optional_int, validators=[DataRequired()])


# ---------------------------------------------------------------- import of pasted legacy rows

class ImportForm(RuleHeaderMixin, VersionMixin, FlaskForm):
    pasted = TextAreaField(_l("Pasted rule"), render_kw={"rows": 14, "spellcheck": "false"},
                           validators=[DataRequired(), Length(max=100_000)])
    minprice_unit = SelectField(_l("Round the total down to (for pasted rows)"), default="0",
                                choices=MINPRICE_UNITS)
    entered_at = local_time_field(_l("Sample entry (park time)"), optional=False)
    left_at = local_time_field(_l("Sample exit (park time)"), optional=False)

    def validate_pasted(self, field):
        try:
            json.loads(field.data)
        except json.JSONDecodeError as exc:
            raise ValidationError(_l("Not valid JSON: %(msg)s (line %(line)s, column %(col)s).",
                                     msg=exc.msg, line=exc.lineno, col=exc.colno)) from None

    def validate_left_at(self, field):
        if field.data and self.entered_at.data and field.data <= self.entered_at.data:
            raise ValidationError(_l("Must be later than the entry."))


# ---------------------------------------------------------------- list filters

class RuleFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=_optional_int, validators=[Optional()])
    vehicle_class = StringField(_l("Vehicle class"), filters=[_strip],
                                validators=[Optional(), Regexp(CLASS_CODE, message=_l("Not a class code."))])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), ("active", _l("Active")),
                                               ("disabled", _l("Disabled"))], validators=[Optional()])
