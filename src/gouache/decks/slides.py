"""Reading a slides file (CSV, YAML or JSON) into slides, refusing bad rows before any work.

One row per slide with the fields `title` (required), `bullets`, `description`, `prompt` and
`layout`. In CSV, bullets are separated by newlines or `|` inside the cell; in YAML and JSON they
may also be a list. YAML and JSON files may be a list of slides, or a mapping with `title`,
`subtitle` and `slides` (the deck's title slide). Every error names the row and the field.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gouache.errors import InvalidRequest

FIELDS = ("title", "bullets", "description", "prompt", "layout")
DECK_FIELDS = ("title", "subtitle", "slides")
FORMATS = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
MAX_TITLE = 200
MAX_SLIDES = 200


class SlideInputError(InvalidRequest):
    """A slides file that cannot be used; `where` names the row ("slide 3 (line 4)")."""

    code = "invalid_slides"

    def __init__(self, message: str, *, where: str | None = None, param: str | None = None):
        text = f"{where}: {message}" if where else message
        super().__init__(text, param=param)
        self.where = where


SEED_MAX = 2**31 - 1001  # seeds are the base plus a slide or asset number, kept below 2**31


def check_seed(seed: object) -> None:
    """The seed base of a deck or kit: an integer whose offsets stay valid seeds."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise SlideInputError(
            f"'seed' must be an integer from 0 to {SEED_MAX}; received {seed!r}.", param="seed"
        )


@dataclass(frozen=True)
class Slide:
    number: int  # 1-based, in file order
    where: str  # how errors and reports name this row: "slide 2 (line 3)"
    title: str
    bullets: tuple[str, ...] = ()
    description: str = ""
    prompt: str | None = None  # as written; None means derive one
    layout: str | None = None


@dataclass(frozen=True)
class DeckSpec:
    title: str
    subtitle: str
    slides: tuple[Slide, ...] = field(default_factory=tuple)


def read_slides(path: str | Path) -> DeckSpec:
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SlideInputError(
            f"{path.name}: the slides file must be .csv, .yaml, .yml or .json; "
            f"received {path.suffix or 'no extension'!r}.",
            param="slides",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise SlideInputError(f"{path} does not exist.", param="slides") from exc
    except UnicodeDecodeError as exc:
        raise SlideInputError(f"{path} is not UTF-8 text: {exc}.", param="slides") from exc
    default_title = path.stem.replace("_", " ").replace("-", " ").strip().title() or "Slides"
    if kind == "csv":
        return DeckSpec(default_title, "", _rows_to_slides(_csv_rows(text), csv_lines=True))
    return parse_document(_load(text, kind, path.name), default_title)


def _load(text: str, kind: str, name: str) -> Any:
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SlideInputError(
                f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}.", param="slides"
            ) from exc
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - the decks extra installs it
        raise SlideInputError(
            "Reading YAML needs PyYAML: pip install 'gouache[decks]'.", param="slides"
        ) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SlideInputError(f"{name} is not valid YAML: {exc}", param="slides") from exc


def parse_document(document: Any, default_title: str = "Slides") -> DeckSpec:
    """A list of slides, or `{title, subtitle, slides}`: the parsed YAML/JSON document."""
    title, subtitle = default_title, ""
    if isinstance(document, dict):
        unknown = sorted(set(document) - set(DECK_FIELDS))
        if unknown:
            raise SlideInputError(
                f"unknown top-level field(s) {', '.join(map(repr, unknown))}; allowed: "
                f"{', '.join(DECK_FIELDS)}.",
                param=unknown[0],
            )
        title = _text(document.get("title"), "deck", "title") or default_title
        subtitle = _text(document.get("subtitle"), "deck", "subtitle")
        document = document.get("slides")
    if not isinstance(document, list):
        raise SlideInputError(
            "the file must hold a list of slides, or a mapping with a 'slides' list; received "
            f"{type(document).__name__}.",
            param="slides",
        )
    rows = []
    for index, row in enumerate(document, start=1):
        if not isinstance(row, dict):
            raise SlideInputError(
                f"each slide is a mapping of fields ({', '.join(FIELDS)}); received "
                f"{type(row).__name__}.",
                where=f"slide {index}",
            )
        rows.append(row)
    return DeckSpec(title, subtitle, _rows_to_slides(rows, csv_lines=False))


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise SlideInputError("the CSV file is empty: write a header row with 'title'.")
    header = [name.strip().lower() for name in reader.fieldnames]
    unknown = [name for name in header if name not in FIELDS]
    if unknown:
        raise SlideInputError(
            f"unknown column(s) {', '.join(map(repr, unknown))} in the header (line 1); "
            f"allowed: {', '.join(FIELDS)}.",
            param=unknown[0],
        )
    if "title" not in header:
        raise SlideInputError("the header (line 1) has no 'title' column.", param="title")
    rows = []
    for raw in reader:
        if None in raw:
            raise SlideInputError(
                f"has more cells than the header's {len(header)} columns.",
                where=f"slide {len(rows) + 1} (line {reader.line_num})",
            )
        row = {name: value for name, value in zip(header, raw.values(), strict=True)}
        if not any((value or "").strip() for value in row.values()):
            continue  # blank lines between rows are not slides
        row["__line__"] = reader.line_num
        rows.append(row)
    return rows


def _rows_to_slides(rows: list[dict[str, Any]], *, csv_lines: bool) -> tuple[Slide, ...]:
    if not rows:
        raise SlideInputError("the file has no slides: add at least one row with a title.")
    if len(rows) > MAX_SLIDES:
        raise SlideInputError(f"the file has {len(rows)} slides; at most {MAX_SLIDES} are allowed.")
    slides = []
    for number, row in enumerate(rows, start=1):
        line = row.pop("__line__", None)
        where = f"slide {number} (line {line})" if csv_lines and line else f"slide {number}"
        unknown = sorted(str(key) for key in row if key not in FIELDS)
        if unknown:
            raise SlideInputError(
                f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(FIELDS)}.",
                where=where,
                param=unknown[0],
            )
        title = _text(row.get("title"), where, "title")
        if not title:
            raise SlideInputError(
                "'title' is missing or empty; every slide needs a title.",
                where=where,
                param="title",
            )
        if len(title) > MAX_TITLE:
            raise SlideInputError(
                f"'title' is {len(title)} characters; at most {MAX_TITLE} fit on a slide.",
                where=where,
                param="title",
            )
        slides.append(
            Slide(
                number=number,
                where=where,
                title=title,
                bullets=_bullets(row.get("bullets"), where),
                description=_text(row.get("description"), where, "description"),
                prompt=_text(row.get("prompt"), where, "prompt") or None,
                layout=_text(row.get("layout"), where, "layout") or None,
            )
        )
    return tuple(slides)


def _text(value: Any, where: str, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SlideInputError(
            f"'{name}' must be text; received {type(value).__name__}.", where=where, param=name
        )
    return " ".join(str(value).split())


def _bullets(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        items = [_text(item, where, "bullets") for item in value]
    elif isinstance(value, str):
        items = [part.strip() for line in value.splitlines() for part in line.split("|")]
    else:
        raise SlideInputError(
            f"'bullets' must be text (items separated by newlines or |) or a list; received "
            f"{type(value).__name__}.",
            where=where,
            param="bullets",
        )
    return tuple(" ".join(item.split()) for item in items if item and item.strip())
