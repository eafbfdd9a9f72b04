"""Edits and variations on the in-process app: parsing, validation, storage of inputs."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gouache.config import default_deployments
from tests.conftest import make_client
from tests.error_shape import check_error_body


def png(size=(256, 256), mode="RGBA", colour=(200, 30, 30, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour[: len(mode)]).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(size=(256, 256)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def drawing(tmp_path: Path):
    with make_client(tmp_path / "data", deployments=default_deployments("builtin")) as client:
        yield client


@pytest.fixture
def sdk(drawing):
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key="none", http_client=drawing, max_retries=0
    )


def error_of(response):
    assert 400 <= response.status_code < 500, response.text
    return response.json()["error"]


def test_inputs_are_stored_with_the_operation_and_deleted_with_it(drawing, sdk, tmp_path):
    result = sdk.images.edit(
        model="dall-e-2",
        image=("shoe.png", png(), "image/png"),
        mask=("mask.png", png(colour=(0, 0, 0, 0)), "image/png"),
        prompt="a blue shoe",
        size="256x256",
        n=2,
    )
    assert len(result.data) == 2
    service = drawing.app.state.ctx.service
    (operation_id,) = service.store.all_ids()
    folder = tmp_path / "data" / "images" / operation_id
    assert sorted(p.name for p in folder.iterdir()) == ["0.png", "1.png", "input-0.png", "mask.png"]
    operation = service.store.get(operation_id)
    assert operation.params["operation"] == "edit"
    assert operation.params["inputs"] == ["input-0.png"]
    assert service.sweep(now=operation.expires + 1) == 1
    assert not folder.exists()


def test_instant_engine_refuses_edits_before_any_work(client):
    response = client.post(
        "/v1/images/edits",
        files={"image": ("a.png", png(), "image/png")},
        data={"prompt": "x", "model": "dall-e-2"},
    )
    error = error_of(response)
    assert error["code"] == "unsupported_operation"
    assert "instant" in error["message"]
    assert client.app.state.ctx.service.store.all_ids() == []


@pytest.mark.parametrize(
    ("files", "data", "param", "words"),
    [
        ({"image": ("a.png", png((300, 200)), "image/png")}, {}, "image", "square"),
        ({"image": ("a.jpg", jpeg(), "image/jpeg")}, {}, "image", "one square PNG"),
        ({"image": ("a.png", b"GIF89a....", "image/png")}, {}, "image", "not a PNG, JPEG or WebP"),
        (
            {"image": ("a.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")},
            {},
            "image",
            "cannot be read",
        ),
        (
            {
                "image": ("a.png", png(), "image/png"),
                "mask": ("m.png", png(mode="RGB"), "image/png"),
            },
            {},
            "mask",
            "no alpha channel",
        ),
        (
            {
                "image": ("a.png", png(), "image/png"),
                "mask": ("m.png", png((128, 128)), "image/png"),
            },
            {},
            "mask",
            "same size",
        ),
        (
            {"image": ("a.png", png(), "image/png"), "mask": ("m.png", png(), "image/png")},
            {},
            "mask",
            "no fully transparent pixels",
        ),
        ({"image": ("a.png", png(), "image/png")}, {"n": "11"}, "n", "from 1 to 10"),
        ({"image": ("a.png", png(), "image/png")}, {"n": "two"}, "n", "must be an integer"),
        ({"image": ("a.png", png(), "image/png")}, {"size": "1536x1024"}, "size", "256x256"),
        (
            {"image": ("a.png", png(), "image/png")},
            {"input_fidelity": "high"},
            "input_fidelity",
            "not supported",
        ),
        ({"image": ("a.png", png(), "image/png")}, {"style": "vivid"}, "style", "not part of"),
        ({"image": ("a.png", png(), "image/png")}, {"strength": "2"}, "strength", "at most 1"),
        ({"mask": ("m.png", png(), "image/png")}, {}, "image", "'image' is required"),
    ],
)
def test_dall_e_2_edit_rules(drawing, files, data, param, words):
    response = drawing.post(
        "/v1/images/edits", files=files, data={"prompt": "x", "model": "dall-e-2", **data}
    )
    error = error_of(response)
    assert error["param"] == param, error
    assert words in error["message"]


def test_prompt_sent_as_a_file_and_image_sent_as_text_are_refused(drawing):
    response = drawing.post(
        "/v1/images/edits",
        files={"image": ("a.png", png(), "image/png"), "prompt": ("p.txt", b"x", "text/plain")},
        data={"model": "dall-e-2"},
    )
    assert "only 'image', 'image[]' and 'mask' take files" in error_of(response)["message"]
    response = drawing.post(
        "/v1/images/edits",
        data={"model": "dall-e-2", "prompt": "x", "image": "a"},
        files={"mask": ("m.png", png(), "image/png")},
    )
    assert "must be a file part" in error_of(response)["message"]


def test_gpt_image_takes_jpeg_and_webp_and_several_images(drawing):
    webp = io.BytesIO()
    Image.new("RGB", (300, 200), (1, 2, 3)).save(webp, "WEBP")
    response = drawing.post(
        "/v1/images/edits",
        files=[
            ("image[]", ("a.jpg", jpeg((640, 480)), "image/jpeg")),
            ("image[]", ("b.webp", webp.getvalue(), "image/webp")),
        ],
        data={"prompt": "the two together", "model": "gpt-image-1", "input_fidelity": "high"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"] == "1024x1024"
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert (image.format, image.size) == ("PNG", (1024, 1024))


def test_seventeen_images_are_refused(drawing):
    files = [("image[]", (f"{i}.png", png((16, 16)), "image/png")) for i in range(17)]
    response = drawing.post(
        "/v1/images/edits", files=files, data={"prompt": "x", "model": "gpt-image-1"}
    )
    error = error_of(response)
    assert response.status_code == 400
    assert "Too many files" in error["message"] or "at most 16" in error["message"]


def test_dall_e_3_cannot_edit(drawing):
    response = drawing.post(
        "/v1/images/edits",
        files={"image": ("a.png", png(), "image/png")},
        data={"prompt": "x", "model": "dall-e-3"},
    )
    assert "DALL-E 3 has no edit API" in error_of(response)["message"]


def test_upload_over_the_cap_is_413(tmp_path):
    with make_client(
        tmp_path / "data", deployments=default_deployments("builtin"), max_upload_bytes=50_000
    ) as client:
        response = client.post(
            "/v1/images/edits",
            files={"image": ("a.png", png((512, 512), mode="RGB") + b"\0" * 60_000, "image/png")},
            data={"prompt": "x"},
        )
    assert response.status_code == 413
    assert "max_upload_bytes" in response.json()["error"]["message"]


def test_wrong_content_type_is_415(drawing):
    response = drawing.post(
        "/v1/images/edits", content=b"prompt=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    response = drawing.post(
        "/openai/deployments/gpt-image-1/images/edits?api-version=2025-04-01-preview",
        json={"prompt": "x", "images": [{"image_url": data_url(png())}]},
    )
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]["message"]


def test_json_form_with_data_urls(drawing):
    response = drawing.post(
        "/v1/images/edits",
        json={
            "model": "gpt-image-1",
            "prompt": "a mug on a desk",
            "images": [{"image_url": data_url(jpeg((400, 400)), "image/jpeg")}],
            "mask": {"image_url": data_url(png((400, 400), colour=(0, 0, 0, 0)))},
            "moderation": "low",
            "output_format": "webp",
        },
    )
    assert response.status_code == 200, response.text
    data = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"images": [{"image_url": "https://example.com/a.png"}]}, "does not fetch remote images"),
        ({"images": [{"image_url": "http://169.254.169.254/latest"}]}, "does not fetch remote"),
        ({"images": [{"file_id": "file-123"}]}, "Files API"),
        ({"images": [{"image_url": "data:image/png,abc"}]}, "';base64,'"),
        ({"images": [{"image_url": "data:image/png;base64,@@@"}]}, "not valid base64"),
        ({"images": []}, "non-empty list"),
        ({}, "'images' is required"),
        ({"image": "x", "images": []}, "not 'image'"),
    ],
)
def test_json_form_refusals(drawing, body, words):
    response = drawing.post(
        "/v1/images/edits", json={"model": "gpt-image-1", "prompt": "x", **body}
    )
    assert words in error_of(response)["message"]


def test_json_form_is_for_gpt_image_deployments(drawing):
    response = drawing.post(
        "/v1/images/edits",
        json={"model": "dall-e-2", "prompt": "x", "images": [{"image_url": data_url(png())}]},
    )
    assert "GPT image deployments only" in error_of(response)["message"]


def test_allow_listed_hosts_must_still_use_https(tmp_path):
    with make_client(
        tmp_path / "data",
        deployments=default_deployments("builtin"),
        image_url_hosts=("images.example.com",),
    ) as client:
        response = client.post(
            "/v1/images/edits",
            json={
                "model": "gpt-image-1",
                "prompt": "x",
                "images": [{"image_url": "http://images.example.com/a.png"}],
            },
        )
    assert "must use https" in error_of(response)["message"]


def test_variations_rules(drawing, sdk):
    result = sdk.images.create_variation(image=("a.png", png(), "image/png"), n=2, size="256x256")
    assert len(result.data) == 2
    response = drawing.post(
        "/v1/images/variations",
        files={"image": ("a.png", png(), "image/png")},
        data={"model": "gpt-image-1"},
    )
    assert "dall-e-2 deployments only" in error_of(response)["message"]
    response = drawing.post(
        "/v1/images/variations",
        files={"image": ("a.png", png(), "image/png")},
        data={"prompt": "x"},
    )
    assert error_of(response)["param"] == "prompt"
    response = drawing.post(
        "/v1/images/variations", files={"image": ("a.png", png((256, 128)), "image/png")}
    )
    assert "square" in error_of(response)["message"]


def test_azure_edits_route_versions(drawing):
    files = {"image": ("a.png", png((1024, 1024)), "image/png")}
    for version, status in (("2025-04-01-preview", 200), ("2025-08-28", 200), ("2024-10-21", 404)):
        response = drawing.post(
            f"/openai/deployments/gpt-image-1/images/edits?api-version={version}",
            files=files,
            data={"prompt": "a mug"},
        )
        assert response.status_code == status, (version, response.text)
    response = drawing.post(
        "/openai/deployments/gpt-image-1/images/edits?api-version=2025-04-01-preview",
        files=files,
        data={"prompt": "a mug", "moderation": "low"},
    )
    assert error_of(response)["param"] == "moderation"


# -- hostile multipart bodies: never a 500, always the contract's error shape ---------------------

BOUNDARY = "gouache-fuzz"
part_names = st.sampled_from(
    ["image", "image[]", "image[3]", "mask", "prompt", "n", "model", "stream", "size", "x", ""]
)
part_values = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([png(), png((64, 32)), b"\x89PNG\r\n\x1a\n", b"RIFF0000WEBP", b"\xff\xd8\xff"]),
    st.text(max_size=20).map(str.encode),
)


def multipart(parts: list[tuple[str, bytes, bool]]) -> bytes:
    chunks = []
    for name, value, as_file in parts:
        disposition = f'form-data; name="{name}"' + ('; filename="f.png"' if as_file else "")
        chunks.append(f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(value + b"\r\n")
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    with make_client(
        tmp_path_factory.mktemp("fuzz") / "data",
        deployments=default_deployments("builtin"),
        queue_max=100_000,
    ) as client:
        yield client


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/v1/images/edits",
            "/v1/images/variations",
            "/openai/deployments/dall-e-2/images/edits?api-version=2025-04-01-preview",
        ]
    ),
    parts=st.lists(st.tuples(part_names, part_values, st.booleans()), max_size=5),
    mangle=st.sampled_from(["none", "truncate", "no-boundary"]),
)
def test_hostile_multipart_never_500(fuzz_client, path, parts, mangle):
    body = multipart(parts)
    ctype = f"multipart/form-data; boundary={BOUNDARY}"
    if mangle == "truncate":
        body = body[: len(body) // 2]
    elif mangle == "no-boundary":
        ctype = "multipart/form-data"
    response = fuzz_client.post(path, content=body, headers={"content-type": ctype})
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        check_error_body(response.json(), path.split("?")[0])


def test_forms_from_other_origins_are_refused_before_reading(drawing):
    files = {"image": ("a.png", png(), "image/png")}
    data = {"prompt": "a blue ball", "model": "dall-e-2", "size": "256x256"}
    response = drawing.post(
        "/v1/images/edits", files=files, data=data, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "origin_not_allowed"
    assert drawing.app.state.ctx.service.store.all_ids() == []
    same = drawing.post(
        "/v1/images/edits", files=files, data=data, headers={"origin": "http://testserver"}
    )
    assert same.status_code == 200, same.text
