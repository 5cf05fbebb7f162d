"""The rules of a shared output (services/federation/domain/outputs.py): whatever order its publication, retraction,
attribution changes and erasures arrive in, it ends the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.common.catalogue import Attribution
from services.common.vocabulary import Visibility
from services.federation.domain.copies import FORMER_MEMBER
from services.federation.domain.outputs import SharedOutput

T0 = datetime(2026, 5, 1, tzinfo=UTC)
NAMED = [Attribution(member_id="m-fatima", shown_as="Fatima el Amrani", named=True),
         Attribution(member_id="m-bram", shown_as="Bram Bakker", named=True)]
ROLE = Attribution(member_id="m-fatima", shown_as="a participant with lived experience", named=False)


def copy() -> dict:
    return {"output_id": "o-1", "title": "Wat werkt", "themes": ["zorg"],
            "authors": [{"shown_as": a.shown_as, "named": a.named} for a in NAMED]}


def published() -> SharedOutput:
    return SharedOutput.published("o-1", "wijk", copy(), ["m-fatima", "m-bram"], Visibility.LINKED, T0, "sessions")


def test_a_retraction_wins_whatever_comes_after_it():
    output = SharedOutput.retracted("o-1", "wijk", T0, "sessions")
    assert not output.publish(copy(), Visibility.LINKED, T0, "sessions")
    assert not output.change_attribution([ROLE, NAMED[1]], T0 + timedelta(minutes=1))
    assert output.copy is None and output.is_retracted


def test_retracting_twice_changes_nothing_the_second_time():
    output = published()
    assert output.retract(T0) and not output.retract(T0 + timedelta(hours=1))
    assert output.retracted_at == T0 and output.copy is None and output.author_ids == []


def test_an_attribution_that_overtook_its_publication_applies_when_the_output_arrives():
    output = SharedOutput.awaiting("o-1", "wijk", [ROLE, NAMED[1]], T0 + timedelta(minutes=5))
    assert output.publish(copy(), Visibility.LINKED, T0, "sessions")
    assert output.copy is not None and output.copy["authors"][0] == {"shown_as": ROLE.shown_as, "named": False}
    assert output.pending_authors is None and not output.publish(copy(), Visibility.LINKED, T0, "sessions")


def test_an_older_attribution_change_arriving_late_changes_nothing():
    output = published()
    assert output.change_attribution([ROLE, NAMED[1]], T0 + timedelta(minutes=5))
    assert not output.change_attribution(NAMED, T0 + timedelta(minutes=1))
    assert output.copy is not None and output.copy["authors"][0]["named"] is False


def test_a_place_an_erasure_emptied_stays_a_former_member_whatever_an_earlier_computed_change_says():
    output = published()
    assert output.erase_author("m-bram")
    assert output.change_attribution(NAMED, T0 + timedelta(minutes=5))  # computed before the erasure
    assert output.copy is not None and output.copy["authors"][1] == {"shown_as": FORMER_MEMBER, "named": False}
    assert output.author_ids == ["m-fatima", ""]


def test_erasing_someone_who_is_not_an_author_changes_nothing():
    output = published()
    assert not output.erase_author("m-someone-else") and output.copy == copy()
