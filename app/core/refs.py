"""What services read of a park, a person and a shift. The admin passes ORM objects (Park, Staff, Shift);
the handheld's hot path passes frozen records read with its token (app.devices.services: DevicePark,
DeviceStaff, OpenShift). Both satisfy these Protocols, and signatures that take either say so."""
from __future__ import annotations

from typing import Protocol


class ParkRef(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def city_id(self) -> int: ...

    @property
    def group_id(self) -> int | None: ...


class StaffRef(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def role_id(self) -> int | None: ...

    @property
    def display_name(self) -> str: ...


class ShiftRef(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def park_id(self) -> int: ...

    @property
    def segment_id(self) -> int: ...
