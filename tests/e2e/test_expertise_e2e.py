"""Who knows what, and asking them, through the admin API with the stack running as separate processes."""

from __future__ import annotations

import uuid

import httpx


def made(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def person(operator: httpx.Client, name: str, network_id: str, **profile) -> tuple[str, str]:
    """A member of ``network_id`` and their token."""
    member = made(operator.post("/v1/members", json={
        "name": name, "email": f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.org", "perspectives": ["resident"],
        **profile}))
    made(operator.put(f"/v1/networks/{network_id}/members/{member['id']}", json={"role": "participant"}), 200)
    token = made(operator.post(f"/v1/members/{member['id']}/tokens", json={"label": "e2e"}))["token"]
    return member["id"], token


def network(operator: httpx.Client) -> str:
    return made(operator.post("/v1/networks", json={"name": f"Kring {uuid.uuid4().hex[:8]}", "level": "local",
                                                    "kind": "learning_circle", "theme": "eenzaamheid"}))["id"]


def rules(response: httpx.Response) -> set[tuple[str, str]]:
    return {(v["field"], v["rule"]) for v in response.json()["error"]["violations"]}


def test_a_member_finds_an_expert_asks_and_sees_the_contact_only_after_the_expert_shares_it(stack):
    with stack.client() as operator:
        noord, zuid = network(operator), network(operator)
        mo, mo_token = person(operator, "Mo", noord)
        anna, anna_token = person(operator, "Anna", noord, expertise=["mantelzorg"], findable_by_expertise=True)
        person(operator, "Bram", noord, expertise=["mantelzorg"])  # did not consent
        person(operator, "Cees", zuid, expertise=["mantelzorg"], findable_by_expertise=True)
        anna_email = operator.get(f"/v1/members/{anna}").json()["email"]
    with stack.client(mo_token) as as_mo, stack.client(anna_token) as as_anna:
        found = made(as_mo.get("/v1/expertise", params={"tag": "mantelzorg"}), 200)
        assert [e["member_id"] for e in found["items"]] == [anna]
        assert anna_email not in str(found)
        assert as_mo.get("/v1/expertise", params={"network_id": zuid}).status_code == 403

        asked = made(as_mo.post("/v1/questions", json={"expert_id": anna, "network_id": noord, "tag": "mantelzorg",
                                                       "question": "Hoe houd je het vol?"}))
        assert asked["expert_contact"] is None and anna_email not in str(asked)
        received = made(as_anna.get("/v1/questions", params={"role": "received"}), 200)["items"]
        assert [q["id"] for q in received] == [asked["id"]]
        assert received[0]["asker"] == {"name": None, "perspectives": ["resident"]} and mo not in str(received)

        made(as_anna.post(f"/v1/questions/{asked['id']}/answer",
                          json={"answer": "Vraag hulp op tijd.", "share_email": True}), 200)
        seen = made(as_mo.get(f"/v1/questions/{asked['id']}"), 200)
        assert seen["status"] == "answered" and seen["expert_contact"] == {"email": anna_email, "note": None}
        again = as_anna.post(f"/v1/questions/{asked['id']}/decline", json={})
        assert again.status_code == 409 and rules(again) == {("status", "open")}


def test_asking_is_refused_clearly(stack):
    with stack.client() as operator:
        noord = network(operator)
        _, mo_token = person(operator, "Mo", noord)
        bram, _ = person(operator, "Bram", noord, expertise=["mantelzorg"])
        _, kim_token = person(operator, "Kim", noord)
        anna, _ = person(operator, "Anna", noord, expertise=["mantelzorg"], findable_by_expertise=True)
    with stack.client(mo_token) as as_mo, stack.client(kim_token) as as_kim:
        not_findable = as_mo.post("/v1/questions", json={"expert_id": bram, "network_id": noord, "question": "?"})
        assert not_findable.status_code == 422 and rules(not_findable) == {("expert_id", "findable_expert")}
        empty = as_mo.post("/v1/questions", json={"expert_id": anna, "network_id": noord, "question": "  "})
        assert empty.status_code == 422 and ("question", "string_too_short") in rules(empty)
        no_role = as_mo.get("/v1/questions")
        assert no_role.status_code == 422 and ("role", "missing") in rules(no_role)
        asked = made(as_mo.post("/v1/questions", json={"expert_id": anna, "network_id": noord, "question": "Hoe?"}))
        assert as_kim.get(f"/v1/questions/{asked['id']}").status_code == 403
        assert as_kim.post(f"/v1/questions/{asked['id']}/answer", json={"answer": "Zo"}).status_code == 403
        assert as_mo.get(f"/v1/questions/{uuid.uuid4()}").status_code == 404


def test_the_demo_asks_and_answers_its_question_once_and_leaves_no_token_behind(stack):
    from services.demo.catalogue import DemoQuestion
    from services.demo.loader import DemoResult, _ask_and_answer

    with stack.client() as operator:
        noord = network(operator)
        bas, _ = person(operator, "Bas", noord)
        mirjam, _ = person(operator, "Mirjam", noord, expertise=["mantelzorg"], findable_by_expertise=True)
        result = DemoResult(network_ids={"noord": noord}, member_ids={"bas": bas, "mirjam": mirjam})
        question = DemoQuestion("noord", "bas", "mirjam", "mantelzorg", "Hoe begin ik?", "Klein.", "bel dinsdag",
                                share_name=True)
        assert _ask_and_answer(operator, question, result) == 1
        assert _ask_and_answer(operator, question, result) == 0  # a restart asks nothing again
        exported = made(operator.get(f"/v1/members/{bas}/export"), 200)["members"]
        assert [(q["status"], q["expert_contact"]["note"]) for q in exported["questions"]] == [
            ("answered", "bel dinsdag")]
        demo_tokens = [t for t in exported["tokens"] if t["label"] == "demo: question"]
        assert len(demo_tokens) == 2 and all(t["revoked_at"] for t in demo_tokens)
