"""Texts in Dutch and English: the language a request asks for, and catalogues of messages with plurals.

A catalogue is a plain mapping, one module per report (:mod:`.health`, :mod:`.learning`), so the console can
load the same texts (``catalogue_json``). Each message has a text per language; a message with a count has a
(singular, plural) pair per language, the count in ``{n}``. Dutch is the default: the people who read the
reports work in Dutch. Numbers with decimals are written the language's way (6,0 weken; 6.0 weeks).
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from typing import Literal

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT: Language = "nl"

Message = str | tuple[str, str]  # a text, or (singular, plural) for a message with a count
Catalogue = Mapping[str, Mapping[Language, Message]]


def negotiate(accept_language: str | None) -> Language:
    """The language an ``Accept-Language`` header prefers among ours (by quality, then order); Dutch by default.

    ``en-GB;q=0.8, nl;q=0.9`` is Dutch; ``fr, en`` English; ``fr`` or nothing Dutch. A malformed entry is skipped.
    """
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        primary = tag.strip().lower().split("-")[0]
        if quality > 0 and primary in LANGUAGES:
            ranked.append((-quality, position, "nl" if primary == "nl" else "en"))
    return min(ranked)[2] if ranked else DEFAULT


class Texts:
    """The messages of one catalogue in one language: ``t("key", name=...)``, ``t.n("key", count)``."""

    def __init__(self, catalogue: Catalogue, language: Language = DEFAULT) -> None:
        self.catalogue = catalogue
        self.language = language

    def __call__(self, key: str, **values: object) -> str:
        message = self.catalogue[key][self.language]
        if isinstance(message, tuple):
            raise TypeError(f"{key} takes a count: use .n()")
        return message.format(**values)

    def n(self, key: str, count: int, **values: object) -> str:
        """The singular or plural form for ``count`` (Dutch and English: one is singular, every other plural)."""
        message = self.catalogue[key][self.language]
        if not isinstance(message, tuple):
            raise TypeError(f"{key} has no plural forms")
        return message[0 if count == 1 else 1].format(n=count, **values)

    def decimal(self, value: float, digits: int = 1) -> str:
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.language == "nl" else text

    def join(self, items: list[str]) -> str:
        """"a, b and c" / "a, b en c"."""
        if len(items) < 2:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self('and')} {items[-1]}" if "and" in self.catalogue else ", ".join(items)


def placeholders(message: Message) -> set[str]:
    """The names a message fills in (both forms of a plural together)."""
    forms = message if isinstance(message, tuple) else (message,)
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def catalogue_json(catalogue: Catalogue) -> str:
    """The catalogue as JSON, for the console: ``{key: {language: text or [singular, plural]}}``."""
    return json.dumps({key: {lang: list(m) if isinstance(m, tuple) else m for lang, m in forms.items()}
                       for key, forms in catalogue.items()}, ensure_ascii=False, indent=1, sort_keys=True)
