"""The web page at `/`, driven in a real headless Chromium against a real `gouache serve`.

Needs Debian's chromium (`apt-get install chromium`, at /usr/bin/chromium or $GOUACHE_CHROMIUM) and
the `playwright` Python package; Playwright's own browser downloads are not used. Without either,
these tests skip and say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.browser import CHROMIUM_ARGS, find_chromium
from tests.server import RunningServer, start_server

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the browser tests need the playwright package (pip install playwright)",
)
expect = sync_api.expect


CHROMIUM = find_chromium()

API = "api-version=2023-06-01-preview"
SUBMIT = f"/openai/images/generations:submit?{API}"
RIGHT_KEY = "right-key-0123"
QUEUE_MAX = 2
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium at /usr/bin/chromium or $GOUACHE_CHROMIUM (apt-get install chromium)",
    ),
]

# dall-e-2 draws instantly; "slow" takes long enough that the page shows every state on the way,
# and its dall-e-3 profile (max_n 1, landscape sizes) exercises the form's limits.
CONFIG = """
[deployments.dall-e-2]
profile = "dall-e-2"
engine = "instant"

[deployments.slow]
profile = "dall-e-3"
engine = "instant"
[deployments.slow.options]
delay_s = 2.5
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(
        tmp_path_factory.mktemp("web"), config=CONFIG, env={"GOUACHE_QUEUE_MAX": str(QUEUE_MAX)}
    ) as running:
        yield running


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(
        tmp_path_factory.mktemp("web-keyed"),
        env={"GOUACHE_API_KEYS": RIGHT_KEY},
        args=["--engine", "instant"],
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # the page must work under its own Content-Security-Policy, not merely load
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not blocked, f"the page's content policy blocked: {blocked}"


def open_page(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#deployment option").first).not_to_have_text("loading…")


def choose(page, *, deployment: str, size: str, n: int) -> None:
    page.get_by_label("Deployment").select_option(deployment)
    page.get_by_label("Size").select_option(size)
    page.locator(f"label[for='n-{n}']").click()


def loaded_images(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#grid img",
        "imgs => imgs.map(i => ({w: i.naturalWidth, h: i.naturalHeight, done: i.complete,"
        " box: i.parentElement.getBoundingClientRect().width / i.parentElement.getBoundingClientRect().height}))",
    )


def wait_for_images(page, count: int) -> list[dict]:
    page.wait_for_function(
        "n => { const imgs = [...document.querySelectorAll('#grid img')];"
        " return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        arg=count,
        timeout=TIMEOUT_MS,
    )
    return loaded_images(page)


def server_error(url: str, body: dict, headers: dict | None = None) -> str:
    response = httpx.post(url + SUBMIT, json=body, headers=headers or {})
    assert response.status_code >= 400, response.text
    return response.json()["error"]["message"]


def test_generates_two_images_with_download_and_countdown(server: RunningServer, page) -> None:
    open_page(page, server.url)
    choose(page, deployment="dall-e-2", size="512x512", n=2)
    page.get_by_label("User").fill("web-test")
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("a red running shoe on a white background")
    expect(page.locator("#prompt-counter")).to_have_text("40 / 1,000")
    prompt.press("Control+Enter")

    images = wait_for_images(page, 2)
    assert [(i["w"], i["h"]) for i in images] == [(512, 512), (512, 512)]
    expect(page.locator("#status")).to_contain_text("succeeded")

    downloads = page.get_by_role("link", name=re.compile(r"^Download image \d of 2$"))
    expect(downloads).to_have_count(2)
    href = downloads.first.get_attribute("href")
    assert "/images/" in href and "se=" in href and "sig=" in href
    assert downloads.first.get_attribute("download").endswith("-1.png")
    assert httpx.get(href).headers["content-type"] == "image/png"

    # the link lives as long as the operation (24 h by default) and counts down
    countdown = page.locator("#grid .expiry").first
    expect(countdown).to_have_text(re.compile(r"^expires in 23:59:\d\d$"))
    expect(countdown).not_to_have_text(countdown.text_content(), timeout=3000)

    recent = page.locator("#recent .recent-item")
    expect(recent).to_have_count(1)
    expect(recent.first).to_contain_text("a red running shoe on a white background")
    expect(recent.first).to_contain_text("succeeded")
    stored = page.evaluate("JSON.parse(localStorage.getItem('gouache.operations'))")
    assert stored[0]["location"].startswith(f"{server.url}/openai/operations/images/")


def test_shows_each_state_and_the_real_aspect_ratio(server: RunningServer, page) -> None:
    open_page(page, server.url)
    page.get_by_label("Deployment").select_option("slow")
    # a dall-e-3 deployment makes one image per request: 2..5 are not offered
    assert page.locator("#n-1").is_enabled()
    assert all(page.locator(f"#n-{n}").is_disabled() for n in range(2, 6))
    expect(page.locator("#size option")).to_have_text(["1024 × 1024", "1792 × 1024", "1024 × 1792"])
    page.get_by_label("Size").select_option("1792x1024")
    page.evaluate(
        "window.seen = []; new MutationObserver(() => {"
        " const s = document.querySelector('#status').dataset.state;"
        " if (s && window.seen.at(-1) !== s) window.seen.push(s); })"
        ".observe(document.querySelector('#status'), {attributes: true, childList: true, characterData: true, subtree: true})"
    )
    page.get_by_label("Prompt", exact=True).fill("a wide ochre landscape")
    page.get_by_role("button", name="Generate").click()
    [image] = wait_for_images(page, 1)
    assert (image["w"], image["h"]) == (1792, 1024)
    assert image["box"] == pytest.approx(1792 / 1024, rel=0.02)
    seen = page.evaluate("window.seen")
    assert [s for s in seen if s in ("notRunning", "running", "succeeded")] == [
        "notRunning",
        "running",
        "succeeded",
    ], seen


def test_empty_prompt_shows_the_service_message(server: RunningServer, page) -> None:
    expected = server_error(
        server.url, {"prompt": "", "n": 1, "size": "512x512", "model": "dall-e-2"}
    )
    open_page(page, server.url)
    page.get_by_role("button", name="Generate").click()
    alert = page.get_by_role("alert").filter(has_text=expected)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("HTTP 400")
    expect(page.locator("#grid img")).to_have_count(0)
    expect(page.locator("#recent .recent-item")).to_have_count(0)


def test_over_long_prompt_is_flagged_and_not_sent(server: RunningServer, page) -> None:
    open_page(page, server.url)
    page.get_by_label("Deployment").select_option("dall-e-2")
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if ":submit" in r.url else None)
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("x" * 1001)
    expect(page.locator("#prompt-counter")).to_have_text("1,001 / 1,000 · 1 over")
    expect(page.locator("#prompt-counter")).to_have_class(re.compile(r"\bover\b"))
    expect(prompt).to_have_attribute("aria-invalid", "")
    expect(page.locator("#prompt-help")).to_contain_text(
        "1 character over the 1,000-character limit"
    )
    generate = page.get_by_role("button", name="Generate")
    expect(generate).to_be_disabled()
    prompt.press("Control+Enter")
    page.wait_for_timeout(300)
    assert submits == []
    prompt.press("Backspace")
    expect(page.locator("#prompt-counter")).to_have_text("1,000 / 1,000")
    expect(generate).to_be_enabled()


def test_wrong_key_shows_401_and_right_key_is_kept(keyed_server: RunningServer, page) -> None:
    expected = server_error(
        keyed_server.url,
        {"prompt": "x", "n": 1, "size": "256x256", "model": "dall-e-2"},
        {"api-key": "wrong"},
    )
    open_page(page, keyed_server.url)
    page.locator("#key-panel summary").click()
    page.get_by_label("API key").fill("wrong")
    page.get_by_role("button", name="Save").click()
    choose(page, deployment="dall-e-2", size="256x256", n=1)
    page.get_by_label("Prompt", exact=True).fill("a teapot")
    page.get_by_role("button", name="Generate").click()
    alert = page.locator("#error")
    expect(alert).to_contain_text(expected)
    expect(alert).to_contain_text("HTTP 401")
    expect(page.locator("#status")).to_have_text("The request did not go through.")
    expect(page.get_by_label("API key")).to_be_focused()

    page.get_by_label("API key").fill(RIGHT_KEY)
    page.get_by_role("button", name="Save").click()
    page.reload()
    expect(page.get_by_label("API key")).to_have_value(RIGHT_KEY)
    expect(page.locator("#key-summary")).to_have_text("API key · saved")
    page.get_by_label("Prompt", exact=True).fill("a teapot")
    page.get_by_role("button", name="Generate").click()
    [image] = wait_for_images(page, 1)
    assert image["w"] == 256
    expect(page.locator("#error")).to_be_hidden()


def test_reopen_and_delete_from_recent(server: RunningServer, page) -> None:
    open_page(page, server.url)
    choose(page, deployment="dall-e-2", size="256x256", n=1)
    prompt = page.get_by_label("Prompt", exact=True)
    for count, text in enumerate(("first: a blue mug", "second: a green vase"), start=1):
        prompt.fill(text)
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#recent .recent-item")).to_have_count(count)
        expect(page.locator("#status")).to_have_attribute("data-state", "succeeded")
    stored = page.evaluate("JSON.parse(localStorage.getItem('gouache.operations'))")
    second, first = stored[0], stored[1]

    # a fresh visit: the list is still there, and Reopen fetches the operation again
    page.reload()
    expect(page.locator("#grid img")).to_have_count(0)
    page.get_by_role("button", name="Reopen “first: a blue mug”").click()
    [image] = wait_for_images(page, 1)
    assert image["w"] == 256
    expect(page.locator("#op-meta")).to_contain_text(first["id"])

    # Delete: 204, gone from the list, and the service says so
    page.get_by_role("button", name="Delete “first: a blue mug”").click()
    expect(page.locator("#recent .recent-item")).to_have_count(1)
    expect(page.locator("#grid img")).to_have_count(0)
    response = httpx.get(first["location"])
    assert response.status_code == 404 or response.json()["status"] == "deleted", response.text
    ids = [e["id"] for e in page.evaluate("JSON.parse(localStorage.getItem('gouache.operations'))")]
    assert ids == [second["id"]]

    # a delete the service refuses: the message appears inline in that row, and it stays listed
    assert httpx.delete(second["location"]).status_code == 204
    gone = httpx.delete(second["location"]).json()["error"]["message"]
    page.get_by_role("button", name="Delete “second: a green vase”").click()
    row = page.locator("#recent .recent-item").first
    expect(row.get_by_role("alert")).to_contain_text(gone)
    expect(page.locator("#recent .recent-item")).to_have_count(1)
    row.get_by_role("button", name="Remove from list").click()
    expect(page.locator("#recent .recent-item")).to_have_count(0)


def test_busy_service_shows_429_inline(server: RunningServer, page) -> None:
    """Last in the file: it fills the queue with slow operations, then waits for them to drain."""
    open_page(page, server.url)
    slow = {"prompt": "queue filler", "n": 1, "size": "1024x1024", "model": "slow"}
    locations = []
    for _ in range(QUEUE_MAX):
        response = httpx.post(server.url + SUBMIT, json=slow)
        assert response.status_code == 202, response.text
        locations.append(response.headers["operation-location"])
    expected = server_error(server.url, slow)
    page.get_by_label("Prompt", exact=True).fill("one more, please")
    page.get_by_role("button", name="Generate").click()
    alert = page.locator("#error")
    expect(alert).to_contain_text(expected)
    expect(alert).to_contain_text("HTTP 429")
    expect(alert).to_contain_text("The service is busy")
    expect(alert).to_contain_text("retrying after 1 s")  # the service's retry-after
    expect(page.locator("#recent .recent-item")).to_have_count(0)
    for location in locations:
        for _ in range(100):
            if httpx.get(location).json()["status"] == "succeeded":
                break
            page.wait_for_timeout(100)
