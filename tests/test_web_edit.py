"""The web page's Edit mode and live previews, in a real headless Chromium against a real server
(helpers and the CSP-checking `page` fixture come from tests/test_web_page.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests import test_web_page as web
from tests.server import RunningServer, start_server
from tests.test_web_page import CHROMIUM, expect, open_page, wait_for_images

# the browser and the page that fails on uncaught errors and on anything its CSP blocks
browser = web.browser
page = web.page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)"),
]

# builtin deployments edit and make previews; "slow" makes two previews per image, 0.8 s apart,
# so the page has time to show them; "plain" can do neither.
CONFIG = """
[deployments.dall-e-2]
profile = "dall-e-2"
engine = "builtin"

[deployments.gpt-image-1]
profile = "gpt-image-1"
engine = "builtin"

[deployments.slow]
profile = "dall-e-2"
engine = "tests.engines_for_tests:SlowPreviewEngine"
[deployments.slow.options]
step_s = 0.8

[deployments.plain]
profile = "dall-e-2"
engine = "instant"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("web-edit"), config=CONFIG) as running:
        yield running


def write_png(path: Path, size: tuple[int, int], colour, hole: bool = False) -> Path:
    image = Image.new("RGBA", size, colour)
    if hole:
        width, height = size
        image.paste((0, 0, 0, 0), (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    image.save(path, "PNG")
    return path


def test_live_previews_while_an_operation_runs(server: RunningServer, page) -> None:
    open_page(page, server.url)
    page.get_by_label("Deployment").select_option("slow")
    page.get_by_label("Size").select_option("256x256")
    page.locator("label[for='n-2']").click()
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at dusk")
    page.get_by_role("button", name="Generate").click()

    preview = page.locator("#grid img.preview").first
    expect(preview).to_be_visible()
    assert "/preview-" in preview.get_attribute("src")
    expect(page.locator("#grid .preview-note").first).to_contain_text("Preview ·")
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("%")
    page.screenshot(path=str(Path(server.data_dir).parent / "web-previews.png"))

    images = wait_for_images(page, 2)
    assert [(i["w"], i["h"]) for i in images] == [(256, 256), (256, 256)]
    expect(page.locator("#grid img.preview")).to_have_count(0)
    expect(page.locator("#progress")).to_be_hidden()


def test_edit_mode_with_an_image_and_a_mask(server: RunningServer, page, tmp_path) -> None:
    photo = write_png(tmp_path / "photo.png", (512, 512), (200, 40, 40, 255))
    mask = write_png(tmp_path / "mask.png", (512, 512), (0, 0, 0, 255), hole=True)
    open_page(page, server.url)
    page.get_by_text("Edit an image").click()
    expect(page.get_by_role("button", name="Edit")).to_be_visible()
    # a deployment that cannot edit is not offered
    assert page.locator("#deployment option[value='plain']").is_disabled()
    page.get_by_label("Deployment").select_option("dall-e-2")
    page.get_by_label("Size").select_option("512x512")
    page.locator("#edit-image").set_input_files(str(photo))
    page.locator("#edit-mask").set_input_files(str(mask))
    expect(page.locator("#edit-thumbs img")).to_have_count(2)
    page.get_by_label("Prompt", exact=True).fill("a blue ball")
    page.get_by_role("button", name="Edit").click()

    [image] = wait_for_images(page, 1)
    assert (image["w"], image["h"]) == (512, 512)
    expect(page.locator("#status")).to_contain_text("succeeded")
    href = page.get_by_role("link", name="Download image 1 of 1").get_attribute("href")
    assert "/images/" in href and "sig=" in href
    page.screenshot(path=str(Path(server.data_dir).parent / "web-edit.png"))


def test_edit_mode_streams_previews_for_gpt_image(server: RunningServer, page, tmp_path) -> None:
    photo = write_png(tmp_path / "mug.png", (1024, 1024), (240, 240, 240, 255))
    open_page(page, server.url)
    page.get_by_text("Edit an image").click()
    page.get_by_label("Deployment").select_option("gpt-image-1")
    page.get_by_label("Size").select_option("1024x1024")
    page.locator("#edit-image").set_input_files(str(photo))
    page.get_by_label("Prompt", exact=True).fill("a red mug on a desk")
    page.get_by_role("button", name="Edit").click()
    [image] = wait_for_images(page, 1)
    assert (image["w"], image["h"]) == (1024, 1024)
    src = page.locator("#grid img").first.get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    expect(page.locator("#grid .expiry").first).to_have_text("kept in this page only")


def test_edit_without_an_image_and_the_service_refusal(
    server: RunningServer, page, tmp_path
) -> None:
    open_page(page, server.url)
    page.get_by_text("Edit an image").click()
    page.get_by_label("Deployment").select_option("dall-e-2")
    page.get_by_label("Prompt", exact=True).fill("x")
    page.get_by_role("button", name="Edit").click()
    expect(page.locator("#error")).to_contain_text("Choose the image to edit first.")
    # a non-square image: the service's own message is shown, next to the field
    wide = write_png(tmp_path / "wide.png", (300, 200), (1, 2, 3, 255))
    page.locator("#edit-image").set_input_files(str(wide))
    page.get_by_role("button", name="Edit").click()
    expect(page.locator("#error")).to_contain_text("takes a square image")
    expect(page.locator("#edit-image").locator("xpath=..")).to_have_class("field server-invalid")
