"""Words for codes. Pages show a code (an audit action, a level, a state…) through the `label`
filter, `{{ entry.action|label('audit_action') }}`; the code itself stays in the database, the API
and the exports' hidden columns. Each kind is written once: here for the kinds every package shares,
in its own package for a domain's kinds (registered with `register`)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict] = {}


def register(kind: str, mapping: dict) -> dict:
    LABELS.setdefault(kind, {}).update(mapping)
    return mapping


def label(code, kind: str) -> str:
    """The translated word for `code`; a code nobody named yet is shown as it is, not hidden."""
    if code is None or code == "":
        return ""
    value = getattr(code, "value", code)  # enums
    found = LABELS.get(kind, {}).get(value)
    return str(found) if found is not None else str(value)


register("level", {
    "platform": _l("Platform"), "city": _l("City"), "group": _l("Operating group"), "area": _l("Area"),
    "park": _l("Park"),
})

def role_name(role) -> str:
    """A built-in role's name in the reader's language (its stored name is English); others as named."""
    if role is None:
        return ""
    if not role.builtin:
        return role.name
    if role.kind == "admin":
        return _("%(level)s administrator", level=label(role.target_level, "level"))
    return label(role.kind, "role_kind")


register("role_kind", {"admin": _l("Manager"), "collector": _l("Collector"), "inspector": _l("Inspector")})

register("export_state", {"queued": _l("Queued"), "running": _l("Writing"), "done": _l("Ready"),
                          "failed": _l("Failed")})

register("vehicle_class", {"small": _l("Small car"), "large": _l("Large vehicle"), "new_energy": _l("New energy"),
                           "other": _l("Other"), "any": _l("Any class")})

# money movements (LedgerEntry.kind)
register("ledger_kind", {"fee": _l("Parking fee"), "prepay": _l("Prepayment"), "prepay_refund": _l("Prepayment refund"),
                         "recovery": _l("Debt recovery"), "pass_sale": _l("Monthly pass sale")})

register("photo_kind", {"entry": _l("Entry"), "exit": _l("Exit"), "evidence": _l("Evidence")})

# what an on-site lane system uploaded (LaneUpload.kind) and the barrier commands it fetched
register("upload_kind", {"entry": _l("Entry"), "exit": _l("Exit"), "settlement": _l("Settlement"),
                         "lift": _l("Manual barrier lift"), "pass_sale": _l("Monthly pass sale")})
register("command_state", {"queued": _l("Waiting for the site"), "delivered": _l("Fetched by the site"),
                           "done": _l("Done"), "failed": _l("Failed")})

register("task_state", {"open": _l("Open"), "assigned": _l("Assigned"), "resolved": _l("Resolved")})
register("task_outcome", {"done": _l("done"), "failed": _l("failed")})
register("report_kind", {"violation": _l("Violation"), "anomaly": _l("Anomaly")})

register("yes_no", {True: _l("Yes"), False: _l("No")})

# what an audit entry says happened (app/audit/services.record's `action`)
register("audit_action", {
    "create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"), "enable": _l("Enabled"),
    "disable": _l("Disabled"), "import": _l("Imported"),
    "login": _l("Signed in"), "logout": _l("Signed out"), "login_failed": _l("Sign-in failed"),
    "login_refused_locked": _l("Sign-in refused: account locked"),
    "login_refused_disabled": _l("Sign-in refused: account disabled"),
    "login_refused_field_staff": _l("Sign-in refused: field staff use the handheld"),
    "account_locked": _l("Account locked"), "password_change": _l("Password changed"),
    "password_reset": _l("Password reset"), "sessions_ended": _l("Signed out everywhere"),
    "device_sign_in": _l("Handheld sign-in"), "device_registered": _l("Handheld registered"),
    "approve": _l("Approved"), "revoke": _l("Revoked"), "reject": _l("Rejected"),
    "settle": _l("Manual settlement"), "recover": _l("Debt recovered"), "waive": _l("Zero recovery"),
    "sensor_escape": _l("Left unpaid (seen by the sensor)"),
    "rotate_key": _l("New key issued"), "rotate_secret": _l("New secret issued"),
    "resend": _l("Event sent again"),
    "bind": _l("Bound to a berth"), "unbind": _l("Unbound from its berth"),
    "assign": _l("Assigned"), "follow_up": _l("Followed up"), "resolve": _l("Resolved"), "report": _l("Reported"),
    "renew": _l("Renewed"), "change_plates": _l("Plates changed"), "cancel": _l("Cancelled"),
    "whitewash": _l("Whitewashed"), "deactivate": _l("Removed from the list"),
    "barrier_lift": _l("Barrier lift requested"), "barrier_lower": _l("Barrier lower requested"),
    "barrier_lift_done": _l("Barrier lifted"), "barrier_lower_done": _l("Barrier lowered"),
    "barrier_lift_failed": _l("Barrier lift failed"), "barrier_lower_failed": _l("Barrier lower failed"),
})

# what an audit entry was about (the model's class name, or the object_type a service names)
register("object_type", {
    "City": _l("City"), "OperatingGroup": _l("Operating group"), "Area": _l("Area"), "Park": _l("Park"),
    "Staff": _l("Staff member"), "Role": _l("Role"), "AuditEntry": _l("Audit entry"),
    "BerthSegment": _l("Berth segment"), "Berth": _l("Berth"), "Handheld": _l("Handheld"),
    "DeviceSession": _l("Handheld session"), "SimCard": _l("SIM card"), "ExportJob": _l("Export"),
    "ImportJob": _l("Import"),
    "SignInSession": _l("Sign-in session"), "SignInFailures": _l("Failed sign-ins"),
    "UnknownSignIns": _l("Sign-ins with unknown names"),
    "Message": _l("Message"), "InspectorGroup": _l("Inspection group"), "InspectionTask": _l("Inspection task"),
    "ViolationReport": _l("Inspection report"), "Booth": _l("Booth"), "Lane": _l("Lane"), "Camera": _l("Camera"),
    "Barrier": _l("Barrier"), "LedScreen": _l("LED screen"), "Monitor": _l("Video monitor"),
    "MonthlyProduct": _l("Monthly product"), "MonthlyPass": _l("Monthly pass"), "PassPlate": _l("Pass plate"),
    "PassRenewal": _l("Pass renewal"), "ParkingOrder": _l("Order"), "LedgerEntry": _l("Ledger entry"),
    "Arrear": _l("Unpaid order"), "OrderPhoto": _l("Order photo"), "PlateListEntry": _l("White/black list entry"),
    "CollectorSettings": _l("Collector settings"), "FreeReason": _l("Free reason"),
    "ParkParameters": _l("Park parameters"), "CarType": _l("Car type"), "PlateCarType": _l("Plate car type"),
    "SensorSettings": _l("Sensor settings"), "BaseStation": _l("Base station"), "Sensor": _l("Sensor"),
    "SensorEvent": _l("Sensor event"), "OccupancySession": _l("Occupancy"), "Outage": _l("Outage"),
    "Shift": _l("Shift"), "WorkHours": _l("Work hours"), "SiteServer": _l("On-site server"),
    "LaneUpload": _l("Lane upload"), "BarrierCommand": _l("Barrier command"),
    "OutboxMessage": _l("Outgoing event"), "WebhookSubscription": _l("Webhook subscription"),
    "AllianceSettings": _l("Alliance account"), "AlliancePark": _l("Park at the alliance"),
    "AllianceNotice": _l("Alliance payment notice"), "AllianceRecord": _l("Alliance record"),
    "TariffRule": _l("Tariff"),
    "TariffVersion": _l("Tariff version"), "CityRules": _l("City parking rules"),
})
