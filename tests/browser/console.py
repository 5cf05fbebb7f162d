"""Using the console as its people do: signing in through the OpenID provider, and looking at every page the way
the layer requires (axe-core finds nothing serious or critical; a full-page screenshot is kept)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from services.demo import demo_member
from tests.support.browser import assert_accessible, snap
from tests.support.oidc import Provider
from tests.support.stack import Stack


def at(url: str) -> re.Pattern[str]:
    """``url``, with any query."""
    return re.compile(re.escape(url) + r"(\?.*)?$")


def looked_at(page: Page, name: str) -> None:
    """Every page a test visits: checked with axe-core, and saved as .kring/screenshots/<name>.png."""
    page.wait_for_load_state("load")
    snap(page, name)
    assert_accessible(page)


def at_provider(page: Page, provider: Provider, subject: str) -> None:
    """On the provider's authorization form: type the subject and authorize (the provider's page is not ours to
    check)."""
    expect(page).to_have_url(at(f"{provider.issuer}/oauth2/authorize"))
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()


def sign_in(page: Page, stack: Stack, provider: Provider, member_key: str, *, going_to: str = "/") -> None:
    """Sign in as a demo member through the provider, who vouches for their e-mail address as verified."""
    member = demo_member(member_key)
    provider.set_user(member_key, member.email, name=member.name)
    page.goto(f"{stack.console}{going_to}")
    expect(page).to_have_url(at(f"{stack.console}/sign-in"))
    page.get_by_role("link", name="Inloggen met uw organisatie-account").click()
    at_provider(page, provider, member_key)
    expect(page.get_by_text(f"Ingelogd als {member.name}")).to_be_visible()


# Path segments that are ids (UUIDs, hex, long tokens, numbers): pages differing only in them are one page shape.
_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|\d+"
                 r"|[A-Za-z0-9_-]{20,})$")
# Not pages to look at: files, and what a GET link would end (none should, but a crawler must not sign itself out).
_SKIP = ("/static/", "/sign-out", "/sign-in", "/language")
_FILES = (".json", ".csv", ".ndjson", ".svg", ".png")


def page_shape(path: str) -> str:
    """/networks/7f0c.../sessions/9a1b... → /networks/{id}/sessions/{id}: one page of each shape is enough."""
    return "/".join("{id}" if _ID.match(part) else part for part in path.split("/"))


def walk(page: Page, console: str, who: str, first: tuple[str, ...] = (), limit: int = 60,
         within: tuple[str, ...] = ("/",)) -> list[str]:
    """Every page shape a signed-in person reaches by following the console's links from ``first`` and their start
    page (breadth first, at most ``limit``), each one looked at (axe-core and a screenshot named
    ``<who>-<shape>``); the shapes. Each page must answer without an error status: a link the console shows leads
    somewhere that works. One page of each shape is seen, so ``first`` names where the person's role shows most
    (their own network; a session already held, whose page links what an upcoming one does not); those are
    visited whatever their shape. Fails at the end, naming every page that did not answer or did not pass
    axe-core. ``within``: only links to paths starting so are followed (pages another walk has seen already are
    left out)."""
    seen: set[str] = set()
    queue = [*first] if within != ("/",) else [*first, "/"]
    chosen = set(first)
    shapes: list[str] = []
    problems: list[str] = []
    while queue and len(shapes) < limit:
        path = queue.pop(0)
        shape = page_shape(path.split("?")[0])
        if shape in seen and path not in chosen:
            continue
        chosen.discard(path)
        seen.add(shape)
        answer = page.goto(f"{console}{path}")
        shapes.append(shape)
        name = f"{who}{shape.replace('/', '-').replace('{id}', 'id')}" if shape != "/" else f"{who}-home"
        if shape in shapes[:-1]:
            name += f"-{shapes.count(shape)}"  # a chosen page of a shape already seen
        if answer is None or answer.status >= 400:
            snap(page, name)
            problems.append(f"{path} answered {answer.status if answer else 'nothing'}")
            continue
        try:
            looked_at(page, name)
        except AssertionError as found:
            problems.append(str(found))
        # not files to download (a data export): they are no page to look at
        links = page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.getAttribute('href'))")
        for href in links:
            if (href.startswith(within) and not href.startswith("//") and not href.startswith(_SKIP)
                    and not href.split("?")[0].endswith(_FILES)):
                queue.append(href.split("#")[0])
    assert not problems, f"{who}: {len(problems)} of {len(shapes)} pages failed:\n" + "\n".join(problems)
    return shapes
