"""The edge cache: answers kept by request, dropped by the topics their events name, never overwritten by an
answer older than a change, and trusted only briefly while changes cannot arrive."""

from services.gateway.shared.changes import ChangeFeed, topics_of
from services.gateway.shared.edge_cache import MISSING, EdgeCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def cache(live=True, **kwargs):
    clock = Clock()
    state = {"live": live}
    return EdgeCache("test", live=lambda: state["live"], clock=clock, **kwargs), clock, state


def test_a_change_drops_every_answer_tagged_with_its_topic_and_only_those():
    edge, _, _ = cache()
    edge.put("a", 1, ["network:n1", "networks"], edge.ticket())
    edge.put("b", 2, ["network:n2", "networks"], edge.ticket())
    edge.put("c", 3, ["network:n2"], edge.ticket())
    edge.changed("network:n2")
    assert (edge.get("a"), edge.get("b"), edge.get("c")) == (1, MISSING, MISSING)
    edge.changed("networks")
    assert edge.get("a") is MISSING


def test_an_answer_fetched_across_a_change_of_its_topic_is_refused():
    edge, _, _ = cache()
    ticket = edge.ticket()
    edge.changed("partner:p")  # arrives while the service's (older) answer is on its way
    assert edge.put("k", "old answer", ["partner:p"], ticket) is False
    assert edge.get("k") is MISSING
    assert edge.put("k", "new answer", ["partner:p"], edge.ticket()) is True


def test_a_change_of_another_topic_does_not_refuse_an_answer():
    edge, _, _ = cache()
    ticket = edge.ticket()
    edge.changed("partner:other")
    assert edge.put("k", "answer", ["partner:p"], ticket) is True


def test_answers_live_long_while_the_feed_is_live_and_briefly_while_it_is_not():
    edge, clock, state = cache(max_age=300.0, fallback_ttl=10.0)
    edge.put("k", 1, ["t"], edge.ticket())
    clock.now += 200.0
    assert edge.get("k") == 1
    state["live"] = False
    assert edge.get("k") is MISSING
    edge.put("k", 1, ["t"], edge.ticket())
    clock.now += 9.0
    assert edge.get("k") == 1
    clock.now += 1.0
    assert edge.get("k") is MISSING


def test_even_a_live_feed_bounds_an_answers_age():
    edge, clock, _ = cache(max_age=300.0)
    edge.put("k", 1, ["t"], edge.ticket())
    clock.now += 300.0
    assert edge.get("k") is MISSING


def test_refusals_are_kept_briefly_even_while_the_feed_is_live():
    edge, clock, _ = cache(refusal_ttl=5.0)
    edge.put("guess", None, [], edge.ticket(), refusal=True)
    clock.now += 4.0
    assert edge.get("guess") is None
    clock.now += 1.0
    assert edge.get("guess") is MISSING


def test_when_changes_may_have_been_missed_everything_is_dropped_and_answers_in_flight_refused():
    edge, _, _ = cache()
    edge.put("a", 1, ["t1"], edge.ticket())
    ticket = edge.ticket()
    edge.changed_everything()
    assert edge.get("a") is MISSING
    assert edge.put("b", 2, ["t2"], ticket) is False


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    edge, _, _ = cache(max_entries=2)
    edge.put("a", 1, ["t"], edge.ticket())
    edge.put("b", 2, ["t"], edge.ticket())
    edge.get("a")
    edge.put("c", 3, ["t"], edge.ticket())
    assert (edge.get("a"), edge.get("b"), edge.get("c")) == (1, MISSING, 3)
    edge.changed("t")
    assert len(edge) == 0


def test_each_event_the_edge_learns_names_the_topics_of_what_it_changes():
    assert topics_of("token.revoked", {"member_id": "m1", "token_id": "t"}) == ["member:m1"]
    assert topics_of("membership.joined", {"member_id": "m1", "network_id": "n"}) == ["member:m1"]
    assert topics_of("member.erased", {"member_id": "m1"}) == ["member:m1"]
    assert topics_of("partner.blocked", {"partner_id": "p", "status": "blocked", "network_ids": []}) == ["partner:p"]
    assert topics_of("network.updated", {"network_id": "n"}) == ["network:n", "networks"]
    assert topics_of("network.blocked", {"network_id": "n"}) == ["network:n", "networks"]
    assert topics_of("network.created", {"network_id": "n"}) == ["networks"]
    assert topics_of("feed.appended", {"network_ids": ["a", "b"]}) == ["feed:a", "feed:b"]


def test_the_change_feed_passes_an_events_topics_to_every_cache_and_new_feed_entries_to_the_hub():
    first, _, _ = cache()
    second, _, _ = cache()
    first.put("k", 1, ["partner:p"], first.ticket())
    second.put("k", 1, ["feed:n"], second.ticket())
    woken: list[tuple[list[str], dict | None]] = []
    feed = ChangeFeed("amqp://unused", listeners=[first, second],
                      on_feed=lambda networks, entries: woken.append((networks, entries)))
    feed.handle({"type": "partner.revoked", "payload": {"partner_id": "p", "status": "revoked", "network_ids": []}})
    assert first.get("k") is MISSING and second.get("k") == 1
    feed.handle({"type": "feed.appended", "payload": {"network_ids": ["n"]}})
    assert second.get("k") is MISSING
    carried = {"after": 4, "next_cursor": 5, "entries": [], "outputs": {}}
    feed.handle({"type": "feed.appended", "payload": {"network_ids": ["n"], "entries": carried}})
    assert woken == [(["n"], None), (["n"], carried)]


def test_an_event_without_its_ids_clears_every_cache_rather_than_keeping_a_stale_answer():
    edge, _, _ = cache()
    edge.put("k", 1, ["partner:p"], edge.ticket())
    ChangeFeed("amqp://unused", listeners=[edge]).handle({"type": "partner.revoked", "payload": {}})
    assert edge.get("k") is MISSING
