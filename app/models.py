"""Imports every domain's models so Alembic and SQLAlchemy see the whole schema."""
from app.audit.models import AuditEntry  # noqa: F401
from app.auth.models import SignInFailures, SignInSession, UnknownSignIns  # noqa: F401
from app.berths.models import Berth, BerthSegment  # noqa: F401
from app.core.idempotency import IdempotentRequest  # noqa: F401
from app.devices.models import DeviceSession, Handheld, SimCard  # noqa: F401
from app.exports.models import ExportJob  # noqa: F401
from app.inbox.models import Message  # noqa: F401
from app.inspections.models import InspectionTask, InspectorGroup, ViolationReport  # noqa: F401
from app.integrations.models import (  # noqa: F401
    AllianceNotice,
    AlliancePark,
    AllianceRecord,
    AllianceSettings,
    OutboxMessage,
    WebhookSubscription,
)
from app.lanes.models import Barrier, Booth, Camera, Lane, LedScreen, Monitor  # noqa: F401
from app.ledger.models import LedgerEntry  # noqa: F401
from app.members.models import ImportJob, MonthlyPass, MonthlyProduct, PassPlate, PassRenewal, PlateListEntry  # noqa: F401
from app.orders.models import Arrear, OrderPhoto, ParkingOrder  # noqa: F401
from app.parks.models import CollectorSettings, FreeReason  # noqa: F401
from app.payments.models import (  # noqa: F401
    MerchantAccount,
    ParkPaymentAccount,
    Payment,
    PaymentNotice,
    PaymentRefund,
    Reconciliation,
    SandboxTrade,
)
from app.reports import models as report_models  # noqa: F401  (the daily rollups)
from app.sensors.models import BaseStation, OccupancySession, Outage, Sensor, SensorEvent, SensorSettings  # noqa: F401
from app.shifts.models import Shift, WorkHours  # noqa: F401
from app.staff.models import Role, RolePermission, Staff  # noqa: F401
from app.sync.models import BarrierCommand, LaneUpload, SiteServer, SyncChange, SyncNonce  # noqa: F401
from app.tariffs.models import TariffRule, TariffVersion  # noqa: F401
from app.tenancy.models import Area, City, OperatingGroup, Park  # noqa: F401
from app.tracks.models import LastPosition, TrackPoint  # noqa: F401
