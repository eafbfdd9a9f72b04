"""gouache's built-in image engine: understands a prompt and draws a flat vector illustration.

Offline and CPU-only: a pretrained sentence encoder distilled to static embeddings (encoder.py)
matches prompt words to thousands of glyphs from icon and emoji fonts installed from PyPI
(concepts.py, fonts.py); colours, counts, sizes, positions, relations, settings and styles are
read by parse.py; scenes.py, compose.py, figures.py and designs.py compose the picture, and
render.py rasterises it anti-aliased at the requested size. Imports nothing from the rest of
gouache, so it can be used, tested and benchmarked on its own.
"""

from __future__ import annotations

from .illustrator import Backdrop, Drawing, Illustrator, names_a_place

__all__ = ["Backdrop", "Drawing", "Illustrator", "names_a_place"]
