"""A small, believable demo data set, loaded only through the admin API (``kring demo-data``, ``make run``).

Loading is idempotent: a network whose name exists is reused, a member whose email is already registered
(409) is looked up instead of created, and memberships are set with PUT. Everything here goes over HTTP,
exactly as an administrator would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from services.common.vocabulary import MembershipRole, NetworkKind, NetworkLevel, Perspective

P = Perspective
R = MembershipRole


@dataclass(frozen=True)
class DemoNetwork:
    """A network as the admin API creates it; ``key`` names it here, the networks service assigns its id."""

    key: str
    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    urgency: str
    host_organisation: str
    parent: str | None = None
    region: str | None = None
    cadence_weeks: int = 6
    start_date: str = "2025-01-13"

    def creation(self, parent_id: str | None) -> dict:
        body = {
            "name": self.name, "level": str(self.level), "kind": str(self.kind), "theme": self.theme,
            "urgency": self.urgency, "host_organisation": self.host_organisation, "region": self.region,
            "cadence_weeks": self.cadence_weeks, "start_date": self.start_date, "parent_id": parent_id,
        }
        return {key: value for key, value in body.items() if value is not None}


# Parents before children.
DEMO_NETWORKS: tuple[DemoNetwork, ...] = (
    DemoNetwork("beteroud", "BeterOud", NetworkLevel.NATIONAL, NetworkKind.COMMUNITY_OF_PRACTICE,
                "Eenzaamheid en mantelzorg bij ouderen: samen werken aan een goede oude dag",
                "Gemeenten en zorgaanbieders zien de vraag naar mantelzorgondersteuning sneller groeien dan hun aanbod",
                "Movisie", start_date="2024-09-02"),
    DemoNetwork("werkplaats-utrecht", "Werkplaats Sociaal Domein Utrecht", NetworkLevel.REGIONAL,
                NetworkKind.WERKPLAATS, "Bestaanszekerheid en armoede: wat werkt in de wijk?",
                "Meer huishoudens met geldzorgen, terwijl hulp te laat of niet wordt gevonden",
                "Hogeschool Utrecht", region="Utrecht"),
    DemoNetwork("buurtteam-overvecht", "Leerkring Buurtteam Overvecht", NetworkLevel.NEIGHBOURHOOD,
                NetworkKind.LEARNING_CIRCLE, "Geldzorgen vroeg signaleren, samen met bewoners",
                "Bewoners en professionals in Overvecht willen eerder in gesprek over schulden",
                "Buurtteams Utrecht", parent="werkplaats-utrecht", region="Utrecht", cadence_weeks=4,
                start_date="2025-02-03"),
)
NETWORK_KEYS = frozenset(network.key for network in DEMO_NETWORKS)


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

    def registration(self) -> dict:
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
    _m("anouk", "Anouk de Vries", "anouk.devries@movisie.example", "Movisie",
       (P.RESEARCH,), ("eenzaamheid", "participatie", "ouderen")),
    _m("sanne", "Sanne Bakker", "sanne.bakker@vilans.example", "Vilans",
       (P.PRACTITIONER,), ("mantelzorg", "langdurige zorg")),
    _m("henk", "Henk Jansen", "henk.jansen@beteroud-panel.example", "Ouderenpanel BeterOud",
       (P.LIVED_EXPERIENCE, P.RESIDENT), ("eenzaamheid", "mantelzorg"), findable=False, named=False),
    _m("yvonne", "Yvonne Mulder", "yvonne.mulder@pharos.example", "Pharos",
       (P.RESEARCH,), ("gezondheidsvaardigheden", "laaggeletterdheid")),
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
)

# (network key, member key, role): per network one coordinator and two facilitators from different
# perspectives (step five of the nine steps of a community of practice), the rest participants.
DEMO_MEMBERSHIPS: tuple[tuple[str, str, MembershipRole], ...] = (
    ("beteroud", "anouk", R.COORDINATOR),
    ("beteroud", "sanne", R.FACILITATOR),
    ("beteroud", "henk", R.FACILITATOR),
    ("beteroud", "yvonne", R.PARTICIPANT),
    ("beteroud", "ruud", R.PARTICIPANT),
    ("beteroud", "marieke", R.PARTICIPANT),
    ("werkplaats-utrecht", "fatima", R.COORDINATOR),
    ("werkplaats-utrecht", "joost", R.FACILITATOR),
    ("werkplaats-utrecht", "marieke", R.FACILITATOR),
    ("werkplaats-utrecht", "kees", R.PARTICIPANT),
    ("werkplaats-utrecht", "lotte", R.PARTICIPANT),
    ("werkplaats-utrecht", "daan", R.PARTICIPANT),
    ("buurtteam-overvecht", "lotte", R.COORDINATOR),
    ("buurtteam-overvecht", "ahmed", R.FACILITATOR),
    ("buurtteam-overvecht", "esther", R.FACILITATOR),
    ("buurtteam-overvecht", "ruud", R.PARTICIPANT),
    ("buurtteam-overvecht", "daan", R.PARTICIPANT),
    ("buurtteam-overvecht", "fatima", R.PARTICIPANT),
)

# The member who gets an example network-scoped (non-operator) token.
EXAMPLE_TOKEN_HOLDER = "anouk"  # noqa: S105 - a member key, not a secret
EXAMPLE_TOKEN_LABEL = "demo: coordinator of beteroud"  # noqa: S105 - a label


class DemoDataError(RuntimeError):
    """The admin API answered something the demo loader cannot work with."""


@dataclass
class DemoResult:
    network_ids: dict[str, str] = field(default_factory=dict)
    networks_created: int = 0
    member_ids: dict[str, str] = field(default_factory=dict)
    created: int = 0
    existing: int = 0
    memberships: int = 0
    token_holder: str = ""
    token: str | None = None
    token_reused: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.network_ids)} networks ({self.networks_created} new), {self.created + self.existing} "
                f"members ({self.created} new), {self.memberships} memberships")


def demo_member(key: str) -> DemoMember:
    return next(member for member in DEMO_MEMBERS if member.key == key)


def admin_client(base_url: str, token: str, timeout: float = 15.0) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                        timeout=timeout)


def load_demo_data(client: httpx.Client, known_token: str | None = None) -> DemoResult:
    """Create the demo networks and members, set their memberships and make sure an example token exists.

    ``known_token`` is the example token from an earlier run; it is kept when the API still accepts it,
    so restarts do not pile up tokens.
    """
    result = DemoResult()
    _load_networks(client, result)
    _load_members(client, result)
    for network_key, key, role in DEMO_MEMBERSHIPS:
        if network_key in result.network_ids:
            path = f"/v1/networks/{result.network_ids[network_key]}/members/{result.member_ids[key]}"
            _expect(client.put(path, json={"role": str(role)}), "set membership", 200, 201, 204)
            result.memberships += 1
    _example_token(client, result, known_token)
    return result


def _load_networks(client: httpx.Client, result: DemoResult) -> None:
    if not _admin_api_creates_networks(client):
        result.notes.append("this admin API cannot create networks (no POST /v1/networks), so no memberships")
        return
    for network in DEMO_NETWORKS:  # parents first
        parent_id = result.network_ids[network.parent] if network.parent else None
        result.network_ids[network.key], created = _ensure_network(client, network, parent_id)
        result.networks_created += created


def _load_members(client: httpx.Client, result: DemoResult) -> None:
    for member in DEMO_MEMBERS:
        result.member_ids[member.key], created = _ensure_member(client, member)
        if created:
            result.created += 1
        else:
            result.existing += 1


def _example_token(client: httpx.Client, result: DemoResult, known_token: str | None) -> None:
    holder = demo_member(EXAMPLE_TOKEN_HOLDER)
    coordinates = [n.name for n in DEMO_NETWORKS if n.key in result.network_ids
                   and (n.key, holder.key, R.COORDINATOR) in DEMO_MEMBERSHIPS]
    result.token_holder = holder.name + (f", coordinator of {coordinates[0]}" if coordinates else "")
    if known_token and _token_works(client, known_token):
        result.token, result.token_reused = known_token, True
        return
    response = client.post(f"/v1/members/{result.member_ids[holder.key]}/tokens", json={"label": EXAMPLE_TOKEN_LABEL})
    result.token = _expect(response, "issue token", 200, 201)["token"]


def _admin_api_creates_networks(client: httpx.Client) -> bool:
    paths = _expect(client.get("/openapi.json"), "read the OpenAPI document", 200).get("paths", {})
    return "post" in paths.get("/v1/networks", {})


def _ensure_network(client: httpx.Client, network: DemoNetwork, parent_id: str | None) -> tuple[str, bool]:
    for item in _all_pages(client, "/v1/networks", {}):
        if item.get("name") == network.name:
            return item["id"], False
    response = client.post("/v1/networks", json=network.creation(parent_id))
    return _expect(response, f"create network {network.name}", 201, 200)["id"], True


def _ensure_member(client: httpx.Client, member: DemoMember) -> tuple[str, bool]:
    response = client.post("/v1/members", json=member.registration())
    if response.status_code == 409:  # loaded by an earlier run
        return _find_member_id(client, member), False
    return _expect(response, f"register {member.email}", 201, 200)["id"], True


def _find_member_id(client: httpx.Client, member: DemoMember) -> str:
    for item in _all_pages(client, "/v1/members", {"organisation": member.organisation}):
        if str(item.get("email", "")).lower() == member.email.lower():
            return item["id"]
    raise DemoDataError(f"{member.email} is registered (409) but GET /v1/members does not list it")


def _all_pages(client: httpx.Client, path: str, query: dict[str, str]) -> Iterator[dict]:
    params: dict[str, str | int] = {**query, "page_size": 100}
    while True:
        page = _expect(client.get(path, params=params), f"list {path}", 200)
        yield from page["items"]
        if not page.get("next_page_token"):
            return
        params["page_token"] = page["next_page_token"]


def _token_works(client: httpx.Client, token: str) -> bool:
    response = client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def _expect(response: httpx.Response, what: str, *statuses: int) -> dict:
    if response.status_code not in statuses:
        raise DemoDataError(f"{what}: {response.request.method} {response.request.url.path} answered "
                            f"{response.status_code}: {response.text[:500]}")
    return response.json() if response.content else {}
