"""Screenshot the web page with generated images: docs/screenshot.png.

Starts `gouache serve` on a free port, drives the page in headless Chromium with Playwright, types a
prompt, generates, waits for the images, and saves a 1280x800 screenshot (plus a phone-size one
with --phone). Needs Debian's chromium (`apt-get install chromium`) and `pip install playwright`.

    python scripts/screenshot.py                      # built-in engine, docs/screenshot.png
    python scripts/screenshot.py --engine instant     # flat colours, instantly
    python scripts/screenshot.py --phone docs/screenshot-phone.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_ARGS, find_chromium  # noqa: E402
from tests.server import start_server  # noqa: E402

CHROMIUM = find_chromium() or "/usr/bin/chromium"
PROMPT = "a red running shoe on a white background"


def shoot(page, url: str, args: argparse.Namespace, out: Path) -> None:
    page.goto(url)
    page.wait_for_selector("#deployment option[value='dall-e-2']", state="attached")
    page.select_option("#deployment", args.deployment)
    page.select_option("#size", args.size)
    page.click(f"label[for=n-{args.n}]")
    page.fill("#user", "brand-team")
    page.fill("#prompt", args.prompt)
    page.click("#generate")
    page.wait_for_function(
        "n => [...document.querySelectorAll('#grid img')].filter(i => i.complete && i.naturalWidth).length === n",
        arg=args.n,
        timeout=args.timeout * 1000,
    )
    page.wait_for_timeout(600)  # let the cards' entrance animation settle
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=args.full_page)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", default="builtin", help="engine for the default deployments")
    parser.add_argument("--deployment", default="dall-e-2")
    parser.add_argument("--size", default="512x512")
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--phone", type=Path, help="also save a 390x844 phone screenshot here")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for images")
    parser.add_argument("--history", type=int, default=3, help="earlier operations to list first")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as tmp,
        start_server(Path(tmp), args=["--engine", args.engine]) as server,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for out, viewport, scale in [
            (args.out, {"width": args.width, "height": args.height}, 1),
            *([(args.phone, {"width": 390, "height": 844}, 2)] if args.phone else []),
        ]:
            context = browser.new_context(
                viewport=viewport, device_scale_factor=scale, color_scheme="light"
            )
            page = context.new_page()
            page.goto(server.url)
            # a few earlier operations so the recent list is not empty
            for prompt in [
                "ochre hills at dusk, gouache",
                "a blue ceramic mug, product photo",
                "logo sketch: a paint blob",
            ][: args.history]:
                page.evaluate(
                    """async ([prompt]) => {
                      const r = await fetch('openai/images/generations:submit?api-version=2023-06-01-preview', {
                        method: 'POST', headers: {'Content-Type': 'application/json'},
                        body: JSON.stringify({prompt, n: 1, size: '256x256', model: 'dall-e-2'})});
                      const body = await r.json();
                      const list = JSON.parse(localStorage.getItem('gouache.operations') || '[]');
                      list.unshift({id: body.id, prompt, created: body.created - 600, location: r.headers.get('operation-location'),
                                    deployment: 'dall-e-2', size: '256x256', n: 1, status: 'succeeded'});
                      localStorage.setItem('gouache.operations', JSON.stringify(list));
                    }""",
                    [prompt],
                )
            shoot(page, server.url, args, out)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
