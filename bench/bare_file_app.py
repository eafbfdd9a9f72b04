"""The baseline for bench/image_links.py: a bare Starlette app that sends one file with
FileResponse (what gouache's link route did before it grew a storage interface), served by the same
uvicorn as gouache. The file is named by BENCH_IMAGE."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

IMAGE = os.environ["BENCH_IMAGE"]


async def image(_request: Request) -> FileResponse:
    return FileResponse(IMAGE, media_type="image/png")


app = Starlette(routes=[Route("/image.png", image, methods=["GET"])])
