"""Export specs this package owns: the audit log, filtered exactly like the audit page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from app.audit.models import AuditEntry
from app.core.labels import label
from app.exports.registry import CODE, DATETIME, TEXT, ExportSpec, count_of, register_export
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
        yield (at, actor or "—", label(action, "audit_action"),
               f"{label(otype, 'object_type')} {olabel or ''}".strip(), label(level, "level"), ip or "—",
               action, otype or "", level)


def audit_count(scope, params):
    from app.audit.views import AuditFilterForm, filtered_entries

    return count_of(filtered_entries(AuditFilterForm(formdata=MultiDict(params)), scope))


register_export(ExportSpec(
    kind="audit", title=_l("Audit log"), permission="audit.export",
    columns=[(_l("When"), DATETIME), (_l("Who"), TEXT), (_l("Action"), TEXT), (_l("Object"), TEXT),
             (_l("Node"), TEXT), (_l("IP"), TEXT),
             (_l("Action code"), CODE), (_l("Object type code"), CODE), (_l("Level code"), CODE)],
    rows=audit_rows, count=audit_count))
