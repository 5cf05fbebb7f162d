"""Bearer tokens to principals: the operator's token, members' hashed tokens, and the short cache."""

import hashlib

import pytest

from services.common.caller import Caller
from services.common.errors import Unauthenticated, Unavailable
from services.gateway.admin.auth import MAX_TOKEN_LENGTH, Authenticator, token_hash

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
