"""The demo networks' sessions: a plan computed from each network's start date and cadence. Plain data, no I/O.

Deterministic: each session's choices come from a random generator seeded with the network and the session's
number, so the same start date gives the same sessions (and a later day only adds the sessions held since).
Past sessions are held and closed (the latest stays held) with attendance and outputs of every kind and
visibility; a few were cancelled, one was rescheduled, one output retracted; the next two are planned, with
registrations (one at capacity, with a waitlist). A few members of each network reflect on sessions they
attended, in all four kinds. :mod:`services.demo.sessions` loads the plan through the admin API.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.common.vocabulary import (
    MembershipRole,
    OutputKind,
    ReflectionKind,
    ResourceType,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Visibility,
)
from services.demo.catalogue import DemoNetwork, members_of

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
F, M, K, V = SessionFormat, SessionMode, OutputKind, Visibility
R = MembershipRole
FUTURE_SESSIONS = 2
REFLECTORS_PER_NETWORK = 3
REFLECTIONS_PER_MEMBER = 2


@dataclass(frozen=True)
class Practice:
    """How a network holds its sessions; the plan follows from it."""

    formats: tuple[SessionFormat, ...]  # taken in turn
    topics: tuple[str, ...]  # taken in turn
    place: str
    hour: int = 14
    modes: tuple[SessionMode, ...] = (M.IN_PERSON,)
    participants_present: bool = True  # participants, not only facilitators, contribute (health step 6)
    visibilities: tuple[Visibility, ...] = (V.FEDERATION, V.NETWORK, V.LINKED, V.PUBLIC)
    reflections: bool = True
    cancelled: tuple[int, ...] = ()  # session numbers that were cancelled
    rescheduled: int | None = None  # a session number that was moved by a week
    capacity: int | None = None  # the first planned session's seats; more register than fit
    retracted: int | None = None  # a session number whose first output was retracted


PRACTICES: dict[str, Practice] = {
    "beteroud": Practice(
        (F.KNOWLEDGE_CAFE, F.WEBINAR, F.WORLD_CAFE, F.LEARNING_SESSION, F.NARRATIVE_INTERVIEW),
        ("Eenzaamheid bespreekbaar maken", "Mantelzorgers ontlasten met respijtzorg", "Ouderen zelf aan het woord",
         "Samenwerken met de huisarts", "Zingeving op hoge leeftijd", "Digitale inclusie van ouderen",
         "Vroegsignalering van overbelasting"),
        "Movisie, Catharijnesingel 47, Utrecht", modes=(M.HYBRID, M.ONLINE, M.IN_PERSON), cancelled=(6,),
        capacity=8, retracted=2),
    "werkplaats-utrecht": Practice(
        (F.LEARNING_SESSION, F.WORLD_CAFE, F.FOCUS_GROUP, F.KNOWLEDGE_CAFE),
        ("Schulden vroeg in beeld", "Wat werkt in de armoedeaanpak", "Ervaringskennis in het wijkteam",
         "Niet-gebruik van regelingen", "Bestaanszekerheid en gezondheid"),
        "Hogeschool Utrecht, Heidelberglaan 7", hour=15, rescheduled=4),
    "werkplaats-twente": Practice(
        (F.LEARNING_SESSION, F.KNOWLEDGE_CAFE, F.INTERVISION),
        ("Meedoen zonder betaald werk", "Vrijwilligerswerk als opstap", "De rol van de werkcoach",
         "Participatie en gezondheid"),
        "Saxion, M.H. Tromplaan 28, Enschede", participants_present=False, cancelled=(5,)),
    "werkplaats-rijnmond": Practice(
        (F.KNOWLEDGE_CAFE, F.FOCUS_GROUP, F.WORLD_CAFE, F.NARRATIVE_INTERVIEW),
        ("Mantelzorg in migrantengemeenschappen", "Respijtzorg die past", "Jonge mantelzorgers op Zuid",
         "De mantelzorger als partner van de professional"),
        "Hogeschool Rotterdam, Kralingse Zoom 91", hour=13, modes=(M.IN_PERSON, M.HYBRID)),
    "werkplaats-nhn": Practice(
        (F.WEBINAR, F.KNOWLEDGE_CAFE),
        ("Langer thuis in de kleine kernen", "Woningaanpassing op tijd", "Valpreventie thuis",
         "Wonen met zorg in het dorp"),
        "Inholland, Bergerweg 200, Alkmaar", modes=(M.ONLINE, M.IN_PERSON), cancelled=(2,)),
    "buurtteam-overvecht": Practice(
        (F.INTERVISION, F.LEARNING_SESSION, F.NARRATIVE_INTERVIEW),
        ("Geldzorgen herkennen aan de keukentafel", "Samen met bewoners signaleren", "Schaamte voorbij",
         "De weg naar schuldhulp korter maken"),
        "Buurtcentrum De Boog, Overvecht", hour=19, visibilities=(V.NETWORK, V.LINKED, V.NETWORK, V.FEDERATION)),
    "mantelzorg-utrecht-west": Practice(
        (F.LEARNING_SESSION, F.FOCUS_GROUP),
        ("Jonge mantelzorgers herkennen op school", "Ontlasten zonder over te nemen", "Wat jongeren zelf vragen"),
        "Wijkcentrum Lombok, Utrecht", hour=16, reflections=False),
    "actieleren-enschede": Practice(
        (F.ACTION_LEARNING_SESSION, F.ACTION_LEARNING_SESSION, F.INTERVISION),
        ("Eerste stap in vrijwilligerswerk", "Wat hield je tegen, wat hielp je verder", "Een maatje als begeleider",
         "Terugblik op de eigen actie"),
        "Wijkcentrum De Pathmos, Enschede", hour=10, cancelled=(7,)),
    "mantelzorg-rotterdam-zuid": Practice(
        (F.KNOWLEDGE_CAFE, F.WORLD_CAFE, F.WEBINAR),
        ("Mantelzorgers die zichzelf niet zo noemen", "Huisbezoek als ingang", "Steun via de moskee en de kerk"),
        "Wijkgebouw Het Huis op Zuid, Rotterdam", hour=19, modes=(M.IN_PERSON, M.IN_PERSON, M.ONLINE)),
    "buurtkring-hillesluis": Practice(
        (F.KNOWLEDGE_CAFE, F.NARRATIVE_INTERVIEW),
        ("Koffie en verhalen", "Buren die omkijken", "Wie zien we niet meer?"),
        "Huiskamer Hillesluis, Rotterdam", hour=10, visibilities=(V.NETWORK,)),
}

STATEMENTS = (
    "Eenzaamheid is vooral een taboe, geen gebrek aan activiteiten",
    "Professionals moeten vaker een stap terug doen",
    "Ervaringsdeskundigen horen aan tafel vanaf de eerste bijeenkomst",
    "Beleid wordt te ver van de wijk gemaakt",
    "Wie hulp vraagt, moet niet eerst een formulier invullen",
    "De buurt kan meer dan de gemeente denkt",
)
LESSONS = (
    "Begin bij wat bewoners zelf al doen", "Vraag door op wat iemand echt belangrijk vindt",
    "Kleine gebaren maken het verschil", "Samen optrekken met de huisarts werkt",
    "Ervaringskennis hoort er vanaf het begin bij", "Wie signaleert, moet weten waar hij naartoe kan",
    "Eén vast gezicht werkt beter dan drie loketten", "Neem de tijd voor het tweede gesprek",
)
QUESTIONS = (
    "Hoe bereiken we wie nooit naar een bijeenkomst komt?", "Wanneer neem je het over en wanneer niet?",
    "Hoe maken we ervaringskennis zichtbaar in beleid?", "Wat heeft een mantelzorger nodig om hulp te vragen?",
    "Hoe houden we de beweging vast na dit project?", "Wie mist er aan tafel?",
)
REFLECTION_TEXTS = {
    ReflectionKind.SELF_IMAGE: ("Ik zie mezelf minder als hulpverlener en meer als gesprekspartner.",
                                "Ik merk dat mijn eigen ervaring ertoe doet."),
    ReflectionKind.BEHAVIOUR: ("Ik vraag nu eerst wat iemand zelf wil voordat ik iets voorstel.",
                               "Ik bel voortaan zelf de huisarts in plaats van door te verwijzen."),
    ReflectionKind.PERSPECTIVE: ("Ik begrijp beter waarom mensen geen hulp vragen.",
                                 "Het verhaal van een bewoner zette mijn beeld van de wijk op zijn kop."),
    ReflectionKind.TASK_CONCEPTION: ("Signaleren hoort bij mijn werk, niet erbij.",
                                     "Mijn taak is verbinden, niet oplossen."),
}
CANCEL_REASONS = ("Te weinig aanmeldingen", "Begeleider ziek", "Samengevoegd met de regiodag")
RESCHEDULE_REASON = "Viel samen met de gemeenteraadsvergadering"
RETRACT_REASON = "Bevat herleidbare informatie over een deelnemer"
LICENCES = ("CC-BY-4.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0")


@dataclass(frozen=True)
class OutputSpec:
    kind: OutputKind
    title: str
    body: str
    authors: tuple[str, ...]  # member keys
    themes: tuple[str, ...]
    visibility: Visibility
    licence: str
    url: str | None = None
    resource_type: ResourceType | None = None
    retract: bool = False

    def publication(self, member_ids: dict[str, str]) -> dict[str, Any]:
        body = {"kind": str(self.kind), "title": self.title, "body": self.body,
                "authors": [member_ids[a] for a in self.authors], "themes": list(self.themes),
                "visibility": str(self.visibility), "licence": self.licence, "url": self.url,
                "resource_type": str(self.resource_type) if self.resource_type else None}
        return {key: value for key, value in body.items() if value is not None}


@dataclass(frozen=True)
class SessionSpec:
    network: str
    number: int  # 1 is the network's first session
    title: str
    format: SessionFormat
    mode: SessionMode
    starts_at: datetime
    ends_at: datetime
    fate: SessionStatus  # where the session ends up: planned, held, closed or cancelled
    location: str | None = None
    meeting_url: str | None = None
    capacity: int | None = None
    agenda: str = ""
    contributions: tuple[tuple[str, str], ...] = ()  # (member key, topic)
    statements: tuple[str, ...] = ()
    moved_from: tuple[datetime, datetime] | None = None  # first planned at these times, then rescheduled
    cancel_reason: str | None = None
    registrations: tuple[tuple[str, bool | None], ...] = ()  # (member key, prepared), in order of arrival
    attendees: tuple[str, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()

    def scheduling(self, member_ids: dict[str, str]) -> dict[str, Any]:
        starts, ends = self.moved_from or (self.starts_at, self.ends_at)
        body = {"title": self.title, "format": str(self.format), "mode": str(self.mode), "location": self.location,
                "meeting_url": self.meeting_url, "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
                "capacity": self.capacity, "agenda": self.agenda, "statements": list(self.statements),
                "contributions": [{"member_id": member_ids[m], "topic": t} for m, t in self.contributions]}
        return {key: value for key, value in body.items() if value is not None}


@dataclass(frozen=True)
class ReflectionSpec:
    member: str
    network: str
    session_number: int
    kind: ReflectionKind
    text: str


def roles_of(network: DemoNetwork) -> dict[MembershipRole, list[str]]:
    return {role: members_of(network.key, role) for role in MembershipRole}


def plan_sessions(network: DemoNetwork, start: date, now: datetime) -> list[SessionSpec]:
    """The network's sessions from ``start`` at its cadence up to ``now``, and the next two."""
    specs: list[SessionSpec] = []
    while sum(1 for s in specs if s.fate == SessionStatus.PLANNED) < FUTURE_SESSIONS:
        first_to_come = not any(s.fate == SessionStatus.PLANNED for s in specs)
        specs.append(_session(network, len(specs) + 1, start, now, first_to_come))
    held = [i for i, s in enumerate(specs) if s.fate == SessionStatus.CLOSED]
    if held:  # the latest held session is not closed yet: its outputs may still come
        specs[held[-1]] = replace(specs[held[-1]], fate=SessionStatus.HELD)
    return specs


def _session(network: DemoNetwork, number: int, start: date, now: datetime, first_to_come: bool) -> SessionSpec:
    practice, members = PRACTICES[network.key], roles_of(network)
    rng = random.Random(f"{network.key}:{number}")
    day = start + timedelta(weeks=network.cadence_weeks * (number - 1), days=rng.choice((-2, -1, 0, 0, 0, 1, 2)))
    starts = datetime.combine(day, time(practice.hour, rng.choice((0, 0, 30))), AMSTERDAM)
    ends = starts + timedelta(hours=rng.choice((1.5, 2, 2, 2.5)))
    fmt = practice.formats[(number - 1) % len(practice.formats)]
    mode = practice.modes[(number - 1) % len(practice.modes)]
    topic = practice.topics[(number - 1) % len(practice.topics)]
    staff = members[R.COORDINATOR] + members[R.FACILITATOR]
    participants = members[R.PARTICIPANT]
    contributions = [(members[R.FACILITATOR][(number - 1) % len(members[R.FACILITATOR])], topic)]
    if practice.participants_present and number % 2 == 1:
        contributions.append((participants[number % len(participants)], "Praktijkverhaal"))
    past = starts < now
    fate = SessionStatus.CLOSED if past else SessionStatus.PLANNED
    if past and number in practice.cancelled:
        fate = SessionStatus.CANCELLED
    spec = SessionSpec(
        network=network.key, number=number, title=f"{FORMAT_NAMES[fmt]} {number}: {topic}",
        format=fmt, mode=mode, starts_at=starts, ends_at=ends, fate=fate,
        location=practice.place if mode != M.ONLINE else None,
        meeting_url=f"https://meet.example.org/{network.key}-{number}" if mode != M.IN_PERSON else None,
        agenda=f"Welkom en kennismaking; {topic.lower()}; in gesprek in kleine groepen; afspraken voor de praktijk",
        contributions=tuple(contributions),
        statements=tuple(rng.sample(STATEMENTS, 3)) if fmt == F.WORLD_CAFE else (),
        cancel_reason=CANCEL_REASONS[number % len(CANCEL_REASONS)] if fate == SessionStatus.CANCELLED else None,
    )
    if number == practice.rescheduled and past:
        spec = replace(spec, moved_from=(starts - timedelta(weeks=1), ends - timedelta(weeks=1)))
    if fate == SessionStatus.CLOSED:
        present = [m for m in participants if rng.random() < 0.75]
        attendees = tuple(dict.fromkeys([*members[R.FACILITATOR], *rng.sample(staff, 1), *present]))
        spec = replace(spec, attendees=attendees,
                       outputs=_outputs(network, practice, number, topic, attendees, rng))
    if fate == SessionStatus.PLANNED:
        capacity, registrations = _registrations(network, practice, first_to_come, staff, participants, rng)
        spec = replace(spec, capacity=capacity, registrations=registrations)
    return spec


def _registrations(network: DemoNetwork, practice: Practice, first_to_come: bool, staff: list[str],
                   participants: list[str], rng: random.Random,
                   ) -> tuple[int | None, tuple[tuple[str, bool | None], ...]]:
    """(the session's capacity, its registrations): (member key, prepared) in order of arrival."""
    people = [*participants, *staff[1:]]
    if first_to_come and practice.capacity:  # more register than fit: the last ones wait
        return practice.capacity, tuple((m, None) for m in people[: practice.capacity + 2])
    chosen = rng.sample(people, min(len(people), rng.randint(3, 5)))
    if not network.requires_preparation:
        return None, tuple((m, None) for m in chosen)
    # The network asks for preparation; one registration comes without it (and is flagged, per its policy).
    return None, tuple((m, i > 0) for i, m in enumerate(chosen))


def _outputs(network: DemoNetwork, practice: Practice, number: int, topic: str, attendees: tuple[str, ...],
             rng: random.Random) -> tuple[OutputSpec, ...]:
    kinds = (K.LESSON, K.CONCLUSION, K.LEARNING_QUESTION, K.RESOURCE)
    count = 2 if number % 3 == 1 else 1
    themes = tuple(dict.fromkeys(w.strip(" :,?").lower() for w in (network.theme.split(":")[0], topic)))
    outputs = []
    for i in range(count):
        kind = kinds[(number + i) % len(kinds)]
        visibility = practice.visibilities[(number + i) % len(practice.visibilities)]
        authors = tuple(rng.sample(attendees, min(len(attendees), rng.choice((1, 2)))))
        title, body, url, resource_type = _content(kind, network.key, number, topic, rng)
        outputs.append(OutputSpec(kind, title, body, authors, themes, visibility, LICENCES[number % len(LICENCES)],
                                  url, resource_type, retract=(number == practice.retracted and i == 0)))
    return tuple(outputs)


def _content(kind: OutputKind, network: str, number: int, topic: str,
             rng: random.Random) -> tuple[str, str, str | None, ResourceType | None]:
    if kind == K.LESSON:
        return f"Les: {rng.choice(LESSONS)}", f"Opgehaald in de sessie over {topic.lower()}.", None, None
    if kind == K.CONCLUSION:
        return (f"Conclusie: {topic}", "Wat de groep deelt: het werkt als bewoners, professionals en beleid "
                                       "hetzelfde verhaal horen en samen de volgende stap kiezen.", None, None)
    if kind == K.LEARNING_QUESTION:
        return f"Leervraag: {rng.choice(QUESTIONS)}", "Uit de individuele reflecties na de sessie.", None, None
    resource_type = (ResourceType.KNOWLEDGE_CLIP, ResourceType.PUBLICATION, ResourceType.LINK)[number % 3]
    names = {ResourceType.KNOWLEDGE_CLIP: "Kennisclip", ResourceType.PUBLICATION: "Publicatie",
             ResourceType.LINK: "Handreiking"}
    return (f"{names[resource_type]}: {topic}", f"Materiaal bij de sessie over {topic.lower()}.",
            f"https://kennisbank.example.org/{network}/{number}", resource_type)


def plan_reflections(network: DemoNetwork, specs: Iterable[SessionSpec]) -> list[ReflectionSpec]:
    """A few members of the network reflect on the latest sessions they attended, in all four kinds."""
    if not PRACTICES[network.key].reflections:
        return []
    members = roles_of(network)
    held = [s for s in specs if s.fate in (SessionStatus.HELD, SessionStatus.CLOSED)]
    kinds = list(ReflectionKind)
    reflectors = (members[R.PARTICIPANT] + members[R.FACILITATOR])[:REFLECTORS_PER_NETWORK]
    found = []
    for i, member in enumerate(reflectors):
        attended = [s for s in held if member in s.attendees][-REFLECTIONS_PER_MEMBER:]
        for j, session in enumerate(attended):
            kind = kinds[(i * REFLECTIONS_PER_MEMBER + j) % len(kinds)]
            found.append(ReflectionSpec(member, network.key, session.number, kind, REFLECTION_TEXTS[kind][j % 2]))
    return found


FORMAT_NAMES = {
    F.KNOWLEDGE_CAFE: "Kenniscafé", F.WORLD_CAFE: "Wereldcafé", F.LEARNING_SESSION: "Leersessie",
    F.ACTION_LEARNING_SESSION: "Actieleersessie", F.FOCUS_GROUP: "Focusgroep", F.NARRATIVE_INTERVIEW: "Verhalensessie",
    F.INTERVISION: "Intervisie", F.WEBINAR: "Webinar", F.OTHER: "Bijeenkomst",
}


# --- the action-learning loop: every state a loop can be in, in each network that reflects --------------------------

LOOP_STATES = ("open", "brought", "experiment-yes", "experiment-asked", "experiment-no", "followed_up", "closed")


@dataclass(frozen=True)
class LoopSpec:
    """A participant's learning question and how far its loop has come. ``brought_to``: the session (number) it
    was brought to and the experiment came out of; ``follow_up_at``: the later session it was reported at."""

    member: str
    network: str
    state: str  # one of LOOP_STATES
    question: str
    urgency: str | None
    shared: bool
    brought_to: int | None = None
    mandate: str | None = None
    experiment: str | None = None
    follow_up_at: int | None = None
    what_happened: str | None = None
    lesson: str | None = None


LOOP_TEXTS = (
    ("Hoe bereik ik de bewoners die nooit naar onze activiteiten komen?", "Juist zij vereenzamen het snelst",
     "Drie bewoners thuis opzoeken met een buurvrouw die zij kennen", "Twee van de drie kwamen naar het kenniscafé",
     "Een bekend gezicht opent meer deuren dan een folder"),
    ("Hoe vraag ik door zonder dat het een verhoor wordt?", None,
     "In elk gesprek eerst vragen wat iemand zelf al probeerde", "Gesprekken duurden korter en gingen dieper",
     "Wie eerst naar eigen oplossingen vraagt, hoort meer"),
    ("Hoe krijg ik mijn team mee in werken vanuit de leefwereld?", "Mijn team haakt af bij nieuwe methodes",
     "Eén casus per week samen bespreken vanuit de leefwereld", "Het team vraagt er nu zelf om",
     "Klein beginnen met een echte casus werkt beter dan een training"),
)


def plan_loops(network: DemoNetwork, specs: Iterable[SessionSpec]) -> list[LoopSpec]:
    """Participants' loops in every state, on the network's latest held sessions (none without two of them)."""
    if not PRACTICES[network.key].reflections:
        return []
    held = [s.number for s in specs if s.fate in (SessionStatus.HELD, SessionStatus.CLOSED)]
    owners = roles_of(network)[R.PARTICIPANT]
    if len(held) < 2 or not owners:
        return []
    brought, later = held[-2], held[-1]
    found = []
    for i, state in enumerate(LOOP_STATES):
        question, urgency, experiment, happened, lesson = LOOP_TEXTS[i % len(LOOP_TEXTS)]
        spec = LoopSpec(owners[i % len(owners)], network.key, state, f"{question} ({i + 1})", urgency,
                        shared=i % 2 == 0)
        if state != "open":
            spec = replace(spec, brought_to=brought)
        if state.startswith("experiment") or state in ("followed_up", "closed"):
            mandate = state.removeprefix("experiment-") if state.startswith("experiment") else "yes"
            spec = replace(spec, mandate=mandate, experiment=experiment)
        if state in ("followed_up", "closed"):
            spec = replace(spec, follow_up_at=later, what_happened=happened)
        if state == "closed":
            spec = replace(spec, lesson=lesson)
        found.append(spec)
    return found
