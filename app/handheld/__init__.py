"""The handheld web app (收费员/巡查员手持端) at /m/: an installable page whose scripts talk only to /pos/v1.

The server only serves files here: the shell page, the manifest, the service worker and the static
modules. Every datum reaches the app through the device API, as it would reach a third party's app."""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template

STATIC = Path(__file__).parent / "static"
bp = Blueprint("handheld", __name__, url_prefix="/m", static_folder=str(STATIC), static_url_path="/static",
               template_folder="templates")

# Stricter than the admin pages' policy: no inline style either, and the service worker and manifest
# from this origin only.
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


@cache
def _files() -> tuple[tuple[str, ...], str]:
    """The static files the service worker keeps, and a version that changes with any of them."""
    names = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + (STATIC / name).read_bytes())
    return tuple(names), digest.hexdigest()[:12]


def version() -> str:
    if current_app.debug:  # files edited while the development server runs
        _files.cache_clear()
    return _files()[1]


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


@bp.get("/")
def shell():
    response = Response(render_template("handheld/index.html", version=version()), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():
    """At /m/sw.js its scope covers /m/; its cache is named after the files' version, so a new release
    replaces it on the next start."""
    names, ver = _files()
    body = render_template("handheld/sw.js", version=version(),
                           files=["/m/"] + [f"/m/static/{name}?v={ver}" for name in names])
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = current_app.response_class(render_template("handheld/manifest.webmanifest", version=version()),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
