"""Bearer tokens to principals: the operator's token, members' hashed tokens, and the short cache."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from services.common.caller import Caller
from services.common.errors import PermissionDenied, Unauthenticated, Unavailable
from services.gateway.admin.auth import MAX_TOKEN_LENGTH, Authenticator, token_hash
from services.gateway.shared.edge_cache import MISSING

OPERATOR_TOKEN = "operator-secret"


class FakeMembersAuth:
    """The members service's ``authenticate``: knows tokens by their SHA-256 only."""

    def __init__(self, tokens: dict[str, dict]):
        self.by_hash = {hashlib.sha256(t.encode()).hexdigest(): p for t, p in tokens.items()}
        self.asked: list[str] = []
        self.down = False

    def call(self, service, method, *args, timeout=None):
        assert (service, method) == ("members", "authenticate")
        self.asked.append(args[0])
        if self.down:
            raise Unavailable("the members service is not running")
        if args[0] not in self.by_hash:
            raise Unauthenticated("unknown token")
        return self.by_hash[args[0]]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


ANN = {"member_id": "ann", "administers": ["wijk-noord"], "facilitates": []}


def make(tokens=None, **kwargs):
    members = FakeMembersAuth(tokens if tokens is not None else {"ann-token": ANN})
    clock = Clock()
    return Authenticator(OPERATOR_TOKEN, members, clock=clock, **kwargs), members, clock


def test_the_operator_token_from_configuration_gives_the_operator_without_asking_members():
    auth, members, _ = make()
    assert auth.authenticate(OPERATOR_TOKEN) == Caller.the_operator()
    assert members.asked == []


def test_a_members_token_is_sent_to_the_members_service_only_as_its_sha256():
    auth, members, _ = make()
    principal = auth.authenticate("ann-token")
    assert principal == Caller.member("ann", administers={"wijk-noord"})
    assert members.asked == [hashlib.sha256(b"ann-token").hexdigest()] == [token_hash("ann-token")]


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_token_is_unauthenticated(token):
    auth, _, _ = make()
    with pytest.raises(Unauthenticated):
        auth.authenticate(token)


def test_an_unknown_token_is_unauthenticated():
    auth, _, _ = make()
    with pytest.raises(Unauthenticated):
        auth.authenticate("guess")


def test_an_overlong_token_is_refused_without_asking_members():
    auth, members, _ = make()
    with pytest.raises(Unauthenticated):
        auth.authenticate("x" * (MAX_TOKEN_LENGTH + 1))
    assert members.asked == []


def test_answers_are_cached_for_the_ttl_then_asked_again():
    auth, members, clock = make(ttl=10.0)
    auth.authenticate("ann-token")
    clock.now += 9.9
    auth.authenticate("ann-token")
    assert len(members.asked) == 1
    clock.now += 0.2
    auth.authenticate("ann-token")
    assert len(members.asked) == 2


def test_rejected_tokens_are_cached_too_so_guessing_does_not_load_the_members_service():
    auth, members, _ = make()
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            auth.authenticate("guess")
    assert len(members.asked) == 1


def test_a_members_outage_is_unavailable_not_an_invalid_token_and_is_not_cached():
    auth, members, _ = make()
    members.down = True
    with pytest.raises(Unavailable):
        auth.authenticate("ann-token")
    members.down = False
    assert auth.authenticate("ann-token").member_id == "ann"


def test_forgetting_the_cache_makes_the_next_request_ask_again():
    auth, members, _ = make()
    auth.authenticate("ann-token")
    auth.forget_all()
    auth.authenticate("ann-token")
    assert len(members.asked) == 2


def test_the_cache_holds_at_most_max_entries_and_drops_the_least_recently_used():
    tokens = {f"t{i}": {"member_id": f"m{i}", "administers": [], "facilitates": []} for i in range(3)}
    auth, members, _ = make(tokens, max_entries=2)
    auth.authenticate("t0")
    auth.authenticate("t1")
    auth.authenticate("t0")  # t0 is now the most recently used
    auth.authenticate("t2")  # evicts t1
    members.asked.clear()
    auth.authenticate("t0")
    auth.authenticate("t1")
    assert members.asked == [token_hash("t1")]


def test_without_an_operator_token_configured_no_token_is_the_operator():
    members = FakeMembersAuth({})
    auth = Authenticator(None, members)
    with pytest.raises(Unauthenticated):
        auth.authenticate(OPERATOR_TOKEN)
    assert members.asked == [token_hash(OPERATOR_TOKEN)]


def test_while_the_change_feed_is_live_a_token_is_kept_past_the_short_ttl_and_dropped_by_its_members_event():
    live = [True]
    auth, members, clock = make(ttl=10.0, live=lambda: live[0])
    auth.authenticate("ann-token")
    clock.now += 60.0
    auth.authenticate("ann-token")
    assert len(members.asked) == 1  # no RPC on a hot token while events keep the cache fresh
    auth.cache.changed("member:ann")  # token.revoked, member.erased or membership.* for ann
    auth.authenticate("ann-token")
    assert len(members.asked) == 2


def test_when_the_change_feed_goes_away_tokens_fall_back_to_the_short_ttl():
    live = [True]
    auth, members, clock = make(ttl=10.0, live=lambda: live[0])
    auth.authenticate("ann-token")
    clock.now += 30.0
    live[0] = False
    auth.authenticate("ann-token")
    assert len(members.asked) == 2


def test_a_token_revoked_while_its_answer_was_on_the_way_is_not_cached():
    auth, members, _ = make(live=lambda: True)
    answer = members.call

    def answer_then_revoke(*args, **kwargs):
        result = answer(*args, **kwargs)
        auth.cache.changed("member:ann")  # the revocation's event arrives before the old answer is kept
        return result

    members.call = answer_then_revoke
    auth.authenticate("ann-token")
    members.call = answer
    auth.authenticate("ann-token")
    assert len(members.asked) == 2


# --- tokens that expire, and the sign-in broker's token --------------------------------------------------------

T0 = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


class WallClock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def expiring(seconds: float, operator: bool = False) -> dict:
    return {**ANN, "member_of": ["wijk-noord"], "token_id": "s-1",
            "expires_at": (T0 + timedelta(seconds=seconds)).isoformat(), "operator": operator}


def test_a_cached_token_is_refused_from_the_moment_it_expires_even_while_the_change_feed_keeps_it():
    wall = WallClock()
    auth, members, clock = make({"ann-token": expiring(60)}, live=lambda: True, wall_clock=wall)
    session = auth.session("ann-token")
    assert (session.token_id, session.expires_at) == ("s-1", T0 + timedelta(seconds=60))
    clock.now += 59.0
    wall.now += timedelta(seconds=59)
    assert auth.authenticate("ann-token").member_id == "ann"
    assert len(members.asked) == 1  # the cached answer served
    wall.now += timedelta(seconds=1)
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate("ann-token")


def test_an_expiring_token_is_not_kept_in_the_cache_past_its_expiry():
    auth, _, clock = make({"ann-token": expiring(30)}, live=lambda: True, wall_clock=WallClock())
    auth.authenticate("ann-token")
    assert len(auth.cache) == 1
    clock.now += 30.0
    assert auth.cache.get(token_hash("ann-token")) is MISSING


def test_an_already_expired_answer_is_refused():
    auth, _, _ = make({"ann-token": expiring(-1)}, wall_clock=WallClock())
    with pytest.raises(Unauthenticated):
        auth.authenticate("ann-token")


def test_an_operators_sign_in_is_an_operator_caller_that_keeps_its_member_id():
    auth, _, _ = make({"olga-token": expiring(60, operator=True)}, wall_clock=WallClock())
    caller = auth.authenticate("olga-token")
    assert (caller.operator, caller.kind, caller.member_id) == (True, "operator", "ann")


def test_the_broker_token_is_refused_as_a_principal_without_asking_members():
    members = FakeMembersAuth({})
    auth = Authenticator(OPERATOR_TOKEN, members, broker_token="broker-token")
    assert auth.is_broker("broker-token") and auth.sign_in_enabled
    assert not auth.is_broker(OPERATOR_TOKEN)
    with pytest.raises(PermissionDenied, match="sign-in"):
        auth.authenticate("broker-token")
    assert members.asked == []


def test_without_a_broker_token_configured_nothing_is_the_broker():
    auth = Authenticator(OPERATOR_TOKEN, FakeMembersAuth({}))
    assert not auth.sign_in_enabled
    assert not auth.is_broker("")
    assert not auth.is_broker("broker-token")
