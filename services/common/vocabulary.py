"""Domain vocabulary shared by every service and by the event catalogue (see DESIGN.md's glossary)."""

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


class MembershipRole(StrEnum):
    PARTICIPANT = "participant"
    FACILITATOR = "facilitator"  # begeleider
    COORDINATOR = "coordinator"  # coordinator / administrator of the network (kwartiermaker)
