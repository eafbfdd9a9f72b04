"""What streaming and edits cost through the whole service, against a plain generation.

    python bench/streaming.py      # prints a markdown table

A real `gouache serve` (built-in engine) on loopback; one client sends requests one after another
to a gpt-image-1 deployment at 1024x1024. The baseline is a plain synchronous generation
(`/v1/images/generations`, b64_json) measured in the same run, in alternating rounds, so the ratios
hold on a shared, noisy machine. For streams, "first event" is the time until the first event
arrived (a preview when previews were asked for). The medians are over ROUNDS rounds.

A second table takes the service away: the built-in engine in this process, the same requests
with `partial_images` 0 and 3 (previews handed to a sink that keeps them, as the job layer's
does before encoding), alternating, so the cost of the illustrator reporting its layers and the
engine picking them is measured on its own, per prompt.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.server import start_server  # noqa: E402

# --- knobs -------------------------------------------------------------------------------------
ROUNDS = 15
PROMPTS = [
    "a red mug on a desk",
    "a lighthouse at dusk",
    "a wooden shelf in a bright room",
    "three cats and a dog in a park in the rain",  # several figures: three layers to preview
]
# -----------------------------------------------------------------------------------------------


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 1024), (235, 235, 235)).save(buffer, "PNG")
    return buffer.getvalue()


def plain(client: httpx.Client, prompt: str) -> tuple[float, float | None]:
    started = time.perf_counter()
    response = client.post(
        "/v1/images/generations", json={"model": "gpt-image-1", "prompt": prompt, "quality": "low"}
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - started, None


def streamed(partial_images: int):
    def run(client: httpx.Client, prompt: str) -> tuple[float, float | None]:
        body = {
            "model": "gpt-image-1",
            "prompt": prompt,
            "quality": "low",
            "stream": True,
            "partial_images": partial_images,
        }
        started = time.perf_counter()
        first = None
        with client.stream("POST", "/v1/images/generations", json=body) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: ") and first is None:
                    first = time.perf_counter() - started
        return time.perf_counter() - started, first

    return run


def edit(client: httpx.Client, prompt: str, image: bytes = photo()) -> tuple[float, float | None]:
    started = time.perf_counter()
    response = client.post(
        "/v1/images/edits",
        files={"image": ("photo.png", image, "image/png")},
        data={"model": "gpt-image-1", "prompt": prompt, "quality": "low"},
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - started, None


CASES = {
    "generation, JSON (baseline)": plain,
    "generation, stream, partial_images=0": streamed(0),
    "generation, stream, partial_images=3": streamed(3),
    "edit, multipart 1024x1024 PNG": edit,
}


def engine_table() -> None:
    """The built-in engine alone, partial_images 0 against 3, each prompt in alternating rounds."""
    from gouache.engines.base import ImageRequest
    from gouache.engines.builtin import BuiltinEngine

    engine = BuiltinEngine()
    engine.setup()
    print("| prompt (1024x1024, engine only) | previews | partial_images=0 ms | =3 ms | × |")
    print("|---|---:|---:|---:|---:|")
    for prompt in PROMPTS:
        spent: dict[int, list[float]] = {0: [], 3: []}
        kept: list = []
        shown = 0
        for round_ in range(ROUNDS):
            for partial in (0, 3) if round_ % 2 else (3, 0):
                request = ImageRequest(
                    prompt=prompt, n=1, size="1024x1024", seed=round_, partial_images=partial
                )
                kept.clear()
                started = time.perf_counter()
                engine.run_batch([request], kept.append)
                spent[partial].append(time.perf_counter() - started)
                shown = len(kept) if partial else shown
        without, with_ = (statistics.median(spent[k]) * 1000 for k in (0, 3))
        print(f"| {prompt} | {shown} | {without:.0f} | {with_:.0f} | {with_ / without:.2f} |")


def main() -> None:
    times: dict[str, list[float]] = {name: [] for name in CASES}
    firsts: dict[str, list[float]] = {name: [] for name in CASES}
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_server(Path(tmp)) as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        for case in CASES.values():  # warm-up
            case(client, PROMPTS[0])
        for round_ in range(ROUNDS):
            prompt = PROMPTS[round_ % len(PROMPTS)]
            for name, case in CASES.items():
                total, first = case(client, prompt)
                times[name].append(total)
                if first is not None:
                    firsts[name].append(first)
    base = statistics.median(times["generation, JSON (baseline)"])
    print("| request | median ms | × baseline | first event ms |")
    print("|---|---:|---:|---:|")
    for name in CASES:
        median = statistics.median(times[name])
        first = f"{statistics.median(firsts[name]) * 1000:.0f}" if firsts[name] else "–"
        print(f"| {name} | {median * 1000:.0f} | {median / base:.2f} | {first} |")
    print()
    engine_table()


if __name__ == "__main__":
    main()
