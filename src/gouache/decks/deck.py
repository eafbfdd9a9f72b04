"""`make_deck`: a slides file in, a .pptx with one generated picture per slide out.

Everything is checked before the first picture is asked for (rows, layouts, prompt lengths). A
picture that cannot be made does not stop the deck: its slide gets a stand-in and the result says
which slide and why; the next run with the same arguments makes only what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gouache.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from gouache.decks.layouts import (
    default_layouts,
    find_layout,
    has_text_besides,
    open_deck,
    picture_area,
)
from gouache.decks.palette import parse_palette
from gouache.decks.pictures import PictureRequest, PictureStore, make_all
from gouache.decks.pptx_writer import Filled, PlannedSlide, write_deck
from gouache.decks.prompts import DEFAULT_STYLE, slide_prompt
from gouache.decks.slides import (
    DeckSpec,
    SlideInputError,
    check_seed,
    parse_document,
    read_slides,
)
from gouache.decks.stand_in import draw_stand_in
from gouache.decks.target import Target
from gouache.errors import GouacheError

DEFAULT_SEED = 1
Progress = Callable[[int, str], None]  # (pictures done, what is being made)


@dataclass(frozen=True)
class SlideReport:
    number: int
    title: str
    where: str
    layout: str
    prompt: str
    status: str  # "made" | "reused" | "failed"
    image: Path  # the picture on the slide (a stand-in when failed)
    error: str | None = None


@dataclass(frozen=True)
class DeckResult:
    """What `make_deck` wrote: the deck, the pictures folder beside it, and each slide's fate."""

    path: Path
    images_dir: Path
    slides: list[SlideReport] = field(default_factory=list)

    @property
    def failed(self) -> list[SlideReport]:
        return [report for report in self.slides if report.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def images_dir_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}-images")


def make_deck(
    slides: str | os.PathLike[str] | Sequence[Mapping[str, Any]] | Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    style: str = DEFAULT_STYLE,
    palette: str | Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
    title: str | None = None,
    subtitle: str | None = None,
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
) -> DeckResult:
    """Write a PowerPoint deck from `slides` (a CSV/YAML/JSON path, a list of rows, or a mapping
    with `title`, `subtitle` and `slides`) to `out`, its pictures in `<out stem>-images/`.

    Pictures are made like `generate_images` makes them (in-process on `engine` by default, or on
    `endpoint`), one per slide, with one `style` phrase, one `palette` and seeds `seed + slide
    number`; up to `concurrency` at once (default: 4 against an endpoint, 1 in-process, where
    the engine already uses the CPU). Raises `SlideInputError` (an `InvalidRequest`) for bad
    input before any picture is made; a picture that fails is reported in the result, not
    raised."""
    out = Path(out)
    if out.suffix.lower() != ".pptx":
        raise SlideInputError(f"--out must name a .pptx file; received {str(out)!r}.", param="out")
    check_seed(seed)
    spec = _spec(slides)
    spec = DeckSpec(
        title or spec.title, subtitle if subtitle is not None else spec.subtitle, spec.slides
    )
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
    workers = target.workers(concurrency)
    presentation, builtin = open_deck(template, colours)
    planned = _plan(presentation, builtin, spec, style, colours, seed, target)

    store = PictureStore(images_dir_for(out), target)
    requests = {plan.slide.number: _request(plan) for plan in planned}
    labels = {
        _request(plan).name: f"slide {plan.slide.number}: {plan.slide.title}" for plan in planned
    }
    outcomes = make_all(
        store, list(requests.values()), labels, concurrency=workers, progress=progress
    )
    filled: dict[int, Filled] = {}
    reports = []
    for plan in planned:
        number = plan.slide.number
        request = requests[number]
        outcome = outcomes[request.name]
        if isinstance(outcome, GouacheError):
            error = str(outcome)
            stand_in = store.folder / f"{request.name}-not-made.png"
            filled[number] = Filled(
                draw_stand_in(stand_in, plan.area.aspect, error, colours), None, error
            )
            status = "failed"
        else:
            filled[number] = Filled(outcome.path, outcome)
            status, error = ("reused" if outcome.reused else "made"), None
        reports.append(
            SlideReport(
                number,
                plan.slide.title,
                plan.slide.where,
                plan.layout.name,
                plan.prompt,
                status,
                filled[number].image,
                error,
            )
        )
    if progress is not None:
        progress(len(planned), "writing the deck")
    write_deck(presentation, spec, planned, filled, out, builtin=builtin)
    store.prune({store.key(request) for request in requests.values()})
    for report in reports:  # a stand-in from an earlier run that this run replaced
        stale = store.folder / f"slide-{report.number:02d}-not-made.png"
        if report.status != "failed" and stale.exists():
            stale.unlink()
    return DeckResult(path=out, images_dir=store.folder, slides=reports)


def _spec(slides: Any) -> DeckSpec:
    if isinstance(slides, DeckSpec):
        return slides
    if isinstance(slides, str | os.PathLike):
        return read_slides(slides)
    if isinstance(slides, Mapping):
        return parse_document(dict(slides))
    return parse_document([dict(row) for row in slides])


def _plan(presentation, builtin, spec, style, palette, seed, target) -> list[PlannedSlide]:
    """Layouts, picture areas and prompts for every slide: all errors before any picture."""
    defaults = default_layouts(presentation, builtin)
    planned = []
    for slide in spec.slides:
        if slide.layout:
            layout = find_layout(presentation, slide.layout, slide.where)
        else:
            layout = defaults[(slide.number - 1) % len(defaults)]
        area = picture_area(layout)
        if area is None:
            raise SlideInputError(
                f"layout {layout.name!r} has no picture or content placeholder to put the "
                "picture in; choose a layout that has one.",
                where=slide.where,
                param="layout",
            )
        has_text = bool(slide.bullets or slide.description)
        if not area.is_picture_placeholder and has_text and not has_text_besides(layout, area.idx):
            area = area.shared_with_text()
        prompt = slide_prompt(slide, style, palette, target.prompt_max, target.deployment_name)
        planned.append(PlannedSlide(slide, layout, area, prompt, seed + slide.number))
    return planned


def _request(plan: PlannedSlide) -> PictureRequest:
    return PictureRequest(
        name=f"slide-{plan.slide.number:02d}",
        prompt=plan.prompt,
        aspect=plan.area.aspect,
        seed=plan.seed,
    )
