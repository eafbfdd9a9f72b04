"""The catalogue of drawable things and the retrieval that maps prompt words onto it.

Matching is by meaning, with the distilled MiniLM encoder: a phrase from the prompt is embedded and
compared with the precomputed embeddings of every glyph name ("puppy" lands on a dog, "automobile"
on a car). Exact names still win outright, and a light preference for the Noto Emoji drawings
(full figures, which read as illustrations) over the MDI icons (symbols) breaks near-ties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .colours import BASIC
from .encoder import DATA, StaticEncoder, shared_encoder
from .loading import filled_once

# A phrase whose best match scores below this is treated as "not understood" rather than drawn
# as a random icon: the distilled encoder gives unrelated single words scores of 0.1-0.35.
MIN_SCORE = 0.56
EMOJI_BONUS = 0.04
EXACT_BONUS = 0.3
# Matches within this much of the best score are near-ties (the emoji and the icon of one dog, two
# drawings of a high-heeled shoe): a seed may pick any of them, so n drafts need not repeat one
# drawing. Tight on purpose: a clearly worse meaning never wins.
TIE_MARGIN = 0.05
# Variants that decorate a thing with a badge or a state rather than drawing another version of it.
BADGE_WORDS = frozenset(
    [
        "off",
        "remove",
        "plus",
        "minus",
        "alert",
        "check",
        "cancel",
        "lock",
        "question",
        "clock",
        "sync",
        "edit",
        "cog",
        "settings",
        "search",
        "outline",
        "variant",
        "box",
        "circle",
        "marker",
        "network",
        "star",
        "heart",
        "arrow",
    ]
)


@dataclass(frozen=True)
class Concept:
    """One drawable thing: which glyph of which font, and how sure the match is."""

    name: str
    font: str
    codepoint: int
    outline: int = 0
    score: float = 1.0


class ConceptIndex:
    def __init__(self, encoder: StaticEncoder | None = None) -> None:
        self.encoder = encoder or shared_encoder()
        catalogue = json.loads((DATA / "concepts.json").read_text())
        self.names: list[str] = catalogue["names"]
        self.fonts: list[str] = catalogue["fonts"]
        self.codepoints: list[int] = catalogue["codepoints"]
        self.outlines: list[int] = catalogue["outlines"]
        # Memory-mapped float32: nothing to decompress or convert at start (cold start budget).
        # (a plain array view of the map: np.memmap's subclass hooks cost on every product)
        self.vectors = np.asarray(np.load(DATA / "concepts.npy", mmap_mode="r"))
        self.bias = np.where(np.array(self.fonts) == "emoji", EMOJI_BONUS, 0.0).astype(np.float32)
        # Shorter names are the plain thing ("dog"), longer ones a variant ("dog side off").
        lengths = np.array([len(n.split()) for n in self.names], dtype=np.float32)
        self.bias -= 0.015 * (lengths - 1)
        self.exact: dict[str, int] = {}
        self.exact_all: dict[str, list[int]] = {}
        self.name_words = {word for name in self.names for word in name.split()}
        self.by_emoji: dict[int, int] = {
            cp: i
            for i, (cp, f) in enumerate(zip(self.codepoints, self.fonts, strict=False))
            if f == "emoji"
        }
        for index, name in enumerate(self.names):
            self.exact.setdefault(name, index)
            self.exact_all.setdefault(name, []).append(index)

    def exact_index(self, phrase: str) -> int | None:
        """The catalogue row whose name is exactly this phrase (or its singular), if any."""
        phrase = " ".join(phrase.lower().split())
        found = self.exact.get(phrase)
        return found if found is not None else self.exact.get(singular(phrase))

    def is_word(self, word: str) -> bool:
        """Whether the encoder's vocabulary knows the word whole (or its singular): a word it
        must split into fragments ("asdf" -> "as", "##df") is noise to the embedding."""
        vocab = self.encoder.tokenizer
        return any(
            form in self.name_words or vocab.token_to_id(form) is not None
            for form in (word, singular(word))
        )

    def concept(self, index: int, score: float) -> Concept:
        return Concept(
            self.names[index],
            self.fonts[index],
            self.codepoints[index],
            self.outlines[index],
            score,
        )

    def search(self, phrase: str, k: int = 5) -> list[Concept]:
        """Best matches for a phrase, best first, with cosine-based scores."""
        phrase = " ".join(phrase.lower().split())
        if not phrase:
            return []
        query = self.encoder.encode_one(singular(phrase))
        if not query.any():
            return []
        scores = self.vectors @ query + self.bias
        for form in dict.fromkeys((phrase, singular(phrase))):
            for index in self.exact_all.get(form, ()):
                scores[index] += EXACT_BONUS
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        top = top[np.argsort(-scores[top])]
        return [self.concept(int(i), float(scores[i])) for i in top]

    def near_ties(self, phrase: str, best: Concept) -> tuple[Concept, ...]:
        """The drawings that match a phrase about as well as `best` does (best first, `best`
        included): the candidates a seed may choose between. An alternative must score within
        TIE_MARGIN of the best; every word of its name must be a colour or echo a word of the
        phrase or of the best's name ("high-heeled shoe" for "shoe heel", "green apple" for
        "red apple"; not "thought balloon" for "balloon", nor "motor boat" for "sail boat"); it
        must not be a badged variant ("dog off") unless the best is one too. An icon never
        stands in for an emoji: the Noto Emoji draw whole figures where the icon of the same
        name is often a head (dog, cow) or another sense of the word (a computer mouse)."""
        words = set(singular(" ".join(phrase.lower().split())).split()) | set(best.name.split())
        badges = BADGE_WORDS & set(best.name.split())
        out = [best]
        for found in self.search(phrase, k=8):
            if found.score < max(MIN_SCORE, best.score - TIE_MARGIN):
                break
            names = set(found.name.split())
            if (found.font, found.codepoint) == (best.font, best.codepoint):
                continue
            if (names & BADGE_WORDS) - badges or not any(echoes(w, words) for w in names):
                continue
            if not all(word in BASIC or echoes(word, words) for word in names):
                continue
            if found.font != best.font and found.font != "emoji":
                continue
            out.append(found)
        return tuple(out)

    @property
    def emoji_codepoints(self) -> set[int]:
        return set(self.by_emoji)

    def by_codepoint(self, hex_code: str) -> Concept | None:
        """The emoji drawing for a codepoint typed into the prompt (prepare.py's tokens)."""
        try:
            index = self.by_emoji.get(int(hex_code, 16))
        except ValueError:
            return None
        return None if index is None else self.concept(index, 1.0)

    def by_ref(self, ref: str) -> Concept | None:
        """The drawing a data file names: "emoji:dog" or "mdi:laptop" (font, then exact name)."""
        font, _, name = ref.partition(":")
        for index in self.exact_all.get(name, ()):
            if self.fonts[index] == font:
                return self.concept(index, 1.0)
        return None

    def best(self, phrase: str) -> Concept | None:
        """The match for a phrase, or None when nothing is close enough to draw honestly."""
        found = self.search(phrase, k=1)
        if not found or found[0].score < MIN_SCORE:
            return None
        if found[0].score < 1.0 and not any(self.is_word(w) for w in phrase.lower().split()):
            # Letters that are no English word ("zzzqq") embed to noise: draw no thing.
            return None
        return found[0]


def echoes(word: str, words: set[str]) -> bool:
    """Whether a word repeats one of `words`, or contains it or is contained ("heel" and
    "high-heeled", "sailboat" and "boat")."""
    return any(
        word == other or (min(len(word), len(other)) >= 3 and (word in other or other in word))
        for other in words
    )


def singular(phrase: str) -> str:
    """Crude English singular of the last word: enough for "dogs", "boxes", "puppies"."""
    words = phrase.split()
    if not words:
        return phrase
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "sses", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        last = last[:-1]
    return " ".join([*words[:-1], last])


@filled_once
def shared_index() -> ConceptIndex:
    return ConceptIndex()
