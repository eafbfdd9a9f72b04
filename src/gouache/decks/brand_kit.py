"""`make_brand_kit`: first drafts of a campaign's brand assets, all from one seed base.

    logos/logo-1.png .. logo-3.png     the name set in type beside a generated mark (1600x600)
    social/link-preview-1200x630.png   ... square-1080x1080, story-1080x1920, header-1500x500
    slides/background-1.png, -2.png    16:9 (1920x1080), calm where a title goes
    palette.json, palette.css          the palette, as data and as CSS custom properties
    board.png                          everything on one page
    .pictures/                         the generated pictures and their manifest (reused on re-runs)

Every picture's prompt names the same style and palette, and its seed is the seed base plus a fixed
offset per asset, so the same arguments give the same kit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from gouache.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from gouache.decks.board import draw_board
from gouache.decks.brand_art import logo_lockup, name_on_picture
from gouache.decks.palette import Palette, parse_palette
from gouache.decks.pictures import PictureRequest, PictureStore, make_all
from gouache.decks.prompts import DEFAULT_STYLE, finish
from gouache.decks.slides import SlideInputError, check_seed
from gouache.decks.stand_in import draw_stand_in
from gouache.decks.target import Target
from gouache.errors import GouacheError

SOCIAL_SIZES = {
    "link-preview": (1200, 630),
    "square": (1080, 1080),
    "story": (1080, 1920),
    "header": (1500, 500),
}
SLIDE_SIZE = (1920, 1080)
LOGO_DRAFTS = 3
SLIDE_BACKGROUNDS = 2
NAME_MAX = 60
Progress = Callable[[int, str], None]


def asset_count() -> int:
    """How many pictures a kit asks for (for a progress bar)."""
    return LOGO_DRAFTS + len(SOCIAL_SIZES) + SLIDE_BACKGROUNDS


@dataclass(frozen=True)
class BrandKit:
    """What `make_brand_kit` wrote; `failed` maps an asset to why its picture was not made (it
    then holds a stand-in, and a re-run makes only those)."""

    folder: Path
    palette: Palette
    logos: list[Path] = field(default_factory=list)
    social: dict[str, Path] = field(default_factory=dict)
    slides: list[Path] = field(default_factory=list)
    palette_json: Path | None = None
    palette_css: Path | None = None
    board: Path | None = None
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        extra = [self.palette_json, self.palette_css, self.board]
        return [*self.logos, *self.social.values(), *self.slides, *(p for p in extra if p)]


@dataclass(frozen=True)
class _Asset:
    name: str
    request: PictureRequest


def _assets(name: str, description: str, style: str, palette: Palette, seed: int) -> list[_Asset]:
    subject = description.strip().rstrip(".") or name
    assets = [
        _Asset(
            f"mark-{i}",
            PictureRequest(
                name=f"mark-{i}",
                prompt=finish(
                    f"a simple icon of {subject} on a plain white background", style, palette
                ),
                aspect=1.0,
                seed=seed + i,
            ),
        )
        for i in range(1, LOGO_DRAFTS + 1)
    ]
    for offset, (kind, pixels) in enumerate(SOCIAL_SIZES.items(), start=10):
        assets.append(
            _Asset(
                kind,
                PictureRequest(
                    name=kind,
                    prompt=finish(f"a banner for {subject} with space for text", style, palette),
                    aspect=pixels[0] / pixels[1],
                    seed=seed + offset,
                    pixels=pixels,
                ),
            )
        )
    for i in range(1, SLIDE_BACKGROUNDS + 1):
        assets.append(
            _Asset(
                f"slide-background-{i}",
                PictureRequest(
                    name=f"slide-background-{i}",
                    prompt=finish("a slide background with space for a title", style, palette),
                    aspect=SLIDE_SIZE[0] / SLIDE_SIZE[1],
                    seed=seed + 20 + i,
                    pixels=SLIDE_SIZE,
                ),
            )
        )
    return assets


def make_brand_kit(
    name: str,
    out: str | os.PathLike[str],
    *,
    description: str = "",
    palette: str | Sequence[str] | None = None,
    style: str = DEFAULT_STYLE,
    seed: int = 1,
    endpoint: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    api_version: str | None = None,
    engine: str = "builtin",
    local: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    user: str | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
) -> BrandKit:
    """Write a brand kit for `name` into the folder `out` and return what was written.

    Pictures are made like `generate_images` makes them (in-process by default, or on `endpoint`).
    Raises `InvalidRequest` for bad input before any picture is made."""
    name = " ".join(str(name or "").split())
    if not name:
        raise SlideInputError(
            'The name is empty: give the brand\'s name, e.g. "Northwind".', param="name"
        )
    if len(name) > NAME_MAX:
        raise SlideInputError(
            f"The name is {len(name)} characters; at most {NAME_MAX} fit a logo.", param="name"
        )
    check_seed(seed)
    description = " ".join(description.split())
    colours = parse_palette(palette, seed=seed)
    target = Target.resolve(
        environ,
        endpoint=endpoint,
        api_key=api_key,
        deployment=deployment,
        api_version=api_version,
        engine=engine,
        local=local,
        timeout=timeout,
        retries=retries,
        user=user,
    )
    assets = _assets(name, description, style, colours, seed)
    for asset in assets:
        if len(asset.request.prompt) > target.prompt_max:
            raise SlideInputError(
                f"The {asset.name} prompt is {len(asset.request.prompt)} characters with this "
                f"description and style; deployment {target.deployment_name!r} takes at most "
                f"{target.prompt_max}. Shorten --description or --style.",
                param="description",
            )
    workers = target.workers(concurrency)
    folder = Path(out)
    store = PictureStore(folder / ".pictures", target)
    requests = [asset.request for asset in assets]
    outcomes = make_all(
        store, requests, {r.name: r.name for r in requests}, concurrency=workers, progress=progress
    )
    pictures: dict[str, Path] = {}
    failed: dict[str, str] = {}
    for request in requests:
        outcome = outcomes[request.name]
        stand_in = store.folder / f"{request.name}-not-made.png"
        if isinstance(outcome, GouacheError):
            failed[request.name] = str(outcome)
            pictures[request.name] = draw_stand_in(stand_in, request.aspect, str(outcome), colours)
        else:
            pictures[request.name] = outcome.path
            stand_in.unlink(missing_ok=True)  # left by an earlier run that failed here
    if progress is not None:
        progress(len(assets), "composing")
    store.prune({store.key(asset.request) for asset in assets})
    return _compose(folder, name, description, colours, pictures, failed)


def _compose(
    folder: Path,
    name: str,
    description: str,
    palette: Palette,
    pictures: dict[str, Path],
    failed: dict[str, str],
) -> BrandKit:
    logos = []
    for i in range(1, LOGO_DRAFTS + 1):
        with Image.open(pictures[f"mark-{i}"]) as mark:
            logos.append(
                _save(logo_lockup(mark, name, palette, i - 1), folder / "logos" / f"logo-{i}.png")
            )
    social = {}
    for kind, (width, height) in SOCIAL_SIZES.items():
        with Image.open(pictures[kind]) as picture:
            fitted = picture.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
            social[kind] = _save(
                name_on_picture(fitted, name, palette),
                folder / "social" / f"{kind}-{width}x{height}.png",
            )
    slides = []
    for i in range(1, SLIDE_BACKGROUNDS + 1):
        with Image.open(pictures[f"slide-background-{i}"]) as picture:
            fitted = picture.convert("RGB").resize(SLIDE_SIZE, Image.Resampling.LANCZOS)
            slides.append(_save(fitted, folder / "slides" / f"background-{i}.png"))
    palette_json = folder / "palette.json"
    palette_json.write_text(palette.to_json(name), encoding="utf-8")
    palette_css = folder / "palette.css"
    palette_css.write_text(palette.to_css(name), encoding="utf-8")
    board = draw_board(
        name, description, palette, logos, list(social.values()), slides, folder / "board.png"
    )
    return BrandKit(
        folder=folder,
        palette=palette,
        logos=logos,
        social=social,
        slides=slides,
        palette_json=palette_json,
        palette_css=palette_css,
        board=board,
        failed=failed,
    )


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    image.save(temp, format="PNG")
    os.replace(temp, path)
    return path
