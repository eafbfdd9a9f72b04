"""Benchmark: image link downloads, from a local folder and from object storage (Azurite).

Runs, in one go and on loopback, each as its own uvicorn process driven by the same keep-alive load
generator (bench/loadgen.py):

- baseline: a bare Starlette app sending the very same PNG file with FileResponse;
- gouache, `storage` = local folder, `links = "stream"`;
- gouache, `storage` = `az://...` on Azurite, `links = "stream"` (gouache reads the blob and sends it);
- gouache, `storage` = `az://...` on Azurite, `links = "redirect"` (the 302 answer only; the bytes
  then come from the storage, whose speed is not gouache's).

Needs Azurite (`npm install --prefix .ci/node azurite s3rver`).
Usage: python bench/image_links.py [--seconds 3] [--size 1024x1024]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from loadgen import run_load  # noqa: E402
from service import HOST, free_port, wait_up  # noqa: E402

from tests.object_servers import azurite, azurite_env, create_container  # noqa: E402


def start_bare(port: int, image: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "bare_file_app:app", "--host", HOST]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "BENCH_IMAGE": str(image)}
    return subprocess.Popen(command, cwd=Path(__file__).parent, env=env)


def start_gouache(port: int, data_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    env.update({"GOUACHE_LOG_LEVEL": "warning", **extra_env})
    command = [sys.executable, "-m", "gouache.cli.main", "serve", "--engine", "instant"]
    command += ["--host", HOST, "--port", str(port), "--data-dir", str(data_dir)]
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


def make_image_link(port: int, size: str) -> str:
    response = httpx.post(
        f"http://{HOST}:{port}/v1/images/generations",
        json={"model": "dall-e-2", "prompt": "bench", "size": size},
        timeout=60,
    )
    response.raise_for_status()
    url = response.json()["data"][0]["url"]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def measure(ports: dict[str, int], links: dict[str, str], seconds: float) -> list[str]:
    rows = [
        "| image link | concurrency | bare FileResponse, req/s | gouache, req/s | ratio |",
        "|---|---|---|---|---|",
    ]
    for concurrency in (1, 8):
        bare = await run_load(
            HOST, ports["bare"], "GET", "/image.png", concurrency=concurrency, seconds=seconds
        )
        assert set(bare.statuses) == {200}, bare.statuses
        for label, expected in (
            ("local folder, stream", 200),
            ("Azurite, stream", 200),
            ("Azurite, redirect (302 only)", 302),
        ):
            ours = await run_load(
                HOST, ports[label], "GET", links[label], concurrency=concurrency, seconds=seconds
            )
            assert set(ours.statuses) == {expected}, (label, ours.statuses)
            rows.append(
                f"| {label} | {concurrency} | {bare.rate:,.0f} | {ours.rate:,.0f} "
                f"| {ours.rate / bare.rate:.2f} |"
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput run")
    parser.add_argument("--size", default="1024x1024", help="image size to serve")
    args = parser.parse_args()
    labels = ("local folder, stream", "Azurite, stream", "Azurite, redirect (302 only)")
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp, azurite(Path(tmp) / "azurite") as blob:
        create_container(blob, "bench")
        storage = {"GOUACHE_STORAGE": "az://bench/images", **azurite_env(blob)}
        envs = {
            labels[0]: {},
            labels[1]: storage,
            labels[2]: {**storage, "GOUACHE_LINKS": "redirect"},
        }
        ports = {label: free_port() for label in labels}
        try:
            for label in labels:
                processes.append(
                    start_gouache(ports[label], Path(tmp) / f"data-{ports[label]}", envs[label])
                )
            for label in labels:
                wait_up(f"http://{HOST}:{ports[label]}/readyz")
            links = {label: make_image_link(ports[label], args.size) for label in labels}
            local_link = links[labels[0]]
            _, _, operation_id, name = local_link.split("?")[0].split("/")
            image = Path(tmp) / f"data-{ports[labels[0]]}" / "images" / operation_id / name
            image_bytes = image.stat().st_size
            ports["bare"] = free_port()
            processes.append(start_bare(ports["bare"], image))
            wait_up(f"http://{HOST}:{ports['bare']}/image.png")
            time.sleep(0.5)
            rows = asyncio.run(measure(ports, links, args.seconds))
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"image: {args.size} PNG from the instant engine, {image_bytes:,} bytes")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
