"""Prompts for slide pictures: written in the slides file, or derived from the title and the
description; either way finished with the deck's one style phrase and palette, so every picture
of a deck is asked for in the same look."""

from __future__ import annotations

import re

from gouache.decks.palette import Palette
from gouache.decks.slides import Slide, SlideInputError

DEFAULT_STYLE = "flat style"
SUBJECT_MAX = 400  # a derived subject is kept short; the slide itself carries the text
SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def derive_subject(slide: Slide) -> str:
    """What the picture shows when the row has no prompt: the description's first sentence (the
    part that usually names the thing; a title is often a product name an engine cannot know),
    else the title."""
    first = SENTENCE_END.split(slide.description, maxsplit=1)[0].strip().rstrip(" .")
    subject = first or slide.title.rstrip(" .:;")
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX].rsplit(" ", 1)[0]
    return subject


def finish(subject: str, style: str, palette: Palette) -> str:
    """`subject, style, in #a, #b and #c`: the one look shared by every picture."""
    parts = [subject.strip().rstrip(" ,.")]
    if style.strip():
        parts.append(style.strip())
    return ", ".join(parts) + ", " + palette.phrase()


def slide_prompt(slide: Slide, style: str, palette: Palette, prompt_max: int, deployment: str):
    """The prompt sent for `slide`; raises `SlideInputError` naming the row when it is too long."""
    subject = slide.prompt if slide.prompt is not None else derive_subject(slide)
    prompt = finish(subject, style, palette)
    if len(prompt) > prompt_max:
        extra = len(prompt) - len(subject)
        raise SlideInputError(
            f"'prompt' is {len(subject)} characters and the style and palette add {extra}: "
            f"{len(prompt)} in all; deployment {deployment!r} takes at most {prompt_max}. "
            f"Shorten the prompt to at most {max(prompt_max - extra, 0)} characters.",
            where=slide.where,
            param="prompt",
        )
    return prompt
