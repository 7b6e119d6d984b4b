"""Staff (员工) and roles (角色). One account model for every level; field staff
(收费员 collectors, 巡查员 inspectors) have the same accounts but a field role."""
from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.types import UTCDateTime
from app.extensions import db
from app.staff.permissions import codes_for_level
from app.tenancy.models import AnchoredMixin, Level, TimestampMixin


class RoleKind(str, enum.Enum):
    ADMIN = "admin"          # web manager
    COLLECTOR = "collector"  # 收费员
    INSPECTOR = "inspector"  # 巡查员

    @property
    def is_field(self) -> bool:
        return self != RoleKind.ADMIN


FIELD_LEVELS = (Level.GROUP, Level.PARK)


class Role(AnchoredMixin, TimestampMixin, db.Model):
    """A named set of permission codes for staff anchored at `target_level`.
    Built-in roles hang at the platform and exist once per level and kind."""

    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default=RoleKind.ADMIN.value)
    target_level: Mapped[str] = mapped_column(String(16))
    builtin: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    grants: Mapped[list["RolePermission"]] = relationship(cascade="all, delete-orphan")

    @property
    def role_kind(self) -> RoleKind:
        return RoleKind(self.kind)

    @property
    def codes(self) -> set[str]:
        if self.builtin and self.role_kind == RoleKind.ADMIN:
            return codes_for_level(Level(self.target_level))
        return {g.code for g in self.grants}

    def set_codes(self, codes) -> None:
        wanted = set(codes)
        self.grants = [g for g in self.grants if g.code in wanted]
        have = {g.code for g in self.grants}
        self.grants.extend(RolePermission(code=c) for c in sorted(wanted - have))


class RolePermission(db.Model):
    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("role_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))


class Staff(UserMixin, AnchoredMixin, TimestampMixin, db.Model):
    """An account: a manager at some node, or a collector / inspector of a park or group."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))  # the page language they chose (zh_CN, en)
    role: Mapped[Role] = relationship(lazy="joined")

    signin = None  # the request's sign-in session (app.auth.models.SignInSession), set when it is opened or loaded
    # identity, as for any other model: UserMixin would compare get_id(), the session token
    __eq__, __ne__, __hash__ = object.__eq__, object.__ne__, object.__hash__

    def get_id(self) -> str:
        # what Flask-Login keeps in the cookie: the sign-in session's token, never the account's id
        return self.signin.token

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_field_staff(self) -> bool:
        return self.role.role_kind.is_field

    @property
    def permissions(self) -> set[str]:
        return self.role.codes if self.role.active else set()

    def can(self, code: str) -> bool:
        return code in self.permissions
