"""Export specs this package owns: the audit log, filtered exactly like the audit page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from app.audit.models import AuditEntry
from app.exports.registry import DATETIME, TEXT, ExportSpec, register_export
from app.extensions import db

BATCH = 2000


def audit_rows(scope, params):
    from app.audit.views import AuditFilterForm, filtered_entries

    form = AuditFilterForm(formdata=MultiDict(params))
    stmt = filtered_entries(form, scope).with_only_columns(
        AuditEntry.at, AuditEntry.actor_name, AuditEntry.action, AuditEntry.object_type, AuditEntry.object_label,
        AuditEntry.level, AuditEntry.ip)
    for at, actor, action, otype, olabel, level, ip in db.session.execute(
            stmt.execution_options(yield_per=BATCH)):
        yield at, actor or "—", action, f"{otype or ''} {olabel or ''}".strip(), level, ip or "—"


register_export(ExportSpec(
    kind="audit", title=_l("Audit log"), permission="audit.export",
    columns=[(_l("When"), DATETIME), (_l("Who"), TEXT), (_l("Action"), TEXT), (_l("Object"), TEXT),
             (_l("Node"), TEXT), (_l("IP"), TEXT)],
    rows=audit_rows))
