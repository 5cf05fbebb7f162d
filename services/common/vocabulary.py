"""Domain vocabulary shared by every service and by the event catalogue.

The words are explained in docs/architecture.md, "Vocabulary".
"""

from enum import StrEnum


class Perspective(StrEnum):
    """The perspective a member brings; diversity of perspectives is the point of a learning network."""

    MUNICIPALITY_POLICY = "municipality_policy"  # gemeente / beleid
    PRACTITIONER = "practitioner"  # professional in de praktijk
    CLIENT = "client"
    RESIDENT = "resident"  # bewoner
    VOLUNTEER = "volunteer"
    LIVED_EXPERIENCE = "lived_experience"  # ervaringsdeskundige
    EDUCATION = "education"  # student, docent
    RESEARCH = "research"


# How a person who did not consent to be named appears outside their own network.
A_PARTICIPANT = "a participant"  # no perspective given
FORMER_MEMBER = "a former member"  # erased since
PERSPECTIVE_ROLE_NAMES = {
    Perspective.MUNICIPALITY_POLICY: "a participant from municipal policy",
    Perspective.PRACTITIONER: "a practitioner",
    Perspective.CLIENT: "a participant who is a client",
    Perspective.RESIDENT: "a resident",
    Perspective.VOLUNTEER: "a volunteer",
    Perspective.LIVED_EXPERIENCE: "a participant with lived experience",
    Perspective.EDUCATION: "a participant from education",
    Perspective.RESEARCH: "a researcher",
}
# The same roles as codes, for clients that say them in their own language: a perspective, "participant" or
# "former_member". ``shown_as`` stays the English words (stored in copies, sent to partners and other instances).
AUTHOR_ROLES: dict[str, str] = {
    **{label: perspective.value for perspective, label in PERSPECTIVE_ROLE_NAMES.items()},
    A_PARTICIPANT: "participant",
    FORMER_MEMBER: "former_member",
}


def author_role(shown_as: str, named: bool) -> str | None:
    """The code of the role an unnamed author is shown as; None for a name, or for a label this instance does not
    know (a copy from another instance may carry one)."""
    return None if named else AUTHOR_ROLES.get(shown_as)


class MembershipRole(StrEnum):
    PARTICIPANT = "participant"
    FACILITATOR = "facilitator"  # begeleider
    COORDINATOR = "coordinator"  # coordinator / administrator of the network (kwartiermaker)


class NetworkLevel(StrEnum):
    """The hierarchy Kring connects: national → regional → local → neighbourhood."""

    NATIONAL = "national"
    REGIONAL = "regional"
    LOCAL = "local"
    NEIGHBOURHOOD = "neighbourhood"  # wijk / buurt

    @property
    def depth(self) -> int:
        return list(NetworkLevel).index(self)


class NetworkKind(StrEnum):
    """From sharing knowledge (kennisnetwerk) to co-producing it (community of practice, werkplaats)."""

    KNOWLEDGE_NETWORK = "knowledge_network"  # kennisnetwerk
    LEARNING_CIRCLE = "learning_circle"  # leerkring
    COMMUNITY_OF_PRACTICE = "community_of_practice"
    WERKPLAATS = "werkplaats"  # Werkplaats Sociaal Domein


class UnpreparedPolicy(StrEnum):
    """What happens when a network requires preparation and a participant has not started applying the method."""

    REFUSE = "refuse"
    FLAG = "flag"


class NetworkStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class SessionFormat(StrEnum):
    KNOWLEDGE_CAFE = "knowledge_cafe"  # kenniscafé
    WORLD_CAFE = "world_cafe"  # wereldcafé, with statements
    LEARNING_SESSION = "learning_session"  # leersessie
    ACTION_LEARNING_SESSION = "action_learning_session"
    FOCUS_GROUP = "focus_group"
    NARRATIVE_INTERVIEW = "narrative_interview"  # storytelling
    INTERVISION = "intervision"
    WEBINAR = "webinar"
    OTHER = "other"


class SessionMode(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class SessionStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class LinkStatus(StrEnum):
    """Where a link between two networks stands: asked, in force, or ended (and how)."""

    REQUESTED = "requested"
    ACTIVE = "active"
    REJECTED = "rejected"
    REVOKED = "revoked"
    BLOCKED = "blocked"


class OutputKind(StrEnum):
    CONCLUSION = "conclusion"
    LEARNING_QUESTION = "learning_question"  # leervraag
    LESSON = "lesson"
    RESOURCE = "resource"


class ResourceType(StrEnum):
    KNOWLEDGE_CLIP = "knowledge_clip"  # kennisclip
    PUBLICATION = "publication"
    LINK = "link"


class Visibility(StrEnum):
    """How far an output may travel: its own network, directly linked networks, the federation, everyone."""

    NETWORK = "network"
    LINKED = "linked"
    FEDERATION = "federation"
    PUBLIC = "public"


class ReflectionKind(StrEnum):
    """The four kinds of transformative learning the evaluation used."""

    SELF_IMAGE = "self_image"
    BEHAVIOUR = "behaviour"
    PERSPECTIVE = "perspective"
    TASK_CONCEPTION = "task_conception"


class LoopStatus(StrEnum):
    """Where a learning question is in the action-learning loop (see docs/decisions/0009-the-learning-loop.md)."""

    OPEN = "open"  # the question is recorded, not yet brought to a session
    BROUGHT = "brought"  # brought to a session, where the group works on it
    EXPERIMENTING = "experimenting"  # an experiment in practice came out of a session
    FOLLOWED_UP = "followed_up"  # the participant reported what happened at a later session
    CLOSED = "closed"  # the loop is round; it may name the output it produced


class Mandate(StrEnum):
    """Whether the participant has their organisation's mandate for an experiment in practice."""

    YES = "yes"
    ASKED = "asked"  # asked for, not yet given
    NO = "no"
