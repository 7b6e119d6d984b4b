"""The engine's messages go through gettext like every other text. Flask-Babel's gettext works without
an application (it answers the English text), so the engine stays usable from the CLI and tests; only
validation failures call it, never a quote."""
from flask_babel import gettext as _flask_gettext


def gettext(text: str, **values) -> str:
    try:
        return _flask_gettext(text, **values)
    except KeyError:  # inside a Flask app that has no Babel (a bare CLI app): the English text
        return text % values if values else text


__all__ = ["gettext"]
