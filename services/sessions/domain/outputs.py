"""Outputs of a session (conclusions, learning questions, lessons, resources) and how authors appear.

Attribution follows consent: inside the author's own network everyone sees names; outside it, an author
who did not consent to be named appears as their perspective ("a participant with lived experience").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from services.common.catalogue import Attribution, OutputAttributionChanged, OutputPublished, OutputRetracted
from services.common.errors import ValidationFailed, violation
from services.common.events import EventPayload
from services.common.vocabulary import (
    A_PARTICIPANT,
    FORMER_MEMBER,
    PERSPECTIVE_ROLE_NAMES,
    OutputKind,
    ResourceType,
    Visibility,
)
from services.sessions.domain.lifecycle import Action
from services.sessions.domain.planning import raise_if
from services.sessions.domain.read_models import Person
from services.sessions.domain.session import SessionFacts

Licence = Literal["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "all-rights-reserved"]
LICENCES: tuple[str, ...] = get_args(Licence)
DEFAULT_LICENCE: Licence = "CC-BY-4.0"


def attribution(person: Person, inside_network: bool) -> Attribution:
    """How ``person`` appears as an author to a reader inside or outside the output's network."""
    if person.erased:
        return Attribution(member_id=person.member_id, shown_as=FORMER_MEMBER, named=False)
    if person.name and (inside_network or person.named_in_shared_outputs):
        return Attribution(member_id=person.member_id, shown_as=person.name, named=True)
    role = PERSPECTIVE_ROLE_NAMES[person.perspectives[0]] if person.perspectives else A_PARTICIPANT
    return Attribution(member_id=person.member_id, shown_as=role, named=False)


def appears_differently_outside(before: Person | None, after: Person) -> bool:
    """Whether a change to a person (name, consent, perspectives, erasure) changes how they appear as an
    author outside their network: only then must the copies that left the network follow."""
    return attribution(before or Person.unknown(after.member_id), inside_network=False) != attribution(
        after, inside_network=False)


def check_content(kind: OutputKind, url: str | None, resource_type: ResourceType | None) -> None:
    found = []
    if kind == OutputKind.RESOURCE:
        if not url:
            found.append(violation("url", "required_for_resource", "a resource needs a link"))
        if resource_type is None:
            found.append(violation("resource_type", "required_for_resource", "say what kind of resource it is"))
    elif resource_type is not None:
        found.append(violation("resource_type", "resource_only", "only a resource has a resource type"))
    raise_if(found)


@dataclass
class Output:
    id: str
    session_id: str
    network_id: str
    kind: OutputKind
    title: str
    body: str
    url: str | None
    resource_type: ResourceType | None
    themes: list[str]
    visibility: Visibility
    licence: str
    author_ids: list[str]
    published_at: datetime
    retracted_at: datetime | None = None
    retraction_reason: str | None = None
    statement: int | None = None  # the number of the session's statement it came from (a café's harvest)
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def publish(cls, output_id: str, session: SessionFacts, authors: list[Person], *, now: datetime,
                kind: OutputKind, title: str, body: str, url: str | None, resource_type: ResourceType | None,
                themes: list[str], visibility: Visibility, licence: str, statement: int | None = None) -> Output:
        """Publish an output of a held or closed session (its outline is enough). The caller checked the authors
        are members.
        ``statement``: the number of the session's statement the output came from (a café's harvest)."""
        session.ensure_allowed(Action.PUBLISH_OUTPUT)
        check_content(kind, url, resource_type)
        if statement is not None and not session.has_statement(statement):
            raise ValidationFailed.single("statement", "statement_exists",
                                          f"the session has {len(session.statements)} statement(s)")
        output = cls(id=output_id, session_id=session.id, network_id=session.network_id, kind=kind, title=title,
                     body=body, url=url, resource_type=resource_type, themes=themes, visibility=visibility,
                     licence=licence, author_ids=[p.member_id for p in authors], published_at=now,
                     statement=statement)
        # The event may travel beyond the network, so it carries the outside view of each author.
        output.events.append(OutputPublished(
            output_id=output.id, session_id=output.session_id, network_id=output.network_id, kind=kind, title=title,
            body=body, url=url, resource_type=resource_type, themes=themes, visibility=visibility, licence=licence,
            authors=[attribution(p, inside_network=False) for p in authors], published_at=now,
        ))
        return output

    @property
    def retracted(self) -> bool:
        return self.retracted_at is not None

    def outside_authors(self, people: Mapping[str, Person]) -> list[Attribution]:
        """The authors as a reader outside the network sees them now."""
        return [attribution(people.get(m) or Person.unknown(m), inside_network=False) for m in self.author_ids]

    def reattribute(self, people: Mapping[str, Person], *, now: datetime) -> bool:
        """Tell every copy outside the network how the authors appear now (after an erasure, or a change of
        name or consent). A retracted output has no copies left to tell. Returns whether it told them."""
        if self.retracted:
            return False
        self.events.append(OutputAttributionChanged(output_id=self.id, network_id=self.network_id,
                                                    authors=self.outside_authors(people), changed_at=now))
        return True

    def retract(self, reason: str | None, *, now: datetime) -> bool:
        """Withdraw the output; retracting again changes nothing. Returns whether anything changed."""
        if self.retracted:
            return False
        self.retracted_at, self.retraction_reason = now, reason
        self.events.append(OutputRetracted(output_id=self.id, network_id=self.network_id, retracted_at=now,
                                           reason=reason))
        return True
