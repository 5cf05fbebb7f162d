"""Every text of the console exists in Dutch and English, and every text a template or page asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

from services.common.i18n import placeholders
from services.console.texts import CONSOLE, merged

CONSOLE_DIR = Path(__file__).resolve().parents[3] / "services" / "console"
# t("key") and t.n("key", ...) in templates and page code; a key built at run time ("role." ~ role) is checked by
# its prefix having at least one text.
LITERAL = re.compile(r"""\bt(?:\.n)?\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")
PREFIX = re.compile(r"""\bt(?:\.n)?\(\s*["']([a-z0-9_.]+\.)["']\s*~""")


def used_keys() -> tuple[set[str], set[str]]:
    literal, prefixes = set(), set()
    for path in [*CONSOLE_DIR.rglob("*.html"), *CONSOLE_DIR.rglob("*.py")]:
        text = path.read_text()
        literal.update(LITERAL.findall(text))
        prefixes.update(PREFIX.findall(text))
    return literal, prefixes


def test_every_text_has_dutch_and_english_with_the_same_placeholders():
    for key, forms in CONSOLE.items():
        assert set(forms) == {"nl", "en"}, key
        assert placeholders(forms["nl"]) == placeholders(forms["en"]), key
        assert isinstance(forms["nl"], tuple) == isinstance(forms["en"], tuple), key


def test_every_text_a_template_or_page_asks_for_exists():
    literal, prefixes = used_keys()
    assert literal, "no t(...) call found: the pattern is wrong"
    assert sorted(literal - set(CONSOLE)) == []
    assert sorted(p for p in prefixes if not any(key.startswith(p) for key in CONSOLE)) == []


def test_a_key_defined_in_two_parts_is_refused():
    try:
        merged({"a": {"nl": "x", "en": "x"}}, {"a": {"nl": "y", "en": "y"}})
    except ValueError as refused:
        assert "'a'" in str(refused)
    else:
        raise AssertionError("a key defined twice was accepted")


def test_every_value_a_page_names_from_the_vocabulary_has_a_text():
    # keys built at run time from a value the API sends: a value without a text would fail the page (KeyError)
    from services.common.vocabulary import NetworkKind, NetworkLevel, Perspective, SessionFormat

    for prefix, values in (("networks.perspective.", Perspective), ("me.perspective.", Perspective),
                           ("networks.kind.", NetworkKind), ("network.level.", NetworkLevel),
                           ("networks.format.", SessionFormat)):
        assert sorted(f"{prefix}{v.value}" for v in values if f"{prefix}{v.value}" not in CONSOLE) == [], prefix


def test_every_author_role_code_the_api_sends_has_words_in_the_console():
    from services.common.vocabulary import AUTHOR_ROLES  # the API's codes (the console itself imports no service)

    assert sorted(code for code in AUTHOR_ROLES.values() if f"author_role.{code}" not in CONSOLE) == []
    # and the English words are the API's own, so a page in English reads as the API's shown_as does
    assert {label: CONSOLE[f"author_role.{code}"]["en"] for label, code in AUTHOR_ROLES.items()} == {
        label: label for label in AUTHOR_ROLES}
