"""Creating staff and roles within the actor's subtree, granting only what the actor holds."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.audit import services as audit
from app.auth import services as auth
from app.core.errors import Refused
from app.extensions import db
from app.staff.models import FIELD_LEVELS, Role, RoleKind, Staff
from app.staff.permissions import codes_for_level
from app.tenancy.models import Level
from app.tenancy.scope import Scope

STAFF_FIELDS = ("username", "display_name", "phone", "role_id", "level", "city_id", "group_id",
                "area_id", "park_id", "active", "note")
ROLE_FIELDS = ("name", "kind", "target_level", "description", "active")


class StaffError(Refused, ValueError):
    """A refused change of a staff account or role; `field` names the form field it belongs to."""
    code = "staff_refused"


def assignable_roles(actor: Staff, scope: Scope) -> list[Role]:
    """Roles the actor may give: built-in or scoped, at or below the actor's level, no more than they hold."""
    held = actor.permissions
    candidates = db.session.scalars(
        select(Role).where(Role.active.is_(True), (Role.builtin.is_(True)) | scope.clause(Role))
        .order_by(Role.builtin.desc(), Role.name))
    return [r for r in candidates
            if not Level(r.target_level).is_above(scope.level) and r.codes <= held]


def check_role_for_node(role: Role, node_level: Level) -> None:
    if Level(role.target_level) != node_level:
        raise StaffError(f"The role “{role.name}” is for the {role.target_level} level, "
                         f"but the chosen node is a {node_level.value}.", "role_id")


def username_taken(username: str, exclude_id: int | None = None) -> bool:
    stmt = select(Staff.id).where(func.lower(Staff.username) == username.lower())
    if exclude_id:
        stmt = stmt.where(Staff.id != exclude_id)
    return db.session.scalar(stmt) is not None


def create_staff(actor: Staff, *, node, role: Role, username: str, display_name: str, password: str,
                 phone: str | None = None, note: str | None = None, ip: str | None = None) -> Staff:
    if username_taken(username):
        raise StaffError("This username is already taken.", "username")
    check_role_for_node(role, node.level if node is not None else Level.PLATFORM)
    staff = Staff(username=username.strip(), display_name=display_name.strip(), phone=phone or None,
                  note=note or None, role=role)
    staff.anchor_at(node)
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "create", staff, after=audit.snapshot(staff, STAFF_FIELDS), ip=ip)
    return staff


def codes_beyond(actor: Staff, target: Staff) -> set[str]:
    """The codes of the target's role that the actor could not give. A disabled role counts with its
    codes: enabling it again would give them back."""
    role = target.role
    return role.codes - grantable_codes(actor, Level(target.level), role.role_kind)


def check_may_act_on(actor: Staff, target: Staff) -> None:
    """The one rule for every action on an account (edit, role, password, disable, sessions): the target
    hangs at or below the actor's node and holds nothing the actor could not grant. Otherwise a manager
    of staff could reset a stronger person's password, sign in as them and hold their permissions."""
    if not Scope.of(actor).covers(target):
        raise StaffError(_("%(name)s works outside your part of the tree.", name=target.username))
    beyond = codes_beyond(actor, target)
    if beyond:
        raise StaffError(_("%(name)s holds permissions you do not hold (%(codes)s): only a manager who holds "
                           "every one of them may change this account.", name=target.username,
                           codes=", ".join(sorted(beyond)[:6]) + (" …" if len(beyond) > 6 else "")))


def may_act_on(actor: Staff, target: Staff) -> bool:
    try:
        check_may_act_on(actor, target)
    except StaffError:
        return False
    return True


def update_staff(actor: Staff, staff: Staff, *, node, role: Role, display_name: str,
                 phone: str | None, note: str | None, ip: str | None = None) -> None:
    check_may_act_on(actor, staff)
    if staff.id == actor.id and (role.id != staff.role_id or getattr(node, "id", None) != _node_id(staff)):
        raise StaffError("You cannot change your own role or node.", "role_id")
    check_role_for_node(role, node.level if node is not None else Level.PLATFORM)
    before = audit.snapshot(staff, STAFF_FIELDS)
    staff.display_name, staff.phone, staff.note, staff.role = display_name.strip(), phone or None, note or None, role
    staff.anchor_at(node)
    db.session.flush()
    audit.record(actor, "update", staff, before=before, after=audit.snapshot(staff, STAFF_FIELDS), ip=ip)


def _node_id(staff: Staff):
    level = Level(staff.level)
    return None if level == Level.PLATFORM else getattr(staff, f"{level.value}_id")


def set_staff_active(actor: Staff, staff: Staff, active: bool, ip: str | None = None) -> None:
    if staff.id == actor.id:
        raise StaffError(_("You cannot disable your own account."))
    check_may_act_on(actor, staff)
    before = audit.snapshot(staff, ("active",))
    staff.active = active
    if not active:
        auth.end_sessions(staff, "disabled")  # a disabled account loses its sessions at once
    audit.record(actor, "enable" if active else "disable", staff, before=before,
                 after=audit.snapshot(staff, ("active",)), ip=ip)


def reset_password(actor: Staff, staff: Staff, new_password: str, ip: str | None = None) -> None:
    """A manager sets someone's password; all their sessions end. Your own goes through your password
    page, which asks for the current one."""
    if staff.id == actor.id:
        raise StaffError(_("Change your own password on your password page."))
    check_may_act_on(actor, staff)
    auth.change_password(staff, new_password, actor=actor, ip=ip)


def end_sessions(actor: Staff, staff: Staff, ip: str | None = None) -> int:
    """Sign someone out everywhere (a lost phone, a shared computer)."""
    if staff.id == actor.id:
        raise StaffError(_("End your own sessions on your password page."))
    check_may_act_on(actor, staff)
    count = auth.end_sessions(staff, "manager")
    audit.record(actor, "sessions_ended", staff, after={"sessions": count}, ip=ip)
    return count


def grantable_codes(actor: Staff, target_level: Level, kind: RoleKind) -> set[str]:
    return codes_for_level(target_level, field=kind.is_field) & actor.permissions if not kind.is_field \
        else codes_for_level(target_level, field=True)


def save_role(actor: Staff, scope: Scope, role: Role | None, *, name: str, kind: RoleKind,
              target_level: Level, codes: set[str], description: str | None, ip: str | None = None) -> Role:
    """Create or edit a custom role. Granting a code the actor does not hold is refused."""
    if target_level.is_above(scope.level):
        raise StaffError("A role can only be made for your level or below.", "target_level")
    if kind.is_field and target_level not in FIELD_LEVELS:
        raise StaffError("Collector and inspector roles belong to a park or an operating group.", "target_level")
    allowed = grantable_codes(actor, target_level, kind)
    refused = set(codes) - allowed
    if refused:
        raise StaffError("You cannot grant permissions you do not hold yourself: " + ", ".join(sorted(refused)),
                         "codes")
    creating = role is None
    before = None if role is None else {**audit.snapshot(role, ROLE_FIELDS), "codes": sorted(role.codes)}
    if role is None:
        role = Role(builtin=False)
        role.anchor_at(scope.node)
        db.session.add(role)
    elif role.builtin:
        raise StaffError("Built-in roles cannot be changed.")
    role.name, role.kind, role.target_level, role.description = name.strip(), kind.value, target_level.value, description
    role.set_codes(codes)
    db.session.flush()
    after = {**audit.snapshot(role, ROLE_FIELDS), "codes": sorted(role.codes)}
    audit.record(actor, "create" if creating else "update", role, before=before, after=after, ip=ip)
    return role


def set_role_active(actor: Staff, role: Role, active: bool, ip: str | None = None) -> None:
    if role.builtin:
        raise StaffError("Built-in roles cannot be disabled.")
    if role.id == actor.role_id:
        raise StaffError("You cannot disable your own role.")
    role.active = active
    audit.record(actor, "enable" if active else "disable", role, ip=ip)


def builtin_role(level: Level, kind: RoleKind = RoleKind.ADMIN) -> Role:
    """The built-in role of a level and kind, created on first use."""
    role = db.session.scalar(select(Role).where(Role.builtin.is_(True), Role.target_level == level.value,
                                                Role.kind == kind.value))
    if role is None:
        names = {RoleKind.ADMIN: f"{level.value.capitalize()} administrator",
                 RoleKind.COLLECTOR: "Collector", RoleKind.INSPECTOR: "Inspector"}
        role = Role(name=names[kind], kind=kind.value, target_level=level.value, builtin=True)
        role.anchor_at(None)
        db.session.add(role)
        db.session.flush()
    return role


def ensure_builtin_roles() -> None:
    for level in (Level.PLATFORM, Level.CITY, Level.GROUP, Level.AREA, Level.PARK):
        builtin_role(level)
    for level in FIELD_LEVELS:
        builtin_role(level, RoleKind.COLLECTOR)
        builtin_role(level, RoleKind.INSPECTOR)
