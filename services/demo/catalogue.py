"""The demo federation's networks, members and memberships: who is who, as plain data.

A national community of practice (BeterOud-like), four regional werkplaatsen under it, and local and
neighbourhood networks under three of them; forty members with mixed perspectives, organisations and
consents. Each network has a coordinator and two facilitators from different perspectives, except the
Noord-Holland Noord werkplaats, whose health report shows the gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.common.vocabulary import MembershipRole, NetworkKind, NetworkLevel, Perspective, UnpreparedPolicy

P = Perspective
R = MembershipRole


@dataclass(frozen=True)
class DemoNetwork:
    """A network as the admin API creates it; ``key`` names it here, the networks service assigns its id.

    Its start date is ``months_of_history`` before the day the data is first loaded; its sessions follow from
    that date at its cadence (:mod:`services.demo.plan`).
    """

    key: str
    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    urgency: str | None
    host_organisation: str
    parent: str | None = None
    region: str | None = None
    cadence_weeks: int = 6
    months_of_history: float = 12
    requires_preparation: bool = False
    unprepared_policy: UnpreparedPolicy = UnpreparedPolicy.REFUSE

    def start_date(self, today: date) -> date:
        return today - timedelta(days=round(self.months_of_history * DAYS_PER_MONTH))

    def creation(self, parent_id: str | None, today: date | None = None) -> dict[str, Any]:
        body = {
            "name": self.name, "level": str(self.level), "kind": str(self.kind), "theme": self.theme,
            "urgency": self.urgency, "host_organisation": self.host_organisation, "region": self.region,
            "cadence_weeks": self.cadence_weeks, "start_date": self.start_date(today or date.today()).isoformat(),
            "parent_id": parent_id, "requires_preparation": self.requires_preparation or None,
            "unprepared_policy": str(self.unprepared_policy) if self.requires_preparation else None,
        }
        return {key: value for key, value in body.items() if value is not None}


DAYS_PER_MONTH = 30.44
N, K = NetworkLevel, NetworkKind

# Parents before children: a national community of practice, four regional werkplaatsen under it, and local
# and neighbourhood networks under three of them.
DEMO_NETWORKS: tuple[DemoNetwork, ...] = (
    DemoNetwork("beteroud", "BeterOud", N.NATIONAL, K.COMMUNITY_OF_PRACTICE,
                "Eenzaamheid en mantelzorg bij ouderen: samen werken aan een goede oude dag",
                "Gemeenten en zorgaanbieders zien de vraag naar mantelzorgondersteuning sneller groeien dan hun aanbod",
                "Movisie", months_of_history=20),
    DemoNetwork("werkplaats-utrecht", "Werkplaats Sociaal Domein Utrecht", N.REGIONAL, K.WERKPLAATS,
                "Bestaanszekerheid en armoede: wat werkt in de wijk?",
                "Meer huishoudens met geldzorgen, terwijl hulp te laat of niet wordt gevonden",
                "Hogeschool Utrecht", "beteroud", "Utrecht", months_of_history=13),
    DemoNetwork("werkplaats-twente", "Werkplaats Sociaal Domein Twente", N.REGIONAL, K.WERKPLAATS,
                "Participatie: meedoen naar vermogen, ook zonder betaald werk",
                "Wie buiten de arbeidsmarkt valt, raakt in Twente snel ook buiten beeld van de wijk",
                "Saxion", "beteroud", "Twente", cadence_weeks=4, months_of_history=12),
    DemoNetwork("werkplaats-rijnmond", "Werkplaats Sociaal Domein Rotterdam-Rijnmond", N.REGIONAL, K.WERKPLAATS,
                "Mantelzorg in een superdiverse stad",
                "Veel mantelzorgers in Rotterdam-Zuid zijn overbelast en kennen de ondersteuning niet",
                "Hogeschool Rotterdam", "beteroud", "Rotterdam-Rijnmond", months_of_history=12),
    DemoNetwork("werkplaats-nhn", "Werkplaats Sociaal Domein Noord-Holland Noord", N.REGIONAL, K.KNOWLEDGE_NETWORK,
                "Wonen en zorg: langer thuis in dorp en kern",
                "Ouderen in de kleine kernen blijven langer thuis wonen terwijl voorzieningen verdwijnen",
                "Hogeschool Inholland", "beteroud", "Noord-Holland Noord", months_of_history=11),
    DemoNetwork("buurtteam-overvecht", "Leerkring Buurtteam Overvecht", N.NEIGHBOURHOOD, K.LEARNING_CIRCLE,
                "Geldzorgen vroeg signaleren, samen met bewoners",
                "Bewoners en professionals in Overvecht willen eerder in gesprek over schulden",
                "Buurtteams Utrecht", "werkplaats-utrecht", "Utrecht", cadence_weeks=4, months_of_history=12),
    DemoNetwork("mantelzorg-utrecht-west", "Leerkring Mantelzorg Utrecht-West", N.LOCAL, K.LEARNING_CIRCLE,
                "Jonge mantelzorgers: zien, erkennen en ontlasten",
                "Scholen en wijkteams herkennen jonge mantelzorgers pas als het misgaat",
                "Steunpunt Mantelzorg Utrecht", "werkplaats-utrecht", "Utrecht", cadence_weeks=4,
                months_of_history=10),
    DemoNetwork("actieleren-enschede", "Actieleerkring Meedoen Enschede", N.LOCAL, K.COMMUNITY_OF_PRACTICE,
                "Meedoen via vrijwilligerswerk: wat werkt voor mensen met een afstand tot werk?",
                "Enschede wil dat iedereen meedoet, maar de huidige trajecten haken mensen af",
                "Alifa", "werkplaats-twente", "Twente", cadence_weeks=2, months_of_history=8,
                requires_preparation=True, unprepared_policy=UnpreparedPolicy.FLAG),
    DemoNetwork("mantelzorg-rotterdam-zuid", "Leernetwerk Mantelzorg Rotterdam-Zuid", N.LOCAL, K.KNOWLEDGE_NETWORK,
                "Mantelzorgers bereiken die geen hulp vragen",
                "Veel mantelzorgers noemen zichzelf geen mantelzorger en vinden de ondersteuning daarom niet",
                "MEE Rotterdam Rijnmond", "werkplaats-rijnmond", "Rotterdam-Rijnmond", months_of_history=12),
    DemoNetwork("buurtkring-hillesluis", "Buurtkring Hillesluis", N.NEIGHBOURHOOD, K.LEARNING_CIRCLE,
                "Ontmoeten in de buurt tegen eenzaamheid", None,
                "Wijkteam Feijenoord", "mantelzorg-rotterdam-zuid", "Rotterdam-Rijnmond", cadence_weeks=4,
                months_of_history=9),
)
NETWORK_KEYS = frozenset(network.key for network in DEMO_NETWORKS)

# Two instances side by side (`kring run-federation`): the region Twente runs a Kring of its own with its
# werkplaats and the action-learning circle under it; the national instance keeps the rest. BeterOud and the
# werkplaats Twente then link across the instances instead of through the hierarchy.
REGIONAL_PART = frozenset({"werkplaats-twente", "actieleren-enschede"})
DEMO_PARTS = {"all": NETWORK_KEYS, "national": NETWORK_KEYS - REGIONAL_PART, "regional": REGIONAL_PART}


@dataclass(frozen=True)
class DemoMember:
    key: str
    name: str
    email: str
    organisation: str
    perspectives: tuple[Perspective, ...]
    expertise: tuple[str, ...]
    findable_by_expertise: bool
    named_in_shared_outputs: bool

    def registration(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "organisation": self.organisation,
            "perspectives": [str(p) for p in self.perspectives],
            "expertise": list(self.expertise),
            "findable_by_expertise": self.findable_by_expertise,
            "named_in_shared_outputs": self.named_in_shared_outputs,
        }


def _m(key: str, name: str, email: str, organisation: str, perspectives: tuple[Perspective, ...],
       expertise: tuple[str, ...], findable: bool = True, named: bool = True) -> DemoMember:
    return DemoMember(key, name, email, organisation, perspectives, expertise, findable, named)


DEMO_MEMBERS: tuple[DemoMember, ...] = (
    # national: BeterOud
    _m("anouk", "Anouk de Vries", "anouk.devries@movisie.example", "Movisie",
       (P.RESEARCH,), ("eenzaamheid", "participatie", "ouderen")),
    _m("sanne", "Sanne Bakker", "sanne.bakker@vilans.example", "Vilans",
       (P.PRACTITIONER,), ("mantelzorg", "langdurige zorg")),
    _m("henk", "Henk Jansen", "henk.jansen@beteroud-panel.example", "Ouderenpanel BeterOud",
       (P.LIVED_EXPERIENCE, P.RESIDENT), ("eenzaamheid", "mantelzorg"), findable=False, named=False),
    _m("yvonne", "Yvonne Mulder", "yvonne.mulder@pharos.example", "Pharos",
       (P.RESEARCH,), ("gezondheidsvaardigheden", "laaggeletterdheid")),
    _m("corrie", "Corrie van Leeuwen", "corrie.vanleeuwen@kbo-pcob.example", "KBO-PCOB",
       (P.VOLUNTEER,), ("ouderen", "eenzaamheid"), findable=False),
    _m("wouter", "Wouter de Jong", "wouter.dejong@minvws.example", "Ministerie van VWS",
       (P.MUNICIPALITY_POLICY,), ("ouderenbeleid", "wonen en zorg")),
    # Utrecht
    _m("ruud", "Ruud Smit", "ruud.smit@humanitas.example", "Humanitas Utrecht",
       (P.VOLUNTEER,), ("eenzaamheid", "maatjesprojecten"), named=False),
    _m("fatima", "Fatima El Amrani", "fatima.elamrani@utrecht.example", "Gemeente Utrecht",
       (P.MUNICIPALITY_POLICY,), ("armoede", "schuldhulpverlening")),
    _m("joost", "Joost van Dijk", "joost.vandijk@hu.example", "Hogeschool Utrecht",
       (P.EDUCATION, P.RESEARCH), ("participatie", "sociale wijkteams")),
    _m("marieke", "Marieke Visser", "marieke.visser@sociaalwerknederland.example", "Sociaal Werk Nederland",
       (P.PRACTITIONER,), ("jongerenwerk", "participatie")),
    _m("kees", "Kees Bos", "kees.bos@clientenraad-utrecht.example", "Cliëntenraad Sociaal Domein Utrecht",
       (P.CLIENT,), ("armoede", "toegankelijkheid"), findable=False, named=False),
    _m("lotte", "Lotte Meijer", "lotte.meijer@buurtteams-utrecht.example", "Buurtteams Utrecht",
       (P.PRACTITIONER,), ("armoede", "opvoedondersteuning")),
    _m("ahmed", "Ahmed Yilmaz", "ahmed.yilmaz@bewonersplatform-overvecht.example", "Bewonersplatform Overvecht",
       (P.RESIDENT, P.VOLUNTEER), ("participatie", "buurtinitiatieven"), findable=False),
    _m("esther", "Esther de Boer", "esther.deboer@ervaringsdeskundigen.example",
       "Stichting Ervaringsdeskundigen Utrecht", (P.LIVED_EXPERIENCE,), ("armoede", "schulden"), named=False),
    _m("daan", "Daan Hendriks", "daan.hendriks@student.hu.example", "Hogeschool Utrecht",
       (P.EDUCATION,), ("mantelzorg",), findable=False, named=False),
    _m("mirjam", "Mirjam Verhoeven", "mirjam.verhoeven@mantelzorgutrecht.example", "Steunpunt Mantelzorg Utrecht",
       (P.PRACTITIONER,), ("mantelzorg", "jonge mantelzorgers")),
    _m("ilse", "Ilse Jacobs", "ilse.jacobs@hu.example", "Hogeschool Utrecht",
       (P.EDUCATION,), ("jonge mantelzorgers", "onderwijs")),
    _m("bas", "Bas Willems", "bas.willems@bewoners-utrecht-west.example", "Bewonersnetwerk Utrecht-West",
       (P.RESIDENT,), ("mantelzorg",), findable=False),
    # Twente
    _m("bart", "Bart Nijhuis", "bart.nijhuis@enschede.example", "Gemeente Enschede",
       (P.MUNICIPALITY_POLICY,), ("participatie", "arbeidsmarkt")),
    _m("ingrid", "Ingrid Oude Luttikhuis", "ingrid.oudeluttikhuis@saxion.example", "Saxion",
       (P.EDUCATION,), ("actieleren", "participatie")),
    _m("mehmet", "Mehmet Demir", "mehmet.demir@alifa.example", "Alifa",
       (P.PRACTITIONER,), ("vrijwilligerswerk", "participatie")),
    _m("gerrit", "Gerrit Kamphuis", "gerrit.kamphuis@wijkraad-enschede-oost.example", "Wijkraad Enschede-Oost",
       (P.RESIDENT,), ("buurtinitiatieven",), findable=False),
    _m("wilma", "Wilma ter Horst", "wilma.terhorst@ervaringswerk-twente.example", "Ervaringswerk Twente",
       (P.LIVED_EXPERIENCE,), ("participatie", "armoede"), findable=False, named=False),
    _m("thijs", "Thijs Brinkman", "thijs.brinkman@utwente.example", "Universiteit Twente",
       (P.RESEARCH,), ("evaluatie", "participatie")),
    _m("sara", "Sara Kok", "sara.kok@student.saxion.example", "Saxion",
       (P.EDUCATION,), ("vrijwilligerswerk",), findable=False, named=False),
    _m("jeroen", "Jeroen Leferink", "jeroen.leferink@present-enschede.example", "Stichting Present Enschede",
       (P.VOLUNTEER,), ("vrijwilligerswerk", "buurtinitiatieven")),
    # Rotterdam-Rijnmond
    _m("naima", "Naima Bouzid", "naima.bouzid@rotterdam.example", "Gemeente Rotterdam",
       (P.MUNICIPALITY_POLICY,), ("mantelzorg", "diversiteit")),
    _m("pieter", "Pieter van den Berg", "pieter.vandenberg@hr.example", "Hogeschool Rotterdam",
       (P.EDUCATION, P.RESEARCH), ("mantelzorg", "praktijkgericht onderzoek")),
    _m("desiree", "Desiree Martina", "desiree.martina@wijkteam-feijenoord.example", "Wijkteam Feijenoord",
       (P.PRACTITIONER,), ("mantelzorg", "eenzaamheid")),
    _m("femke", "Femke Dekker", "femke.dekker@mee-rotterdam.example", "MEE Rotterdam Rijnmond",
       (P.PRACTITIONER,), ("mantelzorg", "licht verstandelijke beperking")),
    _m("hanneke", "Hanneke Vos", "hanneke.vos@mantelzorg-rotterdam.example", "Mantelzorg Rotterdam",
       (P.VOLUNTEER,), ("mantelzorg", "respijtzorg")),
    _m("kevin", "Kevin Hoek", "kevin.hoek@bewoners-hillesluis.example", "Bewonersorganisatie Hillesluis",
       (P.RESIDENT,), ("buurtinitiatieven", "eenzaamheid"), findable=False, named=False),
    _m("ricardo", "Ricardo Pinas", "ricardo.pinas@ervaringsdeskundigen-rotterdam.example",
       "Ervaringsdeskundigen Rotterdam", (P.LIVED_EXPERIENCE,), ("armoede", "mantelzorg"), named=False),
    _m("emre", "Emre Kaya", "emre.kaya@eur.example", "Erasmus Universiteit Rotterdam",
       (P.RESEARCH,), ("mantelzorg", "diversiteit")),
    _m("linda", "Linda Groen", "linda.groen@clientenraad-rotterdam.example", "Cliëntenraad Rotterdam",
       (P.CLIENT,), ("toegankelijkheid",), findable=False, named=False),
    # Noord-Holland Noord
    _m("marco", "Marco Schouten", "marco.schouten@alkmaar.example", "Gemeente Alkmaar",
       (P.MUNICIPALITY_POLICY,), ("wonen en zorg", "ouderenbeleid")),
    _m("petra", "Petra Zwart", "petra.zwart@ggdhn.example", "GGD Hollands Noorden",
       (P.PRACTITIONER,), ("wonen en zorg", "valpreventie")),
    _m("rob", "Rob Koster", "rob.koster@woonwaard.example", "Woonwaard",
       (P.PRACTITIONER,), ("wonen en zorg", "woningaanpassing")),
    _m("annelies", "Annelies de Graaf", "annelies.degraaf@hoorn.example", "Gemeente Hoorn",
       (P.MUNICIPALITY_POLICY,), ("wonen en zorg",)),
    _m("jan", "Jan Schipper", "jan.schipper@omring.example", "Omring",
       (P.PRACTITIONER,), ("wijkverpleging", "wonen en zorg"), findable=False),
)

# (network key, member key, role): per network one coordinator and two facilitators from different
# perspectives (step five of the nine steps of a community of practice), the rest participants. The
# Noord-Holland Noord werkplaats has one facilitator and two perspectives, so its health report shows the gap.
_STAFF_AND_PARTICIPANTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "beteroud": ("anouk", ("sanne", "henk"),
                 ("yvonne", "ruud", "marieke", "corrie", "wouter", "femke", "ingrid", "emre", "mirjam")),
    "werkplaats-utrecht": ("fatima", ("joost", "marieke"), ("kees", "lotte", "daan", "esther", "mirjam", "ilse")),
    "werkplaats-twente": ("bart", ("ingrid", "mehmet"), ("thijs", "gerrit", "wilma", "jeroen", "sara")),
    "werkplaats-rijnmond": ("naima", ("pieter", "desiree"), ("emre", "femke", "ricardo", "linda", "hanneke")),
    "werkplaats-nhn": ("marco", ("petra",), ("rob", "annelies", "jan")),
    "buurtteam-overvecht": ("lotte", ("ahmed", "esther"), ("ruud", "daan", "fatima", "kees")),
    "mantelzorg-utrecht-west": ("mirjam", ("ilse", "bas"), ("daan", "henk", "lotte", "marieke")),
    "actieleren-enschede": ("mehmet", ("gerrit", "thijs"), ("sara", "jeroen", "wilma", "ingrid")),
    "mantelzorg-rotterdam-zuid": ("desiree", ("femke", "hanneke"), ("kevin", "ricardo", "linda", "emre")),
    "buurtkring-hillesluis": ("femke", ("kevin", "ricardo"), ("hanneke", "linda", "desiree")),
}
DEMO_MEMBERSHIPS: tuple[tuple[str, str, MembershipRole], ...] = tuple(
    (network, key, role)
    for network, (coordinator, facilitators, participants) in _STAFF_AND_PARTICIPANTS.items()
    for role, keys in ((R.COORDINATOR, (coordinator,)), (R.FACILITATOR, facilitators), (R.PARTICIPANT, participants))
    for key in keys
)


def members_of(network_key: str, *roles: MembershipRole) -> list[str]:
    """The demo members of a network in the given roles (all roles if none), staff first."""
    return [key for net, key, role in DEMO_MEMBERSHIPS if net == network_key and (not roles or role in roles)]


# The member who gets an example network-scoped (non-operator) token.
EXAMPLE_TOKEN_HOLDER = "anouk"  # noqa: S105 - a member key, not a secret
EXAMPLE_TOKEN_LABEL = "demo: coordinator of beteroud"  # noqa: S105 - a label




@dataclass(frozen=True)
class DemoQuestion:
    """A question a member asked a findable expert of their network through Kring, and the expert's answer, with
    the contact details the expert chose to share (decision 0010)."""

    network: str
    asker: str
    expert: str
    tag: str
    question: str
    answer: str
    contact_note: str | None
    share_name: bool = False


DEMO_QUESTIONS: tuple[DemoQuestion, ...] = (
    DemoQuestion("mantelzorg-utrecht-west", "bas", "mirjam", "jonge mantelzorgers",
                 "Mijn buurjongen van vijftien zorgt voor zijn moeder. Hoe spreek ik hem aan zonder dat hij "
                 "zich betutteld voelt?",
                 "Begin bij wat hij goed doet, niet bij wat zwaar is. Steunpunt Mantelzorg heeft een "
                 "jongerengroep op woensdagmiddag; hij kan eerst eens komen kijken met een vriend.",
                 "Bel of app gerust: 030 000 0000 (dinsdag en donderdag)", share_name=True),
)


def demo_member(key: str) -> DemoMember:
    return next(member for member in DEMO_MEMBERS if member.key == key)


def demo_network(key: str) -> DemoNetwork:
    return next(network for network in DEMO_NETWORKS if network.key == key)
