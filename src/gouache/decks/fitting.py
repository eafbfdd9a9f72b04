"""Type sizes that fit a box, for the built-in design: a long title or many bullets get a smaller
size instead of running out of their placeholder. Estimated from character counts (average glyph
width about 0.55 em), which is enough to choose among a few sizes without reading font files."""

from __future__ import annotations

import math
from collections.abc import Sequence

EMU_PER_PT = 12700
GLYPH_EM = 0.55  # average advance of a proportional sans-serif glyph, in ems
BOLD_EM = 0.62  # the same in bold, as titles are set
LINE_EM = 1.2
TITLE_SIZES = (36, 32, 28, 24, 20)
BODY_SIZES = (20, 18, 16, 14, 12)


def wrapped_lines(text: str, per_line: int) -> int:
    """Lines a paragraph takes when wrapped at word boundaries, `per_line` characters wide."""
    lines, used = 1, 0
    for word in text.split():
        length = len(word)
        if used and used + 1 + length > per_line:
            lines, used = lines + 1, 0
        if length > per_line:  # a word longer than the line breaks inside itself
            lines += math.ceil(length / per_line) - 1
            length %= per_line
        used = used + 1 + length if used else length
    return lines


def lines_needed(
    texts: Sequence[str], width_pt: float, size_pt: int, indent_pt: float, em: float
) -> int:
    per_line = max(1, int((width_pt - indent_pt) / (size_pt * em)))
    return sum(wrapped_lines(text, per_line) for text in texts)


def fitting_size(
    texts: Sequence[str],
    width_emu: int,
    height_emu: int,
    sizes: Sequence[int],
    *,
    indent_pt: float = 0,
    spacing_pt: float = 0,
    em: float = GLYPH_EM,
    insets_emu: tuple[int, int] = (91440 * 2, 45720 * 2),
) -> int:
    """The largest of `sizes` whose wrapped lines fit the box (less its inner margins,
    `insets_emu` = left + right, top + bottom); the smallest if none does."""
    width_pt = (width_emu - insets_emu[0]) / EMU_PER_PT
    height_pt = (height_emu - insets_emu[1]) / EMU_PER_PT
    for size in sizes:
        lines = lines_needed(texts, width_pt, size, indent_pt, em)
        if lines * size * LINE_EM + spacing_pt * len(texts) <= height_pt:
            return size
    return sizes[-1]
