"""The admin pages' helpers that read the tenancy tree: node choices keyed 'level:id' for forms, and the
current node's name and the menu in every page's header. Core's web helpers know nothing of the tree."""
from __future__ import annotations

from flask_login import current_user

from app.core.labels import label
from app.tenancy.models import NODE_MODELS, Level
from app.tenancy.navigation import breadcrumbs, current_entry, visible_navigation
from app.tenancy.scope import Scope, current_scope, node_label


def node_key(node) -> str:
    return "platform" if node is None else f"{node.level.value}:{node.id}"


def node_choices(scope: Scope, levels=None) -> list[tuple[str, str]]:
    """Every node of the scope (its own and below), as choices keyed 'level:id'."""
    levels = levels or scope.lower_levels()
    choices = []
    if Level.PLATFORM in levels and scope.level == Level.PLATFORM:
        choices.append(("platform", label(Level.PLATFORM, "level")))
    for level in levels:
        if level == Level.PLATFORM:
            continue
        for node in scope.nodes(level):
            choices.append((node_key(node), f"{label(level, 'level')}: {node_label(node)}"))
    return choices


def node_from_key(scope: Scope, key: str):
    """Resolve a submitted node key inside the scope; anything outside is None (refused)."""
    if key == "platform":
        return None if scope.level == Level.PLATFORM else False
    level_name, _, node_id = (key or "").partition(":")
    try:
        level = Level(level_name)
        model = NODE_MODELS[level]
    except (ValueError, KeyError):
        return False
    if not node_id.isdigit() or level.is_above(scope.level):
        return False
    return scope.get(model, int(node_id)) or False


def init_app(app) -> None:
    @app.context_processor
    def inject_node():
        ctx = {"navigation": visible_navigation, "breadcrumbs": breadcrumbs, "current_entry": current_entry}
        if current_user.is_authenticated:
            ctx["current_node_label"] = lambda: node_label(current_scope().node)
        return ctx
