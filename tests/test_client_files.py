"""Image checks and all-or-nothing saving (`gouache.client.files`)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gouache.client.errors import DownloadError
from gouache.client.files import check_image, save_all
from gouache.errors import GouacheError


def encoded(size=(32, 16), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buffer, format=fmt)
    return buffer.getvalue()


def test_check_image_accepts_the_requested_size():
    checked = check_image(encoded(), media_type="image/png", expected_size="32x16", what="Image 0")
    assert (checked.extension, checked.width, checked.height) == ("png", 32, 16)
    jpeg = check_image(encoded(fmt="JPEG"), media_type=None, expected_size=None, what="Image 0")
    assert jpeg.extension == "jpg"


@pytest.mark.parametrize(
    ("data", "media_type", "size", "message"),
    [
        (encoded(), "text/html; charset=utf-8", None, "Image 0 is text/html, not an image."),
        (b"<html>", "image/png", None, "Image 0 does not decode as an image (6 bytes)"),
        (encoded()[:40], "image/png", None, "does not decode as an image"),
        (encoded(), "image/png", "16x32", "Image 0 is 32x16; 16x32 was requested."),
    ],
)
def test_check_image_refuses(data, media_type, size, message):
    with pytest.raises(DownloadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_image(data, media_type=media_type, expected_size=size, what="Image 0")


def test_save_all_names_files_by_operation_and_index(tmp_path):
    image = check_image(encoded(), media_type=None, expected_size=None, what="x")
    paths = save_all(tmp_path / "new", "op", [image, None, image])
    assert [p.name if p else None for p in paths] == ["op-0.png", None, "op-2.png"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["op-0.png", "op-2.png"]


def test_save_all_removes_what_it_wrote_when_a_write_fails(tmp_path):
    image = check_image(encoded(), media_type=None, expected_size=None, what="x")
    (tmp_path / "op-1.png").mkdir()  # the second rename cannot replace a folder
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(GouacheError, match="Cannot save the images in"):
        save_all(tmp_path, "op", [image, image])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt", "op-1.png"]


def test_save_all_removes_the_folder_it_made(tmp_path):
    image = check_image(encoded(), media_type=None, expected_size=None, what="x")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(GouacheError):
        save_all(tmp_path / "file" / "sub", "op", [image])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("bad_id", ["../../evil", "a/b", ".hidden", "", "x" * 200])
def test_save_all_refuses_ids_that_are_not_plain_names(tmp_path, bad_id):
    image = check_image(encoded(), media_type=None, expected_size=None, what="x")
    with pytest.raises(DownloadError, match="not usable in a file name"):
        save_all(tmp_path / "out", bad_id, [image])
    assert not (tmp_path / "out").exists()


def test_header_only_check_still_refuses_wrong_sizes_and_non_images():
    checked = check_image(
        encoded(), media_type="image/png", expected_size="32x16", what="Image 0", decode=False
    )
    assert (checked.extension, checked.width, checked.height) == ("png", 32, 16)
    with pytest.raises(DownloadError, match="Image 0 is 32x16; 64x64 was requested"):
        check_image(encoded(), media_type=None, expected_size="64x64", what="Image 0", decode=False)
    with pytest.raises(DownloadError, match="does not decode as an image"):
        check_image(b"not a picture", media_type=None, expected_size=None, what="x", decode=False)
    jpeg = check_image(encoded(fmt="JPEG"), media_type=None, expected_size="32x16", what="x",
                       decode=False)  # fmt: skip
    assert (jpeg.extension, jpeg.width, jpeg.height) == ("jpg", 32, 16)


def test_header_only_check_reads_a_png_header_as_pillow_does():
    for size in [(1, 1), (32, 16), (1792, 1024)]:
        data = encoded(size)
        quick = check_image(data, media_type=None, expected_size=None, what="x", decode=False)
        full = check_image(data, media_type=None, expected_size=None, what="x")
        assert quick == full
