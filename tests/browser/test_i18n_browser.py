"""A city manager and a park manager with a Chinese browser (zh-CN) open every page of their menu on a
desk (1440×900) and on a phone (390×844): no text of the English catalogue is left on screen, no page is
wider than the window, no page logs an error, and on the phone the menu is a drawer behind a button.
Screenshots of every page go to artifacts/screenshots/ (or the folder in SCREENSHOTS)."""
import os
import re
from pathlib import Path

import pytest

from app.i18n.catalogue import load

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _english_texts() -> re.Pattern:
    """The English catalogue as people would spot it: each msgid (or each literal part around its
    placeholders) longer than 3 characters that the zh_CN catalogue changes, as a whole word."""
    texts = set()
    for message in load("zh_CN"):
        if not message.id or isinstance(message.id, tuple) or message.string == message.id:
            continue
        for part in re.split(r"%\(\w+\)[sd]|%%", message.id):
            part = part.strip(" .,:;·()“”—-")
            if len(part) > 3 and re.search(r"[A-Za-z]{2}", part):
                texts.add(part)
    words = "|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(?:" + words + r")(?![\w-])")


def _data_texts(app) -> list[str]:
    """Every text the demo seed stored (names of places, people, products, reasons, labels…), longest
    first: the seed writes its data in English, and data is not the interface."""
    from sqlalchemy import String, func, select

    from app.extensions import db

    values = {"ParkingOS"}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String) and not column.name.endswith(("hash", "token", "secret")):
                    query = select(column).distinct().where(func.length(column) > 3).limit(500)
                    # a code (collector, night_window) stays a suspect: pages must show its label
                    values.update(v for v in db.session.scalars(query)
                                  if isinstance(v, str) and not re.fullmatch(r"[a-z0-9_.:-]+", v))
        db.session.remove()
    return sorted(values, key=len, reverse=True)


def _sign_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", "parkingos-demo")
    page.click("#submit")
    page.wait_for_url(f"{live_server}/")


# what a page measures of itself: its width against the window's, where the content starts, native date
# or time inputs (they follow the browser's locale), the menu entry marked as this page, the breadcrumbs,
# and visible controls smaller than a 44 px touch target
PAGE_FACTS = """() => {
  const small = [];
  const controls = '#topbar .btn, main .btn, main .page-link, main .form-control, main .form-select';
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && box.height < 44 && window.innerWidth < 768) {
      const name = (el.innerText || el.name || '').trim().slice(0, 20);
      small.push(`${el.id || el.className} ${name} ${Math.round(box.height)}px`);
    }
  }
  const marked = document.querySelector('#menu a.active[aria-current="page"]');
  return {
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    contentTop: Math.round(document.querySelector('main').getBoundingClientRect().top),
    nativeDates: document.querySelectorAll('input[type=date], input[type=time], input[type=datetime-local]').length,
    marked: marked && marked.getAttribute('href'),
    breadcrumbs: !!document.querySelector('#breadcrumbs .breadcrumb-item'),
    small: small,
  };
}"""


def _visible_english(page, english, data) -> list[str]:
    text = page.locator("body").inner_text()
    for value in data:  # what the seed wrote is data, whatever its language
        text = text.replace(value, " ")
    return sorted({f"{m.group(0)} in “{line.strip()[:80]}”" for line in text.splitlines()
                   for m in english.finditer(line)})


def _visit(page, live_server, href, size, problems, english, data, shot):
    page.goto(f"{live_server}{href}", wait_until="load")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    facts = page.evaluate(PAGE_FACTS)
    found = _visible_english(page, english, data) if size == "desk" else []  # the phone shows the same texts
    if found:
        problems.append(f"{href} ({size}): English left on screen: {found}")
    if facts["overflow"] > 0:
        problems.append(f"{href} ({size}): {facts['overflow']} px wider than the window")
    if facts["nativeDates"]:
        problems.append(f"{href} ({size}): {facts['nativeDates']} browser date/time inputs")
    if facts["marked"] != href or not facts["breadcrumbs"]:
        problems.append(f"{href} ({size}): menu marks {facts['marked']}, breadcrumbs {facts['breadcrumbs']}")
    if facts["small"]:
        problems.append(f"{href} ({size}): touch targets under 44 px: {facts['small'][:5]}")
    page.screenshot(path=str(shot), type="jpeg", quality=60)
    if size == "phone":
        _check_drawer(page, href, facts, problems)
        if href == "/":
            page.screenshot(path=str(shot.with_name(shot.stem + "-menu.jpg")), type="jpeg", quality=60)


def _check_drawer(page, href, facts, problems):
    """On a phone the page starts under the header; the menu waits behind its button."""
    sidebar = page.locator("#sidebar")
    shown = sidebar.is_visible()
    if facts["contentTop"] > 80 or shown:
        problems.append(f"{href} (phone): content starts at {facts['contentTop']} px, menu shown: {shown}")
        return
    page.click("#menu-button")
    page.wait_for_selector("#sidebar.show", state="visible", timeout=5000)
    if not sidebar.locator(f'a.nav-link[href="{href}"]').is_visible():
        problems.append(f"{href} (phone): the drawer does not show this page's entry")


@pytest.mark.parametrize("username", ["city1", "park1"])
def test_every_menu_page_in_chinese_on_desk_and_phone(live_app, live_server, browser, username):
    context = browser.new_context(locale="zh-CN", viewport=DESK, reduced_motion="reduce",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    errors, problems = [], []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    english, data = _english_texts(), _data_texts(live_app)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _sign_in(page, live_server, username)
        links = page.eval_on_selector_all("#menu a.nav-link", "els => els.map(e => e.getAttribute('href'))")
        assert len(links) > 10 and len(set(links)) == len(links)
        for size, viewport in (("desk", DESK), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            for href in links:
                name = f"{username}-{size}{href.rstrip('/').replace('/', '_') or '_dashboard'}.jpg"
                _visit(page, live_server, href, size, problems, english, data, SHOTS / name)
        assert problems == [], "\n".join(problems)
        assert errors == [], "\n".join(errors)
    finally:
        context.close()
