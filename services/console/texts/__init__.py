"""Every label and message of the console, in Dutch (the default) and English.

One catalogue per part of the console, merged here; a key belongs to one part only (the unit tests check that,
that every key has both languages with the same placeholders, and that every key a template uses exists).
"""

from __future__ import annotations

from services.common.i18n import Catalogue, Message
from services.common.i18n import Language as Language
from services.console.texts import common, me, networks, operator, outputs, sessions


def merged(*parts: Catalogue) -> dict[str, dict[Language, Message]]:
    catalogue: dict[str, dict[Language, Message]] = {}
    for part in parts:
        for key, forms in part.items():
            if key in catalogue:
                raise ValueError(f"console text {key!r} is defined twice")
            catalogue[key] = dict(forms)
    return catalogue


CONSOLE: Catalogue = merged(common.TEXTS, me.TEXTS, operator.TEXTS, networks.TEXTS, sessions.TEXTS,
                             outputs.TEXTS)
