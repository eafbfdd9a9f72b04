"""The first step of understanding: turn what a user typed into plain English words for the
reader, and take out what is not to be read as things.

- Words to set in type: anything in quotes, the name after "called" / "named", and a sale
  banner's headline and discount ("SUMMER SALE", "50% OFF"). They are kept as written.
- Emoji: each emoji of the bundled emoji font becomes one token ("emoji1f680") that the reader
  maps straight to that drawing.
- Other languages: when most words of a prompt come from one table of lexicon.json (German,
  Spanish, French, Japanese), they are replaced by their English, and a note says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import FOREIGN, FOREIGN_LANGUAGES, FOREIGN_TABLES, SALE_WORDS

LANGUAGE_NAMES = {"de": "German", "es": "Spanish", "fr": "French", "ja": "Japanese"}
QUOTED = re.compile(r"[\"“”„«»「」『』]([^\"“”„«»「」『』]{1,60})[\"“”„«»「」『』]")
SINGLE_QUOTED = re.compile(r"(?:^|\s)'([^']{2,40})'(?=[\s,.!?]|$)")
NAMED = re.compile(
    r"\b(?:called|named|titled|entitled|reading|says|saying|the name)\s+((?:[A-Z0-9][\w&'.-]*\s?){1,4})"
)
PERCENT = re.compile(r"(\d{1,2})\s*%\s*(off)?", re.IGNORECASE)
SALE = re.compile(r"\b(?:([a-z]+)\s+)?(?:([a-z]+)\s+)?(sale|clearance)\b", re.IGNORECASE)
EMOJI_RANGES = ((0x2190, 0x2BFF), (0x1F000, 0x1FAFF), (0x3030, 0x303D))
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
POSTPOSED = re.compile(
    r"\b(?!(?:a|the|and|with|in|on)\b)([a-z]+) (red|blue|yellow|green|black|white)\b"
)
NOT_HEADLINE = {"a", "an", "the", "for", "our", "my", "big", "with", "of", "and", "in"}


@dataclass
class Prepared:
    english: str
    text: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_emoji(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in EMOJI_RANGES)


def take_text(prompt: str) -> tuple[str, list[str]]:
    """The words to set in type, and the prompt without them."""
    found: list[str] = []

    def keep(match: re.Match[str]) -> str:
        found.append(match.group(1).strip())
        return " "

    prompt = QUOTED.sub(keep, prompt)
    prompt = SINGLE_QUOTED.sub(lambda m: " " + keep(m), prompt)
    if not found:
        prompt = NAMED.sub(keep, prompt)
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    if words & SALE_WORDS and ("sale" in words or "clearance" in words or "%" in prompt):
        sale = SALE.search(prompt)
        if sale:
            # "a summer sale", "black friday sale", "for sale": up to two words lead the sale
            leads = [w for w in (sale.group(1), sale.group(2)) if w]
            while leads and leads[0].lower() in NOT_HEADLINE and leads[0].lower() != "for":
                leads = leads[1:]
            if leads and leads[-1].lower() in NOT_HEADLINE and leads[-1].lower() != "for":
                leads = []
            found.append(" ".join([*leads, sale.group(3)]).upper())
            if leads:  # the lead words are the headline's, not a colour or a thing to draw
                start = sale.start(1) if sale.group(1) and sale.group(1) in leads else sale.start(2)
                prompt = prompt[:start] + " " + prompt[sale.start(3) :]
        percent = PERCENT.search(prompt)
        if percent:
            found.append(f"{percent.group(1)}% OFF")
            prompt = prompt[: percent.start()] + " " + prompt[percent.end() :]
    return prompt, [t for t in found if t]


def emoji_tokens(prompt: str, emoji_codepoints: set[int]) -> tuple[str, int]:
    """Each known emoji as a token the reader maps straight to its drawing."""
    out, count = [], 0
    for char in prompt:
        if ord(char) in emoji_codepoints and is_emoji(char):
            out.append(f" , emoji{ord(char):x} , ")
            count += 1
        elif ord(char) in (0xFE0F, 0x200D) or 0x1F3FB <= ord(char) <= 0x1F3FF:
            continue  # presentation selectors, joiners and skin tones change no drawing
        else:
            out.append(char)
    return "".join(out), count


def translate(prompt: str) -> tuple[str, str | None]:
    """Replace the words of another language by their English, when most words are from it."""
    if CJK.search(prompt):
        keys = sorted((k for k, lang in FOREIGN_LANGUAGES.items() if lang == "ja"), key=len)
        text = prompt
        for key in reversed(keys):
            text = text.replace(key, f" {FOREIGN[key].strip()} " if FOREIGN[key].strip() else " ")
        return text, "ja"
    words = re.findall(r"[^\W\d_]+", prompt.lower())
    if not words:
        return prompt, None
    # A word shared by two tables ("tasse", "un") counts for both: check each table whole.
    votes = {lang: sum(1 for w in words if _in_table(w, lang)) for lang in ("de", "es", "fr")}
    language = max(votes, key=lambda k: votes[k])
    if votes[language] < max(2, 0.6 * len(words)):
        return prompt, None

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return FOREIGN_TABLES[language].get(word.lower(), word)

    english = re.sub(r"[^\W\d_]+", swap, prompt)
    if language in ("es", "fr"):
        # "une voiture rouge": Romance colours follow their noun; English puts them first.
        english = POSTPOSED.sub(lambda m: f"{m.group(2)} {m.group(1)}", english)
    return english, language


def _in_table(word: str, language: str) -> bool:
    return word in FOREIGN_TABLES[language]


def prepare(prompt: str, emoji_codepoints: set[int]) -> Prepared:
    """Plain English for the reader, with the words to set in type and notes on how it was read."""
    rest, text = take_text(prompt)
    rest, emoji_count = emoji_tokens(rest, emoji_codepoints)
    notes = []
    if emoji_count:
        notes.append("emoji read as their pictures")
    english, language = translate(rest)
    if language:
        notes.append(f"read as {LANGUAGE_NAMES[language]}")
    return Prepared(english, text, notes)
