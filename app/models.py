"""Imports every domain's models so Alembic and SQLAlchemy see the whole schema."""
from app.audit.models import AuditEntry  # noqa: F401
from app.staff.models import Role, RolePermission, Staff  # noqa: F401
from app.tenancy.models import Area, City, OperatingGroup, Park  # noqa: F401
from app.tariffs.models import TariffRule, TariffVersion  # noqa: F401
