"""An output as the federation service holds it: the copy recipients see, and what happened to it so far.

What happens to an output reaches this service in any order: its publication, its retraction, a change of how
its authors appear, an author's erasure, and each of them possibly more than once. The rules that make every order
end the same way live here:

- a retraction wins: once retracted, nothing brings the copy back (a publication arriving later changes nothing);
- an attribution change that overtakes its publication waits in ``pending_authors`` and applies when it arrives;
- an older attribution change arriving late changes nothing (``attributed_at``);
- a place an erasure emptied ("" among the author ids) stays "a former member", whatever a change computed
  before the erasure says.

The copy never carries member ids; ``author_ids`` are kept beside it, internal, so that an erasure can find it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.common.catalogue import Attribution
from services.common.vocabulary import FORMER_MEMBER, Visibility
from services.federation.domain.copies import Copy, PublicAuthor, with_authors, without_author


@dataclass
class SharedOutput:
    output_id: str
    origin_network_id: str
    source: str  # "sessions", "partner:<id>" or "peer:<instance id>"
    copy: Copy | None = None  # None: retracted, or not published yet
    author_ids: list[str] = field(default_factory=list)
    visibility: Visibility | None = None
    published_at: datetime | None = None
    retracted_at: datetime | None = None
    attributed_at: datetime | None = None  # the latest attribution change applied
    pending_authors: list[Attribution] | None = None  # an attribution change waiting for its publication

    # --- what may arrive first ---------------------------------------------------------------------------------

    @classmethod
    def published(cls, output_id: str, origin: str, copy: Copy, author_ids: list[str],
                  visibility: Visibility, published_at: datetime, source: str) -> SharedOutput:
        return cls(output_id, origin, source, copy=copy, author_ids=author_ids, visibility=visibility,
                   published_at=published_at)

    @classmethod
    def retracted(cls, output_id: str, origin: str, retracted_at: datetime, source: str) -> SharedOutput:
        """A retraction that came first: the output stays out for good."""
        return cls(output_id, origin, source, retracted_at=retracted_at)

    @classmethod
    def awaiting(cls, output_id: str, origin: str, authors: list[Attribution], changed_at: datetime) -> SharedOutput:
        """An attribution change that overtook its output's publication."""
        return cls(output_id, origin, "sessions", attributed_at=changed_at, pending_authors=authors)

    # --- what happens to it ------------------------------------------------------------------------------------

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None

    @property
    def is_shared(self) -> bool:
        return self.copy is not None

    def publish(self, copy: Copy, visibility: Visibility, published_at: datetime, source: str) -> bool:
        """The publication of an output held so far only as a waiting attribution: the copy, with the authors
        that change gave. False for anything else (a duplicate, or retracted before it arrived)."""
        if self.pending_authors is None:
            return False
        authors, self.pending_authors = self.pending_authors, None
        self.copy, self.author_ids = with_authors(copy, authors), [a.member_id for a in authors]
        self.visibility, self.published_at, self.source = visibility, published_at, source
        return True

    def retract(self, at: datetime) -> bool:
        """Replace the copy with nothing; False if it was retracted already."""
        if self.is_retracted:
            return False
        self.copy, self.author_ids, self.retracted_at, self.pending_authors = None, [], at, None
        return True

    def change_attribution(self, authors: list[Attribution], changed_at: datetime) -> bool:
        """Show the authors as given from now on; True when the copy changed (its recipients are told)."""
        if (self.attributed_at is not None and changed_at <= self.attributed_at) or self.is_retracted:
            return False
        self.attributed_at = changed_at
        if self.copy is None:  # still waiting for the output
            self.pending_authors = authors
            return False
        authors = [Attribution(member_id="", shown_as=FORMER_MEMBER, named=False)
                   if i < len(self.author_ids) and self.author_ids[i] == "" else author
                   for i, author in enumerate(authors)]
        self.copy, self.author_ids = with_authors(self.copy, authors), [a.member_id for a in authors]
        return True

    def erase_author(self, member_id: str) -> bool:
        """Their place shows "a former member" from now on; True when the copy changed."""
        if self.copy is None or member_id not in self.author_ids:
            return False
        self.copy, self.author_ids = without_author(self.copy, self.author_ids, member_id)
        return True

    def show_authors(self, authors: list[PublicAuthor]) -> bool:
        """The authors as the output's own instance now shows them (an update from a peer); True when changed."""
        if self.copy is None or self.copy.get("authors") == authors:
            return False
        self.copy = {**self.copy, "authors": authors}
        return True
