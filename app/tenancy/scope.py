"""The one mechanism that turns a signed-in manager into what they may see.

Admin views never fetch by id or list rows without going through `current_scope()`:
`scope.select(Model)` for lists and `scope.get_or_404(Model, id)` for one object.
Every scoped model defines `scope_clause(scope)`; a model without it cannot be listed."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import LEVEL_ORDER, NODE_MODELS, Area, City, Level, OperatingGroup, Park


@dataclass(frozen=True)
class Scope:
    level: Level
    city_id: int | None = None
    group_id: int | None = None
    area_id: int | None = None
    park_id: int | None = None

    @classmethod
    def of(cls, anchored) -> Scope:
        return cls(Level(anchored.level), anchored.city_id, anchored.group_id, anchored.area_id, anchored.park_id)

    @classmethod
    def platform(cls) -> Scope:
        return cls(Level.PLATFORM)

    @property
    def node_id(self) -> int | None:
        if self.level == Level.PLATFORM:
            return None
        return getattr(self, f"{self.level.value}_id")

    @property
    def node(self):
        if self.level == Level.PLATFORM:
            return None
        return db.session.get(NODE_MODELS[self.level], self.node_id)

    def clause(self, model):
        try:
            return model.scope_clause(self)
        except AttributeError as exc:  # a model that forgot to say where it hangs must not be listable
            raise TypeError(f"{model.__name__} has no scope_clause") from exc

    def select(self, model, *entities):
        return select(*(entities or (model,))).where(self.clause(model))

    def get(self, model, object_id):
        if object_id is None:
            return None
        return db.session.scalar(select(model).where(model.id == object_id, self.clause(model)))

    def get_or_404(self, model, object_id):
        obj = self.get(model, object_id)
        if obj is None:
            abort(404)
        return obj

    def covers(self, anchored) -> bool:
        """Whether something anchored (staff, a role) hangs at this scope's node or below: the clause, in Python."""
        return self.level == Level.PLATFORM or getattr(anchored, f"{self.level.value}_id") == self.node_id

    def contains(self, obj) -> bool:
        return obj is not None and self.get(type(obj), obj.id) is not None

    def park_ids(self):
        return select(Park.id).where(self.clause(Park))

    def lower_levels(self, include_own: bool = True) -> list[Level]:
        start = self.level.depth + (0 if include_own else 1)
        return LEVEL_ORDER[start:]

    def nodes(self, level: Level, active_only: bool = True) -> list:
        """The nodes of `level` inside this scope, for choice lists."""
        model = NODE_MODELS[level]
        stmt = self.select(model)
        if active_only:
            stmt = stmt.where(model.active.is_(True))
        return list(db.session.scalars(stmt.order_by(model.name)))


def current_scope() -> Scope:
    """The scope of the signed-in manager, resolved from the session on the server."""
    if "scope" not in g:
        if not current_user.is_authenticated:
            abort(401)
        g.scope = Scope.of(current_user)
    return g.scope


def node_label(node) -> str:
    if node is None:
        return "Platform"
    if isinstance(node, Park) and node.area_id:
        return f"{node.group.name} / {node.area.name} / {node.name}"
    if isinstance(node, Park):
        return f"{node.group.name} / {node.name}"
    if isinstance(node, Area):
        return f"{node.group.name} / {node.name}"
    return node.name


__all__ = ["Scope", "current_scope", "node_label", "City", "OperatingGroup", "Area", "Park"]
