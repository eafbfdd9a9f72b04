"""Newer api-versions, the Azure v1 surface and the newer request fields, on the in-process app."""

from __future__ import annotations

import pytest

from tests.conftest import make_client

PROMPT = {"prompt": "a red mug on a desk"}


@pytest.mark.parametrize("version", ["2025-08-28", "2025-06-01-preview", "2026-11-01"])
def test_dated_versions_after_the_newest_known_get_its_behaviour(client, version):
    response = client.post(
        f"/openai/deployments/gpt-image-1/images/generations?api-version={version}",
        json={**PROMPT, "output_format": "jpeg", "quality": "low"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["output_format"] == "jpeg"


@pytest.mark.parametrize("version", ["2023-05-15", "2025-13-01", "2025-08-28-beta", "latest"])
def test_unknown_versions_that_are_not_later_dates_are_404(client, version):
    response = client.post(
        f"/openai/deployments/dall-e-2/images/generations?api-version={version}", json=PROMPT
    )
    assert response.status_code == 404
    assert "any dated version after 2025-04-01-preview" in response.json()["error"]["message"]


def test_the_async_api_does_not_take_later_versions(client):
    response = client.post("/openai/images/generations:submit?api-version=2025-08-28", json=PROMPT)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/openai/v1/images/generations",
        "/openai/v1/images/generations?api-version=v1",
        "/openai/v1/images/generations?api-version=preview",
        "/openai/images/generations?api-version=v1",
        "/openai/images/generations?api-version=preview",
    ],
)
def test_azure_v1_surface_names_the_deployment_in_model(client, path):
    response = client.post(path, json={**PROMPT, "model": "dall-e-3", "size": "1792x1024"})
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    assert item["url"].startswith("http://testserver/images/")


def test_azure_v1_surface_refuses_dated_versions(client):
    response = client.post(
        "/openai/v1/images/generations?api-version=2024-10-21", json={**PROMPT, "model": "dall-e-2"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "api-version"
    assert "api-version=v1" in error["message"]


def test_safety_identifier_is_the_end_user_when_user_is_absent(client):
    response = client.post(
        "/v1/images/generations", json={**PROMPT, "safety_identifier": "hash-of-alice"}
    )
    assert response.status_code == 200, response.text
    app = client.app.state.ctx
    (row,) = app.service.store.usage()
    assert row["user"] == "hash-of-alice"


def test_safety_identifier_takes_precedence_over_user(client):
    response = client.post(
        "/v1/images/generations",
        json={**PROMPT, "user": "old-id", "safety_identifier": "new-id"},
    )
    assert response.status_code == 200
    (row,) = client.app.state.ctx.service.store.usage()
    assert row["user"] == "new-id"


def test_safety_identifier_on_the_preview_deployments_route(client):
    response = client.post(
        "/openai/deployments/gpt-image-1/images/generations?api-version=2025-04-01-preview",
        json={**PROMPT, "safety_identifier": "bob"},
    )
    assert response.status_code == 200
    response = client.post(
        "/openai/deployments/dall-e-3/images/generations?api-version=2024-10-21",
        json={**PROMPT, "safety_identifier": "bob"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "safety_identifier"


def test_safety_identifier_must_be_a_short_string(client):
    response = client.post("/v1/images/generations", json={**PROMPT, "safety_identifier": 7})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "safety_identifier"
    response = client.post(
        "/v1/images/generations", json={**PROMPT, "safety_identifier": "x" * 300}
    )
    assert response.status_code == 400
    assert "at most 256" in response.json()["error"]["message"]


def test_moderation_is_recorded_for_gpt_image_and_refused_for_dall_e(client):
    response = client.post(
        "/v1/images/generations", json={**PROMPT, "model": "gpt-image-1", "moderation": "low"}
    )
    assert response.status_code == 200, response.text
    store = client.app.state.ctx.service.store
    (operation_id,) = store.all_ids()
    assert store.get(operation_id).params["moderation"] == "low"
    response = client.post("/v1/images/generations", json={**PROMPT, "moderation": "low"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "moderation"
    assert "GPT image models" in error["message"]
    response = client.post(
        "/v1/images/generations", json={**PROMPT, "model": "gpt-image-1", "moderation": "high"}
    )
    assert response.status_code == 400
    assert "low, auto" in response.json()["error"]["message"]


def test_dall_e_2_takes_ten_images_on_v1_and_five_on_azure(client):
    response = client.post("/v1/images/generations", json={**PROMPT, "n": 10, "size": "256x256"})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 10
    response = client.post(
        "/openai/images/generations:submit?api-version=2023-06-01-preview",
        json={**PROMPT, "n": 6},
    )
    assert response.status_code == 400
    assert "from 1 to 5" in response.json()["error"]["message"]
    response = client.post("/v1/images/generations", json={**PROMPT, "n": 11})
    assert response.status_code == 400
    assert "from 1 to 10" in response.json()["error"]["message"]


def test_a_deployment_max_n_holds_on_v1_too(tmp_path):
    from dataclasses import replace

    from tests.conftest import instant

    small = instant("small")
    small = replace(small, profile=replace(small.profile, max_n=3, openai_max_n=3))
    with make_client(tmp_path / "data", deployments={"small": small}) as client:
        response = client.post("/v1/images/generations", json={**PROMPT, "model": "small", "n": 4})
    assert response.status_code == 400
    assert "from 1 to 3" in response.json()["error"]["message"]
