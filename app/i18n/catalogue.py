"""The message catalogues: extract every text from the code and templates, merge it into
translations/<locale>/LC_MESSAGES/messages.po, and check that zh_CN translates all of it.

    python -m app.i18n.catalogue update   # `make translations`: extract, merge, fill the en identity
    python -m app.i18n.catalogue check    # what zh_CN lacks (the test suite runs the same check)
    python -m app.i18n.catalogue compile  # the .mo files (`make install` does it)
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
LOCALES = ("zh_CN", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|%%")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def mo_path(locale: str) -> Path:
    """Where the compiled catalogue goes: under Babel's full name of the locale (zh_CN is zh_Hans_CN to
    Babel, and Flask-Babel looks the .mo up by that name), beside nothing else of ours."""
    return TRANSLATIONS / str(Locale.parse(locale)) / "LC_MESSAGES" / "messages.mo"


def is_compiled() -> bool:
    return all(mo_path(loc).exists() and mo_path(loc).stat().st_mtime >= po_path(loc).stat().st_mtime
               for loc in LOCALES)


def extract() -> Catalog:
    """Every message of the code and templates, as pybabel extract with babel.cfg would find it."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project="ParkingOS", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def load(locale: str) -> Catalog:
    with open(po_path(locale), "rb") as f:
        return read_po(f, locale=locale)


def _texts(message) -> tuple:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _translations(message) -> tuple:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def problems(template: Catalog, catalogue: Catalog) -> list[str]:
    """Messages of `template` that `catalogue` lacks, leaves fuzzy or empty, or translates with other
    placeholders."""
    found = []
    for message in template:
        if not message.id:
            continue
        have = catalogue.get(message.id, message.context)
        name = " | ".join(_texts(message))
        if have is None:
            found.append(f"missing: {name}")
        elif have.fuzzy:
            found.append(f"fuzzy: {name}")
        elif not all(_translations(have)):
            found.append(f"untranslated: {name}")
        else:
            want = Counter(PLACEHOLDER.findall(_texts(message)[0]))
            if any(Counter(PLACEHOLDER.findall(t)) != want for t in _translations(have)):
                found.append(f"placeholders differ: {name}")
    return found


def update() -> None:
    template = extract()
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            catalogue = load(locale)
            catalogue.update(template, no_fuzzy_matching=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=locale, project="ParkingOS", charset="utf-8", fuzzy=False)
            catalogue.update(template, no_fuzzy_matching=True)
        if locale == "en":  # the texts are written in English: the en catalogue is their identity
            for message in catalogue:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        catalogue.obsolete.clear()
        catalogue.fuzzy = False
        with open(path, "wb") as f:
            write_po(f, catalogue, width=120, include_lineno=False, include_previous=False)


def compile_all() -> None:
    for locale in LOCALES:
        catalogue = load(locale)
        mo_path(locale).parent.mkdir(parents=True, exist_ok=True)
        with open(mo_path(locale), "wb") as f:
            write_mo(f, catalogue)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
        compile_all()
    elif command == "compile":
        compile_all()
        return 0
    found = problems(extract(), load("zh_CN"))
    for line in found:
        print(line)
    print(f"{len(found)} zh_CN problem(s)", file=sys.stderr)
    return 1 if found and command == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
