from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from app.audit.models import AuditEntry
from app.auth import throttle
from app.core.fields import DateField
from app.core.labels import LABELS
from app.core.web import permission_required
from app.extensions import db
from app.tenancy.models import Level
from app.tenancy.scope import current_scope

bp = Blueprint("audit", __name__)

def _labelled_choices(kind: str) -> list[tuple[str, str]]:
    """Every code of a kind, by its label in the reader's language."""
    choices = sorted(((code, str(text)) for code, text in LABELS[kind].items()), key=lambda c: c[1])
    return [("", str(_l("Any")))] + choices


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField(_l("Who (username)"), validators=[Optional(), Length(max=64)])
    action = SelectField(_l("Action"), validators=[Optional()])
    object_type = SelectField(_l("Object type"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = _labelled_choices("audit_action")
        self.object_type.choices = _labelled_choices("object_type")


def _day_start(day, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)


def filtered_entries(form, scope):
    stmt = scope.select(AuditEntry).order_by(AuditEntry.id.desc())
    if not form.validate():
        return stmt
    tz = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    if form.actor.data:
        stmt = stmt.where(AuditEntry.actor_name.ilike(f"%{form.actor.data.strip()}%"))
    if form.action.data:
        stmt = stmt.where(AuditEntry.action == form.action.data)
    if form.object_type.data:
        stmt = stmt.where(AuditEntry.object_type == form.object_type.data.strip())
    if form.date_from.data:
        stmt = stmt.where(AuditEntry.at >= _day_start(form.date_from.data, tz))
    if form.date_to.data:
        stmt = stmt.where(AuditEntry.at < _day_start(form.date_to.data + timedelta(days=1), tz))
    return stmt


@bp.route("/audit")
@permission_required("audit.view")
def list_entries():
    form = AuditFilterForm(request.args)
    stmt = filtered_entries(form, current_scope())
    before = request.args.get("before", type=int)
    if before:
        stmt = stmt.where(AuditEntry.id < before)  # keyset: stays fast however long the log grows
    per_page = current_app.config["PAGE_SIZE"]
    rows = db.session.scalars(stmt.limit(per_page + 1)).all()
    next_before = rows[per_page - 1].id if len(rows) > per_page else None
    args = {k: v for k, v in request.args.items() if k != "before"}
    return render_template("audit/list.html", entries=rows[:per_page], form=form, next_before=next_before, args=args,
                           unknown_sign_ins=_unknown_sign_ins())


def _unknown_sign_ins():
    """Failed sign-ins with unknown usernames in the last day (counted, not audited one by one). They belong
    to no tenant, so only the platform's auditors see them."""
    if current_scope().level != Level.PLATFORM:
        return None
    return throttle.unknown_summary(datetime.now(timezone.utc) - timedelta(hours=24))


@bp.route("/audit/<int:entry_id>")
@permission_required("audit.view")
def show_entry(entry_id):
    entry = current_scope().get_or_404(AuditEntry, entry_id)
    return render_template("audit/show.html", entry=entry)
