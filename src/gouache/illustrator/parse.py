"""From prompt text to a plan: which things, how many, how big, where, in what colours and setting.

A prompt is read left to right as a sequence of small phrases. Function words of a closed class
(counts, sizes, positions, relations, styles, settings, colours) are recognised from word lists;
everything else accumulates into noun chunks ("running shoe"), which are matched to drawable
things by meaning with the text encoder (concepts.py). Colours and counts seen before a noun attach
to it, colours after "in"/"with" become the palette. Whatever is not understood is left out of
the plan: a prompt never fails, it only gets a more generic picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from . import colours
from .colours import RGB
from .concepts import Concept, ConceptIndex, echoes, shared_index, singular
from .lexicon import (
    ALIASES,
    BACKGROUND_NOUNS,
    BRAND_WORDS,
    CHART_WORDS,
    COUNT_FILLERS,
    COUNTS,
    FIGURES,
    HOMES,
    INDOOR_THINGS,
    MODIFIERS,
    NEGATIONS,
    OUTDOOR_PROBES,
    PASTELS,
    POSITION_LEADS,
    POSITIONS,
    PRODUCT_WORDS,
    RELATIONS,
    RIDERS,
    ROOM_WORDS,
    SETTING_PROBES,
    SETTINGS,
    SIZES,
    SLIDE_WORDS,
    STOPWORDS,
    STYLE_WORDS,
    SURFACES,
    TRENDS,
    WEARABLES,
    WEATHER,
)
from .loading import filled_once
from .prepare import prepare

TIMES = {"sunrise", "sunset", "night"}
# Setting words that name the ground rather than the whole place: "a green lawn" colours the grass.
GROUND_WORDS = {"lawn", "lawns", "meadow", "field", "hills", "valley", "countryside"}
STYLES = ("flat", "line", "pastel", "neon", "retro", "monochrome", "gouache")
MAX_SUBJECTS = 6
MAX_SUBJECTS = 6


@dataclass
class Subject:
    """One kind of thing to draw, possibly several times."""

    phrase: str
    concept: Concept
    count: int = 1
    colours: list[RGB] = field(default_factory=list)
    size: float = 1.0
    position: str | None = None
    relation: str | None = None  # how this subject stands to `anchor`: beside, above, on, ...
    anchor: int | None = None
    # Near-tie drawings of the same thing (concept first): each seed draws one of them.
    alternatives: tuple[Concept, ...] = ()
    # A person drawn as a figure with what they hold ("hand") or wear ("head").
    prop: Concept | None = None
    prop_at: str = "hand"
    figure: bool = False
    noun: str = ""  # what to call it when a pinned drawing's name says less ("coffee mug")


@dataclass
class Plan:
    """Everything understood about a prompt; the rest of the illustrator only reads this."""

    prompt: str
    subjects: list[Subject] = field(default_factory=list)
    setting: str | None = None  # a place: sky, ocean, beach, forest, city, space, office...
    # The colours stated for parts of the place, by setting: "a blue sky" -> {"sky": blue}.
    setting_colours: dict[str, RGB] = field(default_factory=dict)
    time: str = "day"  # day | sunrise | sunset | night
    pattern: str | None = None
    surface: str | None = None
    surface_concept: Concept | None = None
    background: RGB | None = None
    palette: list[RGB] = field(default_factory=list)
    style: str = "flat"
    style_given: bool = False
    purpose: str = "scene"  # scene | product | slide | brand | pattern | abstract | chart
    unknown: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # words to set in type, as the user wrote them
    chart: str | None = None  # bar | pie | line | map
    trend: int = 1  # a chart rising (+1) or falling (-1)
    slices: int = 0  # pie slices asked for
    room: str | None = None  # an interior template of lexicon.json ("kitchen", "cafe", ...)
    excluded: list[str] = field(default_factory=list)  # things the prompt says are absent
    weather: str | None = None  # rain | snow, falling over the scene
    notes: list[str] = field(default_factory=list)  # how the prompt was read (languages, emoji)


TOKEN_RE = re.compile(r"#[0-9a-f]{6}\b|#[0-9a-f]{3}\b|[a-z0-9]+(?:'[a-z]+)?|[,;.!?:]")


def tokenize(prompt: str) -> list[str]:
    text = prompt.lower().replace("&", " and ").replace("colour", "color")
    text = text.replace("color", "colour")
    return TOKEN_RE.findall(text)


def _match_phrase(tokens: list[str], i: int, table: list[tuple[str, str]]) -> tuple[str, int]:
    for phrase, value in table:
        words = phrase.split()
        if tokens[i : i + len(words)] == words:
            return value, len(words)
    return "", 0


def _match_colour(tokens: list[str], i: int) -> tuple[RGB | None, int]:
    """Longest colour phrase starting at tokens[i] (up to three words, e.g. "light sky blue")."""
    for length in (3, 2, 1):
        if i + length > len(tokens):
            continue
        words = tokens[i : i + length]
        if any(not w[0].isalnum() and not w.startswith("#") for w in words):
            continue
        rgb = colours.lookup(" ".join(words), fuzzy=length == 1)
        if rgb is not None:
            return rgb, length
    return None, 0


class _Reader:
    """Walks the token list once, building the plan."""

    def __init__(self, prompt: str, index: ConceptIndex) -> None:
        self.plan = Plan(prompt=prompt)
        self.index = index
        self.tokens = tokenize(prompt)
        self.chunk: list[str] = []
        self.count: int | None = None
        self.size = 1.0
        self.pending_colours: list[RGB] = []
        self.relation: str | None = None
        self.in_palette_context = False
        self.trailing_colours = 0
        self.last_position_for: int | None = None
        self.negated = False

    # -- helpers ---------------------------------------------------------------------------
    def set_setting(self, word: str) -> None:
        value = SETTINGS.get(word) or word
        plan = self.plan
        if word in ROOM_WORDS and word != "room" and plan.room is None:
            plan.room = ROOM_WORDS[word]  # "a bright office": drawn as that room
        if value in TIMES:
            plan.time = value
        elif plan.setting is None or plan.setting in ("sky", "gradient", "studio"):
            plan.setting = value
            if value == "pattern":
                plan.pattern = word
        elif (
            value == "pattern" and plan.setting == "pattern" and word not in ("pattern", "patterns")
        ):
            plan.pattern = word  # "a pattern with stripes": the kind of pattern

    def _is_content(self, i: int) -> bool:
        if i >= len(self.tokens):
            return False
        word = self.tokens[i]
        return (
            word[0].isalpha()
            and word not in STOPWORDS
            and word not in COUNTS
            and word not in SIZES
            and word != "and"
            and not any(word == p.split()[0] for p, _ in RELATIONS)
        )

    def close_chunk(self) -> None:
        words, self.chunk = self.chunk, []
        if not words:
            return
        plan = self.plan
        head = singular(words[-1])
        colours_here, self.pending_colours = self.pending_colours, []
        count, self.count = self.count, None
        size, self.size = self.size, 1.0
        relation, self.relation = self.relation, None
        negated, self.negated = self.negated, False
        if negated:
            plan.excluded.append(" ".join(words))
            return
        if self.special(words, count, colours_here):
            return
        if head in BACKGROUND_NOUNS or words[-1] in BACKGROUND_NOUNS:
            if colours_here:
                plan.background = colours_here[0]
                if len(colours_here) > 1:
                    plan.palette.extend(colours_here)
            for word in words[:-1]:
                if word in SETTINGS:
                    self.set_setting(word)
            return
        pinned = len(words) > 1 and ALIASES.get(singular(" ".join(words)))
        mark = plan.purpose == "brand" and words[-1] not in ("background", "pattern")
        if words[-1] in SETTINGS and not pinned and not (count and count > 1) and not mark:
            for word in words:
                if word in SETTINGS:
                    self.set_setting(word)
            plan.palette.extend(colours_here)
            return
        if head in SURFACES and plan.room and not plan.surface:
            plan.surface = head  # "a conference room with a long table": the room's table
            return
        if head in SURFACES and relation in ("on", "in", None) and plan.subjects:
            for word in words[:-1]:
                if word in ROOM_WORDS and plan.room is None:  # "a cafe table": in a café
                    plan.room, plan.setting = ROOM_WORDS[word], "office"
            plan.surface = head
            plan.surface_concept = self.index.best(" ".join(words))
            if colours_here:
                plan.palette.append(colours_here[0])
            return
        if not pinned:
            for word in words[:-1]:
                if word in SETTINGS:  # "a snowy mountain village": snow is the setting
                    self.set_setting(word)
            words = [w for w in words[:-1] if w not in SETTINGS] + words[-1:]
        phrase = " ".join(words)
        figure = self.figure(words)
        concept, matched = self.head_concept(words)
        if figure is not None:
            concept, matched = figure[0], phrase
        if concept is None:
            setting = match_setting(phrase)
            if setting:
                self.set_setting(setting)
                return
            if not all(w in MODIFIERS for w in words):
                plan.unknown.append(phrase)
            # Colours that introduced an unknown noun still colour the picture.
            plan.palette.extend(colours_here)
            return
        if len(plan.subjects) >= MAX_SUBJECTS:
            return
        last = plan.subjects[-1].concept if plan.subjects else None
        if last and (last.font, last.codepoint) == (concept.font, concept.codepoint) and not count:
            return  # "🎉 party": the same drawing twice is one thing
        # "headphones", "glasses": a thing whose name is plural is still one thing.
        plural = (
            singular(words[-1]) != words[-1]
            and phrase not in self.index.exact
            and phrase not in ALIASES
        )
        subject = Subject(
            phrase=phrase,
            concept=concept,
            count=count if count is not None else (3 if plural else 1),
            colours=colours_here,
            size=size,
            alternatives=(concept,)
            if matched in ALIASES or figure
            else self.index.near_ties(matched, concept),
        )
        if matched in ALIASES or singular(matched) in ALIASES:
            subject.noun = singular(matched)
        if figure is not None:
            subject.figure, subject.prop, subject.prop_at = True, figure[1], figure[2]
            if count in (None, 1) and figure[3] > 1:
                subject.count = figure[3]  # "a team": several people
        if relation == "riding" and plan.subjects:
            rider = plan.subjects[-1]
            ridden = RIDERS.get(singular(words[-1]))
            drawing = self.index.by_ref(ridden) if ridden and rider.figure else None
            if drawing is not None:  # "a person riding a bicycle": one drawing of both
                rider.concept, rider.alternatives, rider.prop = drawing, (drawing,), None
                rider.figure, rider.noun = False, drawing.name
                return
            relation = "on"
        worn = WEARABLES.get(concept.name) or WEARABLES.get(singular(words[-1]))
        if worn and relation in ("in", "wearing", "beside") and plan.subjects:
            wearer = plan.subjects[-1]  # "a dog in sunglasses", "a cat wearing a hat"
            wearer.prop, wearer.prop_at = concept, worn
            return
        if relation in ("holding", "wearing", "handshake") and plan.subjects:
            holder = plan.subjects[-1]
            if holder.figure and relation != "handshake":
                holder.prop, holder.prop_at = concept, "head" if relation == "wearing" else "hand"
                holder.colours = holder.colours or []
                return
            relation = "beside"
        if relation and relation != "for" and plan.subjects:
            # "A next to B": B is the new subject; record it on A, the earlier one.
            anchor = plan.subjects[-1]
            if anchor.relation is None:
                anchor.relation, anchor.anchor = relation, len(plan.subjects)
        plan.subjects.append(subject)

    def special(self, words: list[str], count: int | None, colours_here: list[RGB]) -> bool:
        """Rooms and charts: phrases that choose the whole picture rather than a thing in it."""
        plan = self.plan
        phrase = " ".join(words)
        for start in range(len(words)):
            tail = " ".join(words[start:])
            tail_one = singular(tail)
            room = ROOM_WORDS.get(tail) or ROOM_WORDS.get(tail_one)
            if plan.purpose == "brand":
                room = None  # "a logo for a bakery": the bakery is the client, not the place
            if room and (plan.subjects or start == 0 or tail in ("kitchen", "office")):
                if plan.room is None:
                    plan.room, plan.setting = room, "office"
                plan.palette.extend(colours_here)
                if room == "kitchen" and "countertop" in tail or "counter" in tail:
                    plan.surface = "counter"
                return True
            chart = CHART_WORDS.get(tail) or CHART_WORDS.get(tail_one)
            if chart:
                plan.chart, plan.purpose = chart, "chart"
                for word in words:
                    plan.trend = TRENDS.get(word, plan.trend)
                if phrase.endswith(("up", "down")):
                    plan.trend = 1 if phrase.endswith("up") else -1
                plan.palette.extend(colours_here)
                return True
        if plan.chart == "pie" and singular(words[-1]) in ("slice", "segment", "part", "piece"):
            plan.slices = count or 3
            plan.palette.extend(colours_here)
            return True
        return False

    def figure(self, words: list[str]) -> tuple[Concept, Concept | None, str, int] | None:
        """A person named by the phrase's head ("a smiling woman", "two business people")."""
        for start in range(len(words)):
            tail = " ".join(words[start:])
            recipe = FIGURES.get(tail) or FIGURES.get(singular(tail))
            if recipe:
                base = self.index.by_ref(recipe["base"])
                if base is None:
                    return None
                prop = self.index.by_ref(recipe["prop"]) if recipe["prop"] else None
                return base, prop, recipe["at"], int(recipe["count"])
        return None

    def head_concept(self, words: list[str]) -> tuple[Concept | None, str]:
        """The drawing a noun phrase means. The head noun decides ("a stainless steel water
        bottle" is a bottle): first the longest tail of the phrase with a pinned drawing
        (lexicon aliases), then the phrase by meaning, kept only if the match echoes the head
        noun, else the head noun alone. Material and mood words never pick the drawing."""
        if words[-1].startswith("emoji"):
            found = self.index.by_codepoint(words[-1][5:])
            if found is not None:
                return found, words[-1]
        for start in range(len(words)):
            tail = " ".join(words[start:])
            ref = ALIASES.get(tail) or ALIASES.get(singular(tail))
            if ref:
                found = self.index.by_ref(ref)
                if found is not None:
                    return found, tail
        if len(words) > 1 and words[-1] in ("icon", "icons", "symbol", "emoji", "sticker"):
            words = words[:-1]  # "a cloud upload icon" is the cloud upload, drawn as an icon
        if all(w in MODIFIERS for w in words):
            return None, " ".join(words)  # "bright", "modern": how a thing is, not a thing
        core = [w for w in words[:-1] if w not in MODIFIERS] + words[-1:]
        phrase = " ".join(core)
        head = singular(core[-1])
        concept = self.index.best(phrase)
        if concept is not None and len(core) > 1:
            names = set(concept.name.split())
            if not any(echoes(head, {n}) for n in names):
                alone = self.index.best(core[-1])
                if alone is not None:
                    return alone, core[-1]
        if concept is None and len(core) > 1:
            return self.index.best(core[-1]), core[-1]
        return concept, phrase

    # -- the walk --------------------------------------------------------------------------
    def read(self) -> Plan:
        tokens, plan = self.tokens, self.plan
        i = 0
        while i < len(tokens):
            word = tokens[i]
            pair = " ".join(tokens[i : i + 2])
            if " " in pair and (pair in ROOM_WORDS or pair in CHART_WORDS or pair in ALIASES):
                # "conference room", "data center", "office building": one name, read whole,
                # before "room", "center" or "office" can be taken as a setting or a position.
                if pair in ROOM_WORDS and self.chunk and word == "at":
                    self.close_chunk()  # "a laptop at home": the laptop, then the room
                self.chunk.extend(tokens[i : i + 2])
                i += 2
                continue
            # Positions: "on the left", "in the top right corner", "at the bottom".
            if word in POSITION_LEADS or word in ("left", "right", "top", "bottom", "center"):
                start = i + 1 if word in POSITION_LEADS else i
                while start < len(tokens) and tokens[start] in ("the", "a"):
                    start += 1
                position, used = _match_phrase(tokens, start, POSITIONS)
                if position and tokens[i - 1 : i] in (["room"], ["space"]):
                    # "leaving room on the left for a title": where to keep empty, not a place
                    if plan.purpose in ("scene", "product"):
                        plan.purpose = "slide"
                    i = start + used
                    continue
                if position and not (
                    tokens[start : start + 1] == ["top"] and tokens[start + 1 : start + 2] == ["of"]
                ):
                    # "the sky" is a position only when a thing is already there ("birds in the sky").
                    if tokens[start : start + used] == ["sky"] and not (
                        self.chunk or plan.subjects
                    ):
                        position = ""
                    if position:
                        if tokens[start : start + used] == ["sky"]:
                            self.set_setting("sky")
                        self.close_chunk()
                        if plan.subjects:
                            plan.subjects[-1].position = position
                        i = start + used
                        continue
            if word in NEGATIONS:
                self.close_chunk()
                following = tokens[i + 1] if i + 1 < len(tokens) else ""
                if (
                    following in SLIDE_WORDS
                    or following in BRAND_WORDS
                    or following in PRODUCT_WORDS
                ):
                    plan.excluded.append(following)  # "no text": nothing to draw or to set
                    i += 2
                    continue
                self.negated = True
                i += 1
                continue
            # Relations between things and settings: "next to", "on top of", "above", "in".
            relation, used = _match_phrase(tokens, i, RELATIONS)
            if used and not (word == "and" and not self.chunk and not plan.subjects):
                colour_ahead, _ = _match_colour(tokens, i + used)
                self.close_chunk()
                if word in ("in", "with") and colour_ahead is not None:
                    self.in_palette_context = True
                elif word != "and":
                    self.in_palette_context = False
                self.relation = relation
                if relation == "handshake":  # "people shaking hands": the handshake is drawn
                    if plan.subjects and plan.subjects[-1].figure:
                        plan.subjects[-1].prop = None  # hands busy shaking hold nothing
                    self.relation, self.chunk, self.count = "beside", ["handshake"], 1
                    self.close_chunk()
                i += used
                continue
            if word in (",", ";", ":"):
                # A comma ends a noun but keeps the colours of a list ("red, blue and green").
                if self.chunk:
                    self.close_chunk()
                i += 1
                continue
            if word in (".", "!", "?"):
                self.close_chunk()
                self.negated = False
                self.in_palette_context = False
                i += 1
                continue
            pastel_thing = self._is_content(i + 1) and tokens[i + 1] not in colours.BASIC
            if word in ("pastel", "pastels") and pastel_thing:
                # "three pastel mugs": each mug in a pastel colour of its own
                self.pending_colours.extend(colours.hex_to_rgb(c) for c in PASTELS)
                i += 1
                continue
            # Styles ("pastel" and "neon" before a colour are colour modifiers instead).
            if word in STYLE_WORDS and not (
                word in colours.MODIFIERS and _match_colour(tokens, i + 1)[0] is not None
            ):
                if word == "line" and tokens[i + 1 : i + 2] not in (
                    ["art"],
                    ["drawing"],
                    ["style"],
                ):
                    pass  # "a line of trees": not a style
                elif word == "paper" and tokens[i + 1 : i + 2] not in (["texture"], ["style"]):
                    pass
                else:
                    plan.style, plan.style_given = STYLE_WORDS[word], True
                    if word == "line":
                        i += 1  # swallow "art"
                    i += 1
                    continue
            if (
                word == "black"
                and tokens[i + 1 : i + 3] == ["and", "white"]
                and (not self._is_content(i + 3))
            ):
                plan.style, plan.style_given = "monochrome", True
                i += 3
                continue
            # Counts: "three", "a pair of", "a few", "12".
            if word.isdigit() and 0 < int(word) <= 24 and not self.chunk:
                self.count = int(word)
                i += 1
                continue
            alone = not self._is_content(i + 1) and tokens[i + 1 : i + 2] != ["of"]
            if word in COUNTS and word in FIGURES and alone:
                self.chunk.append(word)  # "presenting to a group": the group is people
                i += 1
                continue
            if word in COUNTS and not self.chunk:
                self.count = COUNTS[word]
                i += 1
                while i < len(tokens) and tokens[i] in COUNT_FILLERS:
                    i += 1
                continue
            if word in ("a", "an") and not self.chunk and self.count is None:
                self.count = 1
                i += 1
                continue
            if word in SIZES:
                self.size = SIZES[word]
                i += 1
                continue
            # Colours: a colour noun ("an orange", "a rose") is a thing, not a colour, unless
            # more content follows it or it is a plain colour word.
            rgb, used = _match_colour(tokens, i)
            if (
                used > 1
                and (
                    self.index.exact_index(tokens[i + used - 1]) is not None
                    or singular(tokens[i + used - 1]) in ALIASES
                )
                and not self._is_content(i + used)
            ):
                # "a green apple": the colour green and an apple, not the colour "green apple"
                shorter = colours.lookup(" ".join(tokens[i : i + used - 1]), fuzzy=used == 2)
                if shorter is not None:
                    rgb, used = shorter, used - 1
            if rgb is not None and not self.chunk:
                after = i + used
                followed = self._is_content(after) and _match_colour(tokens, after)[0] is None
                phrase = " ".join(tokens[i : i + used])
                basic = tokens[i + used - 1] in colours.BASIC or word.startswith("#") or used > 1
                plain = phrase in colours.colour_table() and basic
                if followed and not basic:
                    # "coffee cup", "rose garden": a thing's name, unless the word is no thing.
                    followed = self.index.exact_index(phrase) is None
                if followed or plain or self.in_palette_context:
                    if self.in_palette_context and not followed:
                        plan.palette.append(rgb)
                        self.trailing_colours += 1
                    else:
                        self.pending_colours.append(rgb)
                    i += used
                    continue
            if word in SLIDE_WORDS:
                if plan.purpose != "brand":
                    plan.purpose = "slide"
                i += 1
                continue
            if word == "brand" and tokens[i + 1 : i + 2] in (["colour"], ["colours"], ["palette"]):
                i += 1  # "in our brand colours": a palette, not a brand board
                continue
            if (
                word in BRAND_WORDS
                and word not in ("set", "icon", "icons", "badge")
                or (word in ("set", "kit") and tokens[i + 1 : i + 2] == ["of"])
            ):
                plan.purpose = "brand"
                i += 1
                continue
            if word in PRODUCT_WORDS:
                if plan.purpose not in ("brand", "slide"):
                    plan.purpose = "product"
                i += 1
                continue
            if word == "space" and (
                tokens[i + 1 : i + 2] in (["for"], ["to"], ["on"], ["at"])
                or tokens[i - 1 : i] in (["copy"], ["negative"], ["empty"], ["free"], ["white"])
            ):
                if plan.purpose == "scene":
                    plan.purpose = "slide"
                i += 1  # "space for a title" is room to keep empty, not outer space
                continue
            counted = self.count is not None and self.count > 1  # "five stars": things
            counted = counted or plan.purpose == "brand" and word in ("mountain", "sun", "moon")
            if word in SETTINGS and not counted and (SETTINGS[word] != "forest" or not self.chunk):
                next_word = tokens[i + 1] if i + 1 < len(tokens) else ""
                if next_word in BACKGROUND_NOUNS:
                    self.chunk.append(word)  # "gradient background": handled with the noun
                    i += 1
                    continue
                if not self._is_content(i + 1) or SETTINGS[word] in TIMES or word == "space":
                    self.close_chunk()
                    self.set_setting(word)
                    if self.pending_colours and SETTINGS[word] not in TIMES:
                        # "a blue sky with a sun": blue is the sky's, not the sun's.
                        role = "ground" if word in GROUND_WORDS else SETTINGS[word]
                        plan.setting_colours[role] = self.pending_colours[0]
                        self.pending_colours = []
                    i += 1
                    continue
            if (
                word in ("colour", "colours", "palette", "tones")
                and _match_colour(tokens, i + 1)[0]
            ):
                self.close_chunk()
                self.in_palette_context = True  # "brand colours navy and coral": a palette
                i += 1
                continue
            if word in STOPWORDS or word == "and" or not word[0].isalnum():
                i += 1
                continue
            self.chunk.append(word)
            i += 1
        self.close_chunk()
        if self.pending_colours:
            plan.palette.extend(self.pending_colours)
        # "A car in red": one thing, one trailing colour -> its colour, not a palette.
        if (
            len(plan.palette) == 1
            and self.trailing_colours == 1
            and len(plan.subjects) == 1
            and not plan.subjects[0].colours
        ):
            plan.subjects[0].colours = plan.palette[:]
            plan.palette = []
        return plan


@filled_once
def _setting_vectors() -> tuple[list[str], np.ndarray]:
    encoder = shared_index().encoder
    keys = list(SETTING_PROBES)
    return keys, encoder.encode([SETTING_PROBES[k] for k in keys])


def match_setting(phrase: str) -> str | None:
    """A setting for a phrase the word lists miss ("metropolis", "seashore"), by meaning."""
    keys, vectors = _setting_vectors()
    query = shared_index().encoder.encode_one(phrase)
    if not query.any():
        return None
    scores = vectors @ query
    best = int(np.argmax(scores))
    return keys[best] if scores[best] >= 0.6 else None


def natural_setting(concept: Concept) -> str | None:
    """Where a thing is usually seen when the prompt names no place: a boat on the ocean, a
    snowman in snow, a skyscraper in a city. By meaning, with a high bar; None = open sky."""
    if concept.name in HOMES:
        return HOMES[concept.name]
    keys, vectors = _setting_vectors()
    scores = vectors @ shared_index().encoder.encode_one(concept.name)
    best = int(np.argmax(scores))
    bar = 0.6 if keys[best] in ("city", "night", "sky", "studio", "office") else 0.4
    return keys[best] if scores[best] >= bar else None


@filled_once
def _outdoor_vectors() -> np.ndarray:
    return shared_index().encoder.encode(OUTDOOR_PROBES)


def lives_outdoors(concept: Concept) -> bool:
    """Whether a thing belongs in a landscape (animals, plants, vehicles, buildings) rather than
    on a product backdrop (a teapot, a shoe, a laptop), judged by meaning with the encoder."""
    vector = shared_index().encoder.encode_one(concept.name)
    return bool((_outdoor_vectors() @ vector).max() >= 0.27)


def parse(prompt: str, index: ConceptIndex | None = None) -> Plan:
    """Read a prompt into a Plan. Never raises on odd input: unknown words are just listed."""
    index = index or shared_index()
    prepared = prepare(prompt[:1000], index.emoji_codepoints)
    plan = _Reader(prepared.english, index).read()
    plan.prompt, plan.text, plan.notes = prompt, prepared.text, prepared.notes
    words = set(tokenize(prepared.english))
    plan.weather = next((WEATHER[w] for w in tokenize(prompt) if w in WEATHER), None)
    if plan.weather is None and "雨" in prompt:
        plan.weather = "rain"
    if plan.text and plan.purpose in ("scene", "product"):
        plan.purpose = "slide"  # a card, a sign, a poster: a design that carries the words
    if plan.purpose == "chart":
        for word in tokenize(prepared.english):
            plan.trend = TRENDS.get(word, plan.trend)
        return plan
    indoor = [
        INDOOR_THINGS[s.concept.name] for s in plan.subjects if s.concept.name in INDOOR_THINGS
    ]
    if plan.purpose == "scene" and plan.setting is None and indoor and plan.room is None:
        plan.room, plan.setting = indoor[0], "office"  # a sofa stands in a living room
    if plan.purpose == "scene" and plan.setting is None and plan.subjects and not plan.surface:
        plan.setting = natural_setting(plan.subjects[0].concept)
    if plan.purpose == "scene":
        if plan.setting == "pattern":
            plan.purpose = "pattern"
        elif (
            plan.setting == "gradient"
            and not plan.subjects
            or not plan.subjects
            and plan.setting is None
        ):
            plan.purpose = "abstract"
        elif (
            plan.setting in (None, "studio")
            and (plan.background is not None or "background" in words)
            and len(plan.subjects) <= 2
        ):
            plan.purpose = "product"
        elif (
            plan.setting is None
            and plan.surface is None
            and plan.time == "day"
            and not any(lives_outdoors(s.concept) for s in plan.subjects)
        ):
            plan.purpose = "product"  # an object with no setting: shown like a product
    return plan


def find_concepts(text: str) -> list[Concept]:
    """The drawings chosen for the things in a prompt (exposed for tests and the gallery)."""
    return [subject.concept for subject in parse(text).subjects if subject.concept is not None]
