"""`stream: true` on the in-process app: event names and fields, previews from the store,
errors inside the stream, and the refusals before a stream starts."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from pathlib import Path

import openai
import pytest
from PIL import Image

from gouache.config import Deployment, default_deployments
from gouache.jobs import migrate
from gouache.jobs.database import create_database_engine
from gouache.jobs.progress import operation_progress
from gouache.profiles import PROFILES
from tests.conftest import make_client
from tests.test_migrations import declared, reflected

PARTIAL_FIELDS = {
    "type",
    "b64_json",
    "created_at",
    "size",
    "quality",
    "background",
    "output_format",
    "partial_image_index",
    "image_index",
}


def events(text: str) -> list[tuple[str | None, dict]]:
    found = []
    for block in text.strip().split("\n\n"):
        name = None
        data = None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
        found.append((name, data))
    return found


def picture(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


@pytest.fixture
def drawing(tmp_path: Path):
    deployments = default_deployments("builtin")
    deployments["failing"] = Deployment(
        name="failing",
        profile=PROFILES["gpt-image-1"],
        engine="tests.engines_for_tests:FailingEngine",
    )
    with make_client(tmp_path / "data", deployments=deployments) as client:
        yield client


def test_generation_stream_events_and_fields(drawing):
    response = drawing.post(
        "/v1/images/generations",
        json={
            "model": "gpt-image-1",
            "prompt": "a red mug on a desk",
            "stream": True,
            "partial_images": 2,
            "n": 2,
            "quality": "low",
            "output_format": "jpeg",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    found = events(response.text)
    partials = [data for name, data in found if name == "image_generation.partial_image"]
    completed = [data for name, data in found if name == "image_generation.completed"]
    assert [name for name, _ in found] == [data["type"] for _, data in found]
    assert partials, "the built-in engine renders previews"
    for data in partials:
        assert set(data) == PARTIAL_FIELDS
        assert picture(data["b64_json"]).format == "JPEG"
    assert [data["image_index"] for data in completed] == [0, 1]
    for data in completed:
        assert set(data) == PARTIAL_FIELDS - {"partial_image_index"} | {"usage"}
        assert set(data["usage"]) == {
            "total_tokens",
            "input_tokens",
            "output_tokens",
            "input_tokens_details",
        }
        image = picture(data["b64_json"])
        assert (image.format, image.size) == ("JPEG", (1024, 1024))
        assert (data["size"], data["quality"], data["output_format"]) == (
            "1024x1024",
            "low",
            "jpeg",
        )
    # previews are real intermediate states, not the final image sent early
    finals = {data["image_index"]: data["b64_json"] for data in completed}
    assert all(data["b64_json"] != finals[data["image_index"]] for data in partials)


def test_previews_are_rows_in_the_store_and_files_beside_the_images(drawing, tmp_path):
    response = drawing.post(
        "/v1/images/generations",
        json={"model": "gpt-image-1", "prompt": "a lamp", "stream": True, "partial_images": 3},
    )
    assert response.status_code == 200
    service = drawing.app.state.ctx.service
    (operation_id,) = service.store.all_ids()
    records = service.progress.previews(operation_id)
    assert records and all(0 < record.progress < 1 for record in records)
    folder = tmp_path / "data" / "images" / operation_id
    assert {record.name for record in records} <= {p.name for p in folder.iterdir()}
    assert [item["name"] for item in service.store.get(operation_id).result["data"]] == ["0.png"]


def test_stream_without_previews_sends_the_completed_image_only(drawing):
    response = drawing.post(
        "/v1/images/generations",
        json={"model": "failing", "prompt": "a lamp", "stream": True},
    )
    assert [name for name, _ in events(response.text)] == ["image_generation.completed"]


def test_failure_after_the_stream_started_is_an_error_event(drawing):
    response = drawing.post(
        "/v1/images/generations",
        json={"model": "failing", "prompt": "a forbidden thing", "stream": True},
    )
    assert response.status_code == 200
    ((name, data),) = events(response.text)
    assert name is None
    assert data["error"]["code"] == "content_policy_violation"
    sdk = openai.OpenAI(
        base_url="http://testserver/v1", api_key="none", http_client=drawing, max_retries=0
    )
    with pytest.raises(openai.APIError, match="safety system"):
        for _ in sdk.images.generate(model="failing", prompt="a forbidden thing", stream=True):
            pass


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"model": "dall-e-2", "stream": True}, "stream", "GPT image deployments only"),
        ({"model": "gpt-image-1", "partial_images": 2}, "partial_images", "'stream' is not true"),
        ({"model": "gpt-image-1", "stream": True, "partial_images": 4}, "partial_images", "0 to 3"),
        ({"model": "gpt-image-1", "stream": "yes"}, "stream", "true or false"),
        ({"model": "failing", "stream": True, "partial_images": 1}, "partial_images", "makes none"),
    ],
)
def test_refusals_before_the_stream(drawing, body, param, words):
    response = drawing.post("/v1/images/generations", json={"prompt": "x", **body})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert words in error["message"]


def test_stream_on_the_deployments_route_and_the_azure_v1_surface(drawing):
    for path in (
        "/openai/deployments/gpt-image-1/images/generations?api-version=2025-04-01-preview",
        "/openai/v1/images/generations?api-version=preview",
    ):
        response = drawing.post(
            path,
            json={"model": "gpt-image-1", "prompt": "a cup", "stream": True, "partial_images": 1},
        )
        names = [name for name, _ in events(response.text)]
        assert names[-1] == "image_generation.completed", path
    response = drawing.post(
        "/openai/deployments/gpt-image-1/images/generations?api-version=2024-10-21",
        json={"prompt": "a cup", "stream": True},
    )
    assert response.status_code == 400


def test_edit_stream_uses_the_image_edit_events(drawing):
    buffer = io.BytesIO()
    Image.new("RGBA", (1024, 1024), (240, 240, 240, 255)).save(buffer, "PNG")
    response = drawing.post(
        "/v1/images/edits",
        files={"image": ("a.png", buffer.getvalue(), "image/png")},
        data={"model": "gpt-image-1", "prompt": "a mug", "stream": "true", "partial_images": "2"},
    )
    names = [name for name, _ in events(response.text)]
    assert names[-1] == "image_edit.completed"
    assert set(names[:-1]) <= {"image_edit.partial_image"}


def test_progress_table_is_built_by_revision_0003(database_url):
    """On SQLite and PostgreSQL: the table the migrations build is the one `progress` declares."""
    engine = create_database_engine(database_url)
    try:
        migrate.ensure_schema(engine)
        assert reflected(engine, "operation_progress") == declared(operation_progress)
    finally:
        engine.dispose()


def test_deployment_max_n_still_applies_to_streams(tmp_path):
    small = default_deployments("builtin")["gpt-image-1"]
    small = replace(small, profile=replace(small.profile, max_n=1, openai_max_n=1))
    with make_client(tmp_path / "data", deployments={"gpt-image-1": small}) as client:
        response = client.post(
            "/v1/images/generations",
            json={"model": "gpt-image-1", "prompt": "x", "stream": True, "n": 2},
        )
    assert response.status_code == 400
