"""Secrets are stored hashed and compared in constant time; requests are limited in size and in rate.

The stored side is checked on the running stack's PostgreSQL database: after tokens were issued, partner keys
registered and rotated, and all of them used, no table of any service (tokens, partners, outboxes...) and no
process log holds one of them in plaintext, and the token and key tables hold their SHA-256. The operator's
token is compared with ``hmac.compare_digest``, shown on the function itself.

The rate limits are checked on a second gateway process, started on the same broker (so with the same
services) with small limits: past its burst a partner key gets RESOURCE_EXHAUSTED with a RetryInfo, a member's
token a 429 with Retry-After, and a credential's neighbour is not held up by it (nor is the operator, who is not
limited).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import grpc
import httpx
import pytest
import sqlalchemy
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from pydantic import ValidationError

from services.api.kring.v1 import federation_pb2 as pb
from services.common.config import Settings
from services.common.errors import Unauthenticated
from services.gateway.admin import auth
from services.gateway.shared.rate_limit import Limit, TokenBuckets, TooManyCalls, limits_from_settings
from tests.e2e.gateway_process import OPERATOR_TOKEN as LIMITED_OPERATOR
from tests.e2e.gateway_process import running_gateway
from tests.security.secrets_scan import where_found
from tests.security.world import World
from tests.support.http import ok
from tests.support.partner_client import PartnerClient

MAX_BODY_BYTES = 1024 * 1024  # services.gateway.admin.middleware.MAX_BODY_BYTES


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def secrets_in_use(world: World) -> dict[str, str]:
    """Every credential the scenario holds, plus a rotated key (old and new), each used once."""
    rotated = world.partner()
    new_key = ok(world.operator.post(f"/v1/partners/{rotated['partner_id']}/rotate-key"), 201)["api_key"]
    used = {role: token for role, token in world.tokens.items() if token and role not in ("wrong-token", "operator")}
    used |= {"rotated-away": rotated["api_key"], "rotated-in": new_key}
    used |= {"signed-in": world.signed_in(world.member_id)["token"]}  # a sign-in's, shown once to the broker
    peer = world.peer_configuration()  # a key another instance issued: stored encrypted, for the relay
    ok(world.operator.post("/v1/peers", json=peer), 201)
    used |= {"peer-key": peer["api_key"]}
    for role in ("member", "coordinator", "other-facilitator"):
        with world.http(role) as client:
            assert client.get("/v1/whoami").status_code == 200
    with httpx.Client(base_url=world.stack.http, headers={"Authorization": f"Bearer {used['signed-in']}"}) as client:
        assert client.get("/v1/whoami").status_code == 200
    for key in (world.tokens["partner"], new_key):
        client = PartnerClient(world.stack.grpc, key)
        client.call("ListNetworks", pb.ListNetworksRequest())
        client.close()
    return used


# --- stored hashed ---------------------------------------------------------------------------------------------


def test_no_token_or_partner_key_is_stored_in_plaintext_anywhere(secrets_in_use, database_url):
    assert where_found(database_url, secrets_in_use.values()) == []


def test_the_token_and_partner_tables_hold_the_sha256_of_each(secrets_in_use, database_url, world):
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as conn:
        token_hashes = set(conn.execute(sqlalchemy.text("SELECT token_hash FROM members.access_tokens")).scalars())
        key_hashes = set(conn.execute(sqlalchemy.text("SELECT key_hash FROM federation.partners")).scalars())
    engine.dispose()
    for role in ("member", "coordinator", "other-facilitator", "signed-in"):
        assert sha256(secrets_in_use[role]) in token_hashes, role
    for name in ("partner", "other-partner", "rotated-in"):
        assert sha256(secrets_in_use[name]) in key_hashes, name
    assert sha256(secrets_in_use["rotated-away"]) not in key_hashes  # rotation replaced it


def test_peer_keys_are_stored_encrypted_with_the_federation_keys(secrets_in_use, database_url):
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as conn:
        stored = list(conn.execute(sqlalchemy.text("SELECT api_key FROM federation.peers")).scalars())
    engine.dispose()
    assert stored and all(value.startswith("fernet:") for value in stored)


def test_no_process_logged_a_token_or_key(secrets_in_use, world):
    log = (world.stack.data_dir.parent / "stack.log").read_text(errors="replace")
    leaked = sorted(name for name, secret in secrets_in_use.items() if secret in log)
    assert leaked == []


# --- compared in constant time --------------------------------------------------------------------------------


class NoMembers:
    def call(self, service, method, *args, timeout=None):
        raise Unauthenticated("invalid token")


def test_the_operator_token_is_compared_with_hmac_compare_digest_on_fixed_length_digests(monkeypatch):
    compared: list[tuple[bytes, bytes]] = []
    constant_time = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    authenticator = auth.Authenticator("the-operator-token", NoMembers())
    assert authenticator.authenticate("the-operator-token").operator
    with pytest.raises(Unauthenticated):
        authenticator.authenticate("the-operator-tokeN")
    with pytest.raises(Unauthenticated):
        authenticator.authenticate("x")
    assert len(compared) == 3
    # Digests of equal length whatever the token's: the comparison's time says nothing about the token either.
    assert {(len(a), len(b)) for a, b in compared} == {(32, 32)}


def test_member_tokens_and_partner_keys_leave_the_gateway_only_as_their_sha256():
    """The gateway looks tokens and keys up by hash: the members and federation services never see one."""
    asked: list[tuple] = []

    class Recorder:
        def call(self, service, method, *args, timeout=None):
            asked.append((service, method, *args))
            raise Unauthenticated("invalid token")

    from services.gateway.partner.auth import PartnerAuthenticator

    with pytest.raises(Unauthenticated):
        auth.Authenticator("operator", Recorder()).authenticate("krm_secret-token")
    with pytest.raises(Unauthenticated):
        PartnerAuthenticator(Recorder().call).authenticate("secret-partner-key")
    assert asked == [("members", "authenticate", sha256("krm_secret-token")),
                     ("federation", "authenticate_partner", sha256("secret-partner-key"))]


# --- request size ---------------------------------------------------------------------------------------------


def oversized_body() -> bytes:
    return b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked, no length"])
def test_a_body_over_1_mib_is_413_with_the_uniform_error_body(world, chunked):
    body = oversized_body()
    content = (body[i:i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    response = world.operator.post("/v1/networks", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": {"code": "payload_too_large", "violations": [],
                                         "message": f"request body is larger than {MAX_BODY_BYTES} bytes"}}


# --- rate ------------------------------------------------------------------------------------------------------

RATE, BURST = 2.0, 3


@pytest.fixture(scope="module")
def limited(tmp_path_factory, amqp_uri, world) -> Iterator:
    """A second gateway on the stack's broker, with a burst of 3 calls and 2 more per second per credential."""
    with running_gateway(tmp_path_factory.mktemp("limited-gateway"), amqp_uri,
                         KRING_PARTNER_RATE=str(RATE), KRING_PARTNER_BURST=str(BURST),
                         KRING_ADMIN_RATE=str(RATE), KRING_ADMIN_BURST=str(BURST)) as gateway:
        yield gateway


def until_refused(call, refused, attempts: int = 20) -> tuple[int, object]:
    """How many calls went through before the first refusal, and the refusal."""
    for made in range(attempts):
        answer = call()
        if refused(answer):
            return made, answer
    pytest.fail(f"{attempts} calls in a row went through", pytrace=False)


def test_a_token_past_its_burst_gets_429_with_retry_after_and_its_neighbour_does_not(limited, world):
    member = httpx.Client(base_url=limited.http_url, headers={"Authorization": f"Bearer {world.tokens['member']}"},
                          timeout=30)
    coordinator = httpx.Client(base_url=limited.http_url, timeout=30,
                               headers={"Authorization": f"Bearer {world.tokens['coordinator']}"})
    through, refusal = until_refused(lambda: member.get("/v1/whoami"), lambda r: r.status_code == 429)
    assert BURST <= through <= BURST + 2  # the burst, and what refilled while the gateway answered
    assert refusal.json()["error"]["code"] == "rate_limited"
    assert "per second" in refusal.json()["error"]["message"]
    assert 1 <= int(refusal.headers["Retry-After"]) <= 2
    assert coordinator.get("/v1/whoami").status_code == 200  # another token has its own bucket
    with httpx.Client(base_url=limited.http_url, headers={"Authorization": f"Bearer {LIMITED_OPERATOR}"}) as op:
        assert {op.get("/v1/whoami").status_code for _ in range(3 * BURST)} == {200}  # the operator: no limit
    assert limited_probe_is_free(limited)
    time.sleep(int(refusal.headers["Retry-After"]))
    assert member.get("/v1/whoami").status_code == 200  # earned back


def limited_probe_is_free(gateway) -> bool:
    """Probes and the OpenAPI document are outside /v1: never counted, even with a spent token."""
    return all(httpx.get(f"{gateway.http_url}{path}", timeout=10).status_code == 200
               for path in ("/healthz", "/openapi.json"))


def test_a_partner_key_past_its_burst_gets_resource_exhausted_with_retry_info(limited, world):
    partner = PartnerClient(limited.grpc_target, world.tokens["partner"])
    other = PartnerClient(limited.grpc_target, world.tokens["other-partner"])

    def list_networks():
        try:
            return partner.call("ListNetworks", pb.ListNetworksRequest(theme=world.tag))
        except grpc.RpcError as exc:
            return exc

    through, refusal = until_refused(list_networks, lambda a: isinstance(a, grpc.RpcError))
    assert BURST <= through <= BURST + 2
    assert refusal.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "per second" in refusal.details()
    retry = error_details_pb2.RetryInfo()
    status = rpc_status.from_call(refusal)
    assert any(detail.Unpack(retry) for detail in status.details)
    assert retry.retry_delay.seconds in (1, 2)
    assert other.call("ListNetworks", pb.ListNetworksRequest(theme=world.tag))  # its own bucket
    assert other.call("GetInstance", pb.GetInstanceRequest()).api_version == "kring.v1"
    partner.close()
    other.close()


# --- the bucket itself, on a clock the test turns ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_admits_its_burst_then_one_call_per_rate_interval():
    clock = Clock()
    buckets = TokenBuckets(Limit(rate=2, burst=3), clock=clock)
    for _ in range(3):
        buckets.take("key")
    with pytest.raises(TooManyCalls) as refused:
        buckets.take("key")
    assert refused.value.retry_after == 1 and refused.value.http_status == 429
    assert refused.value.grpc_status == "RESOURCE_EXHAUSTED"
    buckets.take("other key")  # each credential its own bucket
    clock.now += 0.5  # half a second at 2 per second earns one call
    buckets.take("key")
    with pytest.raises(TooManyCalls):
        buckets.take("key")
    clock.now += 60  # a long pause refills to the burst, not beyond
    for _ in range(3):
        buckets.take("key")
    with pytest.raises(TooManyCalls):
        buckets.take("key")


def test_a_rate_of_zero_turns_the_limit_off_and_bad_settings_name_the_variable(monkeypatch):
    buckets = TokenBuckets(Limit(rate=0, burst=0), clock=Clock())
    for _ in range(10_000):
        buckets.take("key")
    for name in ("KRING_PARTNER_RATE", "KRING_PARTNER_BURST", "KRING_ADMIN_RATE", "KRING_ADMIN_BURST"):
        monkeypatch.delenv(name, raising=False)
    assert limits_from_settings(Settings()) == (Limit(100, 200), Limit(100, 200))
    monkeypatch.setenv("KRING_PARTNER_RATE", "0")  # what the benchmarks set
    partner, admin = limits_from_settings(Settings())
    assert partner.enabled is False and admin.enabled is True
    for value, named in (("fast", "admin_rate"), ("-1", "admin_rate"), ("inf", "admin_rate")):
        monkeypatch.setenv("KRING_ADMIN_RATE", value)
        with pytest.raises(ValidationError, match=named):
            Settings()
    monkeypatch.setenv("KRING_ADMIN_RATE", "5")
    monkeypatch.setenv("KRING_ADMIN_BURST", "0.5")
    with pytest.raises(ValueError, match="KRING_ADMIN_BURST"):
        limits_from_settings(Settings())


def test_buckets_are_kept_for_a_bounded_number_of_credentials():
    buckets = TokenBuckets(Limit(rate=1, burst=1), max_tracked=10, clock=Clock())
    for i in range(1000):
        buckets.take(f"guess-{i}")
    assert len(buckets._buckets) == 10

