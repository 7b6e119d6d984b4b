"""What the platform serves at /m/: the shell, its manifest and service worker, icons, and texts in two
languages; all under a policy that allows no inline script or style."""
from __future__ import annotations

import re
import struct
from pathlib import Path

from app.handheld import STATIC
from app.orders.photos import KINDS
from app.parks.services import VEHICLE_CLASSES

JS = STATIC / "js"


def test_the_shell_loads_only_files_of_its_own_origin_under_a_strict_policy(client):
    response = client.get("/m/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    page = response.get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no CDN
    for path in re.findall(r'(?:src|href)="(/m/[^"]+)"', page):
        assert client.get(path).status_code == 200, path


def test_the_service_worker_covers_the_app_and_keeps_a_versioned_copy_of_every_file(client):
    response = client.get("/m/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"  # a new release is found on the next start
    body = response.get_data(as_text=True)
    version = client.get("/m/").get_data(as_text=True).split('data-version="')[1].split('"')[0]
    assert f'"parkingos-m-{version}"' in body
    for name in ("js/app.js", "js/outbox.js", "css/print.css", "icons/icon-192.png"):
        assert f"/m/static/{name}?v={version}" in body


def test_the_manifest_installs_the_app_at_m_with_icons_of_the_sizes_it_names(client):
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = manifest.get_json(force=True)
    assert data["start_url"] == data["scope"] == "/m/" and data["display"] == "standalone"
    assert data["lang"] == "zh-CN"
    for icon in data["icons"]:
        png = client.get(icon["src"]).data
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def _keys(block: str) -> set[str]:
    """The keys of one language's dictionary: `"a.b": "…"` or `name: "…"`, each at a line's start or after a comma."""
    return {a or b for a, b in re.findall(r'(?:^\s*|,\s*)(?:"([\w.]+)"|(\w+)):\s*"', block, re.M)}


def test_every_text_of_the_app_is_in_chinese_and_in_english():
    source = (JS / "i18n.js").read_text(encoding="utf-8")
    zh_block = source.split("  zh: {", 1)[1].split("\n  },\n", 1)[0]
    en_block = source.split("  en: {", 1)[1].split("\n  },\n", 1)[0]
    zh, en = _keys(zh_block), _keys(en_block)
    assert len(zh) > 150 and zh == en
    for path in JS.glob("*.js"):  # a module may bring its own texts: Object.assign(TEXTS.zh, {…}), and en's
        code = path.read_text(encoding="utf-8")
        extra_zh = {k for block in re.findall(r"Object\.assign\(TEXTS\.zh, \{(.*?)\n\}\);", code, re.S)
                    for k in _keys(block)}
        extra_en = {k for block in re.findall(r"Object\.assign\(TEXTS\.en, \{(.*?)\n\}\);", code, re.S)
                    for k in _keys(block)}
        assert extra_zh == extra_en, (path.name, sorted(extra_zh ^ extra_en))
        zh |= extra_zh
    used = set()
    for path in JS.glob("*.js"):
        used |= set(re.findall(r'\bt\("([\w.]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= zh, sorted(used - zh)


def test_texts_named_from_data_exist_in_both_languages():
    """Keys built at run time (`kind.${item.kind}`, `method.${…}`…) are not seen by the check above."""
    source = (JS / "i18n.js").read_text(encoding="utf-8")
    zh_block = source.split("  zh: {", 1)[1].split("\n  },\n", 1)[0]
    code = "".join(path.read_text(encoding="utf-8") for path in JS.glob("*.js"))
    kinds = set(re.findall(r'submit\("(\w+)"', code)) | {"photo"}
    rows = re.search(r"SUMMARY_ROWS = \[([^\]]+)\]", code).group(1)
    needed = ({f"kind.{k}" for k in kinds} | {f"summary.{k}" for k in re.findall(r'"(\w+)"', rows)}
              | {f"method.{m}" for m in ("cash", "card", "electronic", "free")}
              | {f"class.{c}" for c in VEHICLE_CLASSES} | {"inspector.sensor_occupied", "inspector.sensor_free"}
              | {f"report.{k}" for k in ("violation", "anomaly")} | {f"photo.{k}" for k in KINDS})
    assert len(kinds) >= 9 and needed <= _keys(zh_block), sorted(needed - _keys(zh_block))


def test_icons_in_the_repo_are_the_ones_the_drawing_code_makes():
    from app.handheld.icons import png

    assert (Path(STATIC) / "icons" / "icon-192.png").read_bytes() == png(192)
