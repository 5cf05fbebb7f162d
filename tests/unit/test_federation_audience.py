"""Who receives an output, decided when it is shared: `network` never leaves, `linked` reaches direct
neighbours whose policy admits it, `federation` and `public` reach everything reachable hop by admitting hop;
a theme filter admits an output carrying one of its themes; blocked and archived networks neither receive nor
pass anything on."""

from __future__ import annotations

import pytest

from services.common.vocabulary import Visibility
from services.federation.domain.audience import DEFAULT_POLICY, Hop, Policy, Shareable, audience

V = Visibility
ALL = DEFAULT_POLICY


def both_ways(a: str, b: str, a_to_b: Policy = ALL, b_to_a: Policy = ALL) -> list[Hop]:
    return [Hop(a, b, a_to_b), Hop(b, a, b_to_a)]


def reach(origin: str, visibility: Visibility, hops: list[Hop], *, themes: tuple[str, ...] = (),
          blocked: set[str] | None = None, closed: set[str] | None = None) -> set[str]:
    return audience(Shareable(origin, visibility, themes), hops, blocked=blocked or set(), closed=closed or set())


# a - b - c - d, and e linked to b
CHAIN = both_ways("a", "b") + both_ways("b", "c") + both_ways("c", "d") + both_ways("b", "e")


def test_a_network_only_output_reaches_nobody_even_over_links_that_admit_everything() -> None:
    assert reach("a", V.NETWORK, CHAIN) == set()


def test_a_linked_output_reaches_only_the_direct_neighbours() -> None:
    assert reach("b", V.LINKED, CHAIN) == {"a", "c", "e"}
    assert reach("a", V.LINKED, CHAIN) == {"b"}


@pytest.mark.parametrize("visibility", [V.FEDERATION, V.PUBLIC])
def test_a_federation_or_public_output_reaches_every_network_reachable_through_active_links(
        visibility: Visibility) -> None:
    assert reach("a", visibility, CHAIN) == {"b", "c", "d", "e"}


def test_a_linked_output_follows_the_policy_from_the_origin_to_the_neighbour_not_the_reverse() -> None:
    hops = both_ways("a", "b", a_to_b=Policy(frozenset({V.FEDERATION})), b_to_a=ALL)
    assert reach("a", V.LINKED, hops) == set()
    assert reach("b", V.LINKED, hops) == {"a"}


def test_every_hop_must_admit_a_federation_output() -> None:
    only_linked = Policy(frozenset({V.LINKED}))
    hops = both_ways("a", "b") + both_ways("b", "c", a_to_b=only_linked) + both_ways("c", "d")
    assert reach("a", V.FEDERATION, hops) == {"b"}


def test_a_hop_that_refuses_is_bypassed_by_another_path_that_admits() -> None:
    refuses = Policy(frozenset())
    hops = both_ways("a", "b", a_to_b=refuses) + both_ways("a", "c") + both_ways("c", "b")
    assert reach("a", V.FEDERATION, hops) == {"b", "c"}


def test_the_origin_is_never_in_its_own_audience_even_around_a_cycle() -> None:
    cycle = both_ways("a", "b") + both_ways("b", "c") + both_ways("c", "a")
    assert "a" not in reach("a", V.FEDERATION, cycle)
    assert "a" not in reach("a", V.LINKED, cycle)


def test_a_theme_filter_admits_an_output_carrying_one_of_its_themes_whatever_the_case() -> None:
    wonen = Policy(frozenset({V.LINKED, V.FEDERATION}), frozenset({"wonen", "zorg"}))
    hops = both_ways("a", "b", a_to_b=wonen)
    assert reach("a", V.LINKED, hops, themes=("Wonen", "jeugd")) == {"b"}
    assert reach("a", V.LINKED, hops, themes=("jeugd",)) == set()


def test_an_output_without_themes_does_not_pass_a_theme_filter() -> None:
    hops = both_ways("a", "b", a_to_b=Policy(frozenset({V.LINKED}), frozenset({"wonen"})))
    assert reach("a", V.LINKED, hops) == set()


def test_an_empty_theme_filter_admits_nothing_while_no_filter_admits_every_theme() -> None:
    assert not Policy(frozenset({V.LINKED}), frozenset()).admits(V.LINKED, ["wonen"])
    assert Policy(frozenset({V.LINKED}), None).admits(V.LINKED, [])


def test_a_policy_admits_only_the_visibilities_it_lists() -> None:
    assert Policy(frozenset({V.PUBLIC})).admits(V.PUBLIC, [])
    assert not Policy(frozenset({V.PUBLIC})).admits(V.FEDERATION, [])


def test_the_default_policy_lets_every_shareable_visibility_flow() -> None:
    assert DEFAULT_POLICY.visibilities == {V.LINKED, V.FEDERATION, V.PUBLIC}
    assert DEFAULT_POLICY.themes is None


def test_a_blocked_origin_shares_with_nobody() -> None:
    assert reach("a", V.PUBLIC, CHAIN, blocked={"a"}) == set()


def test_a_blocked_network_neither_receives_nor_passes_on() -> None:
    assert reach("a", V.FEDERATION, CHAIN, blocked={"c"}) == {"b", "e"}
    assert reach("b", V.LINKED, CHAIN, blocked={"c"}) == {"a", "e"}


def test_an_archived_network_neither_receives_nor_passes_on() -> None:
    assert reach("a", V.FEDERATION, CHAIN, closed={"b"}) == set()
    assert reach("c", V.FEDERATION, CHAIN, closed={"b"}) == {"d"}


def test_an_archived_origin_shares_with_nobody() -> None:
    assert reach("b", V.FEDERATION, CHAIN, closed={"b"}) == set()
