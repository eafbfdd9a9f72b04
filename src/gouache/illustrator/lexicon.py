"""The word lists the prompt reader works from, loaded from data files (data/words.json and
data/lexicon.json) so that a new word, alias, language, figure or room is a data change.

words.json holds the closed classes of English (counts, sizes, styles, settings, relations,
positions, stop words). lexicon.json holds what maps open words onto drawings: aliases that pin a
phrase to a catalogue drawing ("pie chart", "water bottle"), the words of other languages with
their English, people and their props (figure recipes), rooms (scene templates), chart kinds and
the words of negation. This module imports nothing else of the illustrator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


_WORDS = _load("words.json")
_LEXICON = _load("lexicon.json")

COUNTS: dict[str, int] = _WORDS["counts"]
COUNT_FILLERS: set[str] = set(_WORDS["count_fillers"])
SIZES: dict[str, float] = _WORDS["sizes"]
STYLE_WORDS: dict[str, str] = _WORDS["style_words"]
SETTINGS: dict[str, str] = _WORDS["settings"]
SLIDE_WORDS: set[str] = set(_WORDS["slide_words"])
BRAND_WORDS: set[str] = set(_WORDS["brand_words"])
PRODUCT_WORDS: set[str] = set(_WORDS["product_words"])
BACKGROUND_NOUNS: set[str] = set(_WORDS["background_nouns"])
SURFACES: set[str] = set(_WORDS["surfaces"])
RELATIONS: list[tuple[str, str]] = [(a, b) for a, b in _WORDS["relations"]]
POSITIONS: list[tuple[str, str]] = [(a, b) for a, b in _WORDS["positions"]]
POSITION_LEADS: set[str] = set(_WORDS["position_leads"])
STOPWORDS: set[str] = set(_WORDS["stopwords"])
SETTING_PROBES: dict[str, str] = _WORDS["setting_probes"]
OUTDOOR_PROBES: list[str] = _WORDS["outdoor_probes"]

# phrase -> exact catalogue name: the drawing a phrase means, ahead of matching by meaning.
ALIASES: dict[str, str] = _LEXICON["aliases"]
# word of another language -> English word(s); a phrase of several words may be a key.
FOREIGN_TABLES: dict[str, dict[str, str]] = _LEXICON["foreign"]
FOREIGN: dict[str, str] = {
    word: english for table in _LEXICON["foreign"].values() for word, english in table.items()
}
FOREIGN_LANGUAGES: dict[str, str] = {
    word: language for language, table in _LEXICON["foreign"].items() for word in table
}
# person word -> {"base": catalogue name of the figure, "prop": what it holds or wears, or ""}
FIGURES: dict[str, dict[str, str]] = _LEXICON["figures"]
# room word -> template name; template name -> how the room is drawn
ROOM_WORDS: dict[str, str] = _LEXICON["room_words"]
ROOMS: dict[str, dict[str, Any]] = _LEXICON["rooms"]
# chart phrase -> kind (bar, pie, line, map); trend words -> +1 / -1
CHART_WORDS: dict[str, str] = _LEXICON["chart_words"]
TRENDS: dict[str, int] = _LEXICON["trends"]
NEGATIONS: set[str] = set(_LEXICON["negations"])
# vehicle or board -> the drawing of someone riding it ("a person riding a bicycle")
RIDERS: dict[str, str] = _LEXICON["riders"]
# theme -> drawings for an icon set ("a set of business icons")
ICON_SETS: dict[str, list[str]] = _LEXICON["icon_sets"]
# drawing name -> the setting it is drawn in when the prompt names none ("palm tree" -> beach)
HOMES: dict[str, str] = _LEXICON["homes"]
# aliases whose drawing is a symbol of the word, not the thing ("bakery" -> bread): the revised
# prompt names the drawing, not the word
SYMBOLS: set[str] = set(_LEXICON["symbols"])
# furniture and appliances: drawing name -> the room they are drawn in when no place is named
INDOOR_THINGS: dict[str, str] = _LEXICON["indoor_things"]
# things worn, and where: "a dog in sunglasses" wears them on its face
WEARABLES: dict[str, str] = _LEXICON["wearables"]
# weather words -> "rain" or "snow", drawn over the scene
WEATHER: dict[str, str] = _LEXICON["weather"]
# drawings that hang from the ceiling on a cord (pendant lights)
HANGING: set[str] = set(_LEXICON["hanging"])
# drawing name -> the colour it has when the prompt names none (plants are green)
NATURAL_COLOURS: dict[str, str] = _LEXICON["natural_colours"]
# drawing name -> what the revised prompt calls it ("automobile" -> car)
DISPLAY_NAMES: dict[str, str] = _LEXICON["display_names"]
# the colours "pastel" gives things, one per instance ("three pastel mugs")
PASTELS: list[str] = _LEXICON["pastels"]
# Words that put text on a design ("called", "named", "says") and the sale words a banner shows.
NAMING_WORDS: set[str] = set(_LEXICON["naming_words"])
SALE_WORDS: set[str] = set(_LEXICON["sale_words"])
# Modifiers that never name the thing itself (materials, finishes, moods): the head noun decides.
MODIFIERS: set[str] = set(_LEXICON["modifiers"])
