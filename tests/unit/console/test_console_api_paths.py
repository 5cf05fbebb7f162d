"""Ids from the console's URLs and forms reach the admin API as one quoted path segment each.

An id typed as ``..`` or holding ``/``, ``?`` or ``#`` must stay that id, not become another API path: the path
builder (``api_path``) quotes every value, and the pages build every path holding a value with it.
"""

from __future__ import annotations

import pytest

from services.console.api import ApiError, api_path
from tests.unit.console.fake_api import a_member_api, console, csrf_of, signed_in
from tests.unit.console.test_console_networks import NET, api_for, client_for

# --- the path builder ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "segment"), [
    ("..", "%2E%2E"),
    (".", "%2E"),
    ("a?b#c", "a%3Fb%23c"),
    ("een netwerk", "een%20netwerk"),
    ("café", "caf%C3%A9"),
    ("50%", "50%25"),
    ("...", "..."),  # not a dot segment: nothing resolves it away
    ("werkplaats-utrecht", "werkplaats-utrecht"),
    (3, "3"),
])
def test_each_value_becomes_exactly_one_quoted_segment(value: object, segment: str):
    assert api_path("/v1/networks/{}/members", value) == f"/v1/networks/{segment}/members"


def test_the_templates_fixed_parts_stay_as_written_and_values_fill_the_places_in_order():
    assert api_path("/v1/networks/{}/members/{}", "n-1", "m-2") == "/v1/networks/n-1/members/m-2"
    assert api_path("/v1/networks") == "/v1/networks"


@pytest.mark.parametrize(("template", "values"), [
    ("/v1/networks/{}", ()),
    ("/v1/networks/{}", ("n-1", "n-2")),
    ("/v1/networks", ("n-1",)),
    ("/v1/networks/{}/members/{}", ("n-1",)),
])
def test_a_template_whose_places_do_not_match_its_values_is_refused(template: str, values: tuple[str, ...]):
    with pytest.raises(ValueError, match="places"):
        api_path(template, *values)


def test_a_value_holding_a_slash_names_nothing_and_is_not_found_without_asking_the_api():
    """The API decodes %2F before routing, so quoting cannot keep such a value one segment; no id holds a "/"."""
    with pytest.raises(ApiError) as refused:
        api_path("/v1/networks/{}/members", "a/b")
    assert refused.value.status == 404


def test_an_empty_value_is_refused_rather_than_dropping_its_segment():
    with pytest.raises(ValueError, match="empty"):
        api_path("/v1/networks/{}", "")


# --- through the console ---------------------------------------------------------------------------------------


def asked(api, method: str = "GET") -> list[str]:
    """The paths the console asked the API for, as sent (still quoted), beyond signing in."""
    return [call.raw_path for call in api.calls if call.method == method
            and call.raw_path not in ("/v1/whoami", "/v1/members/m-1", "/v1/sign-in/tokens")]


@pytest.mark.parametrize(("typed", "sent"), [
    ("..%2Fsessions", "/v1/networks/%2E%2E"),  # the console's router reads it as /networks/../sessions
    ("a%2Fb", None),  # the console's router reads it as /networks/a/b: not one of its pages
    ("%2E%2E", "/v1/networks/%2E%2E"),
    ("a%3Fb%23c", "/v1/networks/a%3Fb%23c"),
    ("caf%C3%A9", "/v1/networks/caf%C3%A9"),
])
def test_a_network_id_typed_into_the_url_reaches_the_api_as_one_segment_and_draws_not_found(typed: str, sent: str):
    api = a_member_api(administers=(NET,))
    client = signed_in(console(api))
    answer = client.get(f"/networks/{typed}")
    assert answer.status_code == 404
    assert "Niet gevonden" in answer.text
    assert asked(api) == ([sent] if sent else [])


def test_a_member_id_with_a_slash_typed_into_a_form_is_refused_next_to_its_field_without_asking_the_api():
    api = api_for()
    api.on("GET", "/v1/members", (200, {"items": [], "next_page_token": None}))
    client = client_for(api)
    page = client.get(f"/networks/{NET}/members")
    assert page.status_code == 200, page.text
    answer = client.post(f"/networks/{NET}/members/add", data={"csrf": csrf_of(page.text), "role": "participant",
                                                               "member_id": "m-2/../../../sessions/s-1"})
    assert answer.status_code == 404
    assert 'id="e-member_id"' in answer.text  # the members page again, the refusal next to the field
    assert asked(api, "PUT") == []
