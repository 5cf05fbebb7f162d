"""Texts in Dutch and English: the language a request asks for, and catalogues complete in both languages, with
the same placeholders in each and a singular and a plural wherever a count is filled in."""

from __future__ import annotations

import json

import pytest

from services.common.i18n import LANGUAGES, Catalogue, Texts, catalogue_json, negotiate, placeholders
from services.common.i18n.health import HEALTH
from services.common.i18n.learning import LEARNING
from services.common.vocabulary import Perspective

CATALOGUES = {"health": HEALTH, "learning": LEARNING}


@pytest.mark.parametrize(("header", "expected"), [
    (None, "nl"), ("", "nl"), ("nl", "nl"), ("en", "en"), ("EN-us", "en"), ("de, fr", "nl"),
    ("fr;q=0.9, en;q=0.8, nl;q=0.7", "en"), ("en;q=0.5, nl", "nl"), ("en, nl", "en"), ("en;q=0, fr", "nl"),
    ("en;q=x", "nl"), (";;,,", "nl"),
])
def test_the_language_is_the_one_accept_language_prefers_among_dutch_and_english_and_dutch_by_default(
    header: str | None, expected: str,
) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_message_is_in_both_languages_with_the_same_placeholders_and_plurals_in_pairs(name: str) -> None:
    catalogue: Catalogue = CATALOGUES[name]
    for key, forms in catalogue.items():
        assert set(forms) == set(LANGUAGES), f"{name}:{key} is not in both languages"
        kinds = {type(message) for message in forms.values()}
        assert len(kinds) == 1, f"{name}:{key}: a plural in one language only"
        assert placeholders(forms["nl"]) == placeholders(forms["en"]), f"{name}:{key}: placeholders differ"
        for message in forms.values():
            if isinstance(message, tuple):
                assert len(message) == 2 and all("{n}" in form for form in message), f"{name}:{key}"


def test_every_perspective_has_a_name_in_the_health_catalogue() -> None:
    assert {f"perspective.{p.value}" for p in Perspective} <= set(HEALTH)


def test_a_count_chooses_singular_for_one_and_plural_otherwise_in_both_languages() -> None:
    nl, en = Texts(HEALTH, "nl"), Texts(HEALTH, "en")
    assert [nl.n("count.session", n) for n in (0, 1, 2)] == ["0 sessies", "1 sessie", "2 sessies"]
    assert [en.n("count.month", n) for n in (0, 1, 2)] == ["0 months", "1 month", "2 months"]
    assert (nl.decimal(6.0), en.decimal(6.0), nl.join(["a", "b", "c"])) == ("6,0", "6.0", "a, b en c")
    with pytest.raises(TypeError):
        nl("count.session")
    with pytest.raises(TypeError):
        nl.n("title.frame_theme", 1)


def test_the_catalogue_is_available_to_the_console_as_json() -> None:
    loaded = json.loads(catalogue_json(HEALTH))
    assert loaded["count.session"]["nl"] == ["{n} sessie", "{n} sessies"]
    assert loaded["title.frame_theme"]["en"] == "Frame the theme sharply"
