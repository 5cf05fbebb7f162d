"""Partner API keys: read from `authorization: Bearer <key>` metadata, sent to the federation service only as
their SHA-256, answers (refusals too) cached briefly and boundedly, and forgotten when the admin API changes
the partner."""

import hashlib
from contextlib import nullcontext

import pytest

from services.common.errors import PermissionDenied, Unauthenticated, Unavailable
from services.gateway.partner.auth import MAX_KEY_LENGTH, Partner, PartnerAuthenticator, bearer_key
from tests.support.callers import OPERATOR_WIRE as OPERATOR
from tests.unit.federation_fakes import FakeFederation


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def federation():
    fake = FakeFederation()
    fake.add_partner("movisie", ["beteroud", "movisie-kennis"])
    fake.add_partner("gone", ["oud"], status="revoked")
    fake.add_partner("rogue", ["spam"], status="blocked")
    return fake


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def auth(federation, clock):
    return PartnerAuthenticator(federation.call, clock=clock)


def asked(federation) -> list[str]:
    """Every question put to the federation service about a key, refused ones included."""
    return [c[1] for c in federation.attempts if c[0] == "authenticate_partner"]


def test_a_key_is_sent_only_as_its_sha256_and_gives_the_partner_and_its_networks(auth, federation):
    partner = auth.authenticate("kpk_movisie")
    assert partner == Partner("movisie", "Movisie", frozenset({"beteroud", "movisie-kennis"}))
    assert asked(federation) == [hashlib.sha256(b"kpk_movisie").hexdigest()]


def test_no_key_is_unauthenticated_without_asking_anyone(auth, federation):
    for key in (None, ""):
        with pytest.raises(Unauthenticated):
            auth.authenticate(key)
    assert federation.calls == []


def test_a_key_longer_than_any_we_issue_is_refused_before_hashing(auth, federation):
    with pytest.raises(Unauthenticated):
        auth.authenticate("k" * (MAX_KEY_LENGTH + 1))
    assert federation.calls == []


def test_an_unknown_or_revoked_key_is_unauthenticated_and_a_blocked_partner_permission_denied(auth):
    for key in ("kpk_nobody", "kpk_gone"):
        with pytest.raises(Unauthenticated):
            auth.authenticate(key)
    with pytest.raises(PermissionDenied):
        auth.authenticate("kpk_rogue")


def test_answers_are_cached_for_ten_seconds(auth, federation, clock):
    auth.authenticate("kpk_movisie")
    clock.now += 9.9
    auth.authenticate("kpk_movisie")
    assert len(asked(federation)) == 1
    clock.now += 0.2
    auth.authenticate("kpk_movisie")
    assert len(asked(federation)) == 2


def test_refusals_are_cached_too_so_guessing_keys_costs_the_federation_service_little(auth, federation):
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            auth.authenticate("kpk_guess")
        with pytest.raises(PermissionDenied):
            auth.authenticate("kpk_rogue")
    assert len(asked(federation)) == 2


def test_an_outage_is_unavailable_and_not_remembered_as_a_refusal(auth, federation):
    federation.down = True
    with pytest.raises(Unavailable):
        auth.authenticate("kpk_movisie")
    federation.down = False
    assert auth.authenticate("kpk_movisie").partner_id == "movisie"


def test_the_cache_is_bounded_and_forgets_the_least_recently_used_key(federation, clock):
    auth = PartnerAuthenticator(federation.call, clock=clock, max_entries=2)
    for key in ("kpk_movisie", "kpk_a", "kpk_b"):
        with pytest.raises(Unauthenticated) if key != "kpk_movisie" else nullcontext():
            auth.authenticate(key)
    auth.authenticate("kpk_movisie")
    assert asked(federation).count(hashlib.sha256(b"kpk_movisie").hexdigest()) == 2


def test_forgetting_a_partner_makes_its_revoked_key_fail_at_once(auth, federation):
    auth.authenticate("kpk_movisie")
    federation.revoke_partner(OPERATOR, "movisie")
    assert auth.authenticate("kpk_movisie").partner_id == "movisie"  # still cached
    auth.forget_partner("movisie")
    with pytest.raises(Unauthenticated):
        auth.authenticate("kpk_movisie")


def test_the_timeout_given_reaches_the_rpc(auth, federation):
    auth.authenticate("kpk_movisie", timeout=0.25)
    assert federation.timeouts == [0.25]


@pytest.mark.parametrize(("metadata", "key"), [
    ((("authorization", "Bearer kpk_x"),), "kpk_x"),
    ((("Authorization", "bearer   kpk_x "),), "kpk_x"),
    ((("x-correlation-id", "c1"), ("authorization", b"Bearer kpk_x")), "kpk_x"),
    ((("x-correlation-id", "c1"),), None),
    ((), None),
    (None, None),
])
def test_the_key_is_read_from_bearer_authorization_metadata(metadata, key):
    assert bearer_key(metadata) == key


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "kpk_x"])
def test_authorization_metadata_that_is_not_a_bearer_key_is_unauthenticated(value):
    with pytest.raises(Unauthenticated):
        bearer_key((("authorization", value),))


def test_while_the_change_feed_is_live_a_key_costs_no_rpc_until_its_partner_event(federation, clock):
    auth = PartnerAuthenticator(federation.call, clock=clock, live=lambda: True)
    auth.authenticate("kpk_movisie")
    clock.now += 120.0
    auth.authenticate("kpk_movisie")
    assert len(asked(federation)) == 1
    federation.revoke_partner(OPERATOR, "movisie")
    auth.cache.changed("partner:movisie")  # the partner.revoked event, on every replica
    with pytest.raises(Unauthenticated):
        auth.authenticate("kpk_movisie")


def test_an_event_about_another_partner_keeps_this_partners_key(federation, clock):
    auth = PartnerAuthenticator(federation.call, clock=clock, live=lambda: True)
    auth.authenticate("kpk_movisie")
    auth.cache.changed("partner:gone", "network:beteroud")
    auth.authenticate("kpk_movisie")
    assert len(asked(federation)) == 1
