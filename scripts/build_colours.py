"""Extract the colour-name table the illustrator reads (src/gouache/illustrator/data/colours.json).

Why a committed file: matplotlib ships the XKCD colour-survey names (949, CC0) and the CSS4 names
(148), but is far too heavy to be a runtime dependency of an image service. Run once, in any venv
that has matplotlib (e.g. the distillation venv): `python scripts/build_colours.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "gouache"
    / "illustrator"
    / "data"
    / "colours.json"
)


def main() -> None:
    import matplotlib
    from matplotlib import _color_data

    xkcd = {name.removeprefix("xkcd:"): value for name, value in _color_data.XKCD_COLORS.items()}
    css = dict(_color_data.CSS4_COLORS)
    table = {
        "about": (
            f"Colour names from matplotlib {matplotlib.__version__}: XKCD colour survey "
            "(Randall Munroe, CC0-1.0) and CSS4 named colours (W3C). CSS wins where both name "
            "a colour; xkcd spellings with '/' and apostrophes are kept as aliases."
        ),
        "xkcd": xkcd,
        "css": css,
    }
    OUT.write_text(json.dumps(table, indent=0, sort_keys=True))
    print(len(xkcd), "xkcd +", len(css), "css names ->", OUT)


if __name__ == "__main__":
    main()
