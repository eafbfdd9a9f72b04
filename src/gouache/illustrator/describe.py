"""The last step of understanding: the sentence returned as `revised_prompt`, saying what was
drawn in plain words ("three people in a conference room"), how the prompt was read ("read as
German") and what was left out ("not understood: ...")."""

from __future__ import annotations

from . import colours
from .concepts import Concept
from .lexicon import DISPLAY_NAMES, PASTELS, SYMBOLS
from .parse import Plan, Subject

# What a design carrying words is called in the revised prompt, first found in the prompt wins.
DESIGN_KINDS = ("banner", "poster", "flyer", "coupon", "badge", "label", "sign", "slide", "header")

# A table stands indoors unless the prompt says otherwise (the drawing follows the same rule).
INDOOR_SURFACES = ("table", "desk", "shelf", "counter")


def is_icon_set(plan: Plan) -> bool:
    """ "A set of business icons": a grid of icons rather than a brand board."""
    words = plan.prompt.lower().split()
    return "icons" in words or "icon" in words and "set" in words


def is_logo(plan: Plan) -> bool:
    return "logo" in plan.prompt.lower() or "ロゴ" in plan.prompt


def count_is_plural(subject: Subject) -> bool:
    return subject.phrase.endswith("s") and subject.phrase not in ("business", "glass")


def describe(
    plan: Plan, style_name: str, concepts: list[Concept], purpose: str, transparent: bool
) -> str:
    """A short English sentence of what was drawn; returned as the `revised_prompt`."""
    parts = []
    for g, subject in enumerate(plan.subjects):
        name = concepts[g].name
        name = DISPLAY_NAMES.get(name, name)
        noun = subject.noun
        if noun and noun not in SYMBOLS and len(noun) >= len(name) or noun == "table":
            name = subject.noun  # "coffee mug", not the icon's name "coffee"
        if subject.colours:  # "a green apple" drawn with the red apple's outline
            name = " ".join(w for w in name.split() if w not in colours.BASIC) or name
        if subject.figure:
            name = subject.phrase.split()[-1]  # "a chef", not the figure's drawing name
            name = name[:-1] if count_is_plural(subject) and name.endswith("s") else name
            if name in ("people", "team", "meeting", "friend", "colleague", "group", "crowd"):
                name = "person"
        for prefix in ("food ", "shoe "):
            if name.startswith(prefix) and len(name.split()) > 1:
                name = name[len(prefix) :] + (" shoe" if prefix == "shoe " else "")
        count = subject.count
        words = []
        if subject.size < 0.8:
            words.append("small")
        elif subject.size > 1.2:
            words.append("large")
        if subject.colours and subject.colours == [colours.hex_to_rgb(c) for c in PASTELS]:
            words.append("pastel")
        elif subject.colours:
            named = dict.fromkeys(colours.name_of(c) for c in subject.colours)
            words.extend(n for n in named if n not in name.split())
        noun = " ".join([*words, name])
        phrase = f"{number_word(count)} {plural(noun)}" if count > 1 else f"{article(noun)} {noun}"
        if subject.prop is not None:
            verb = "with" if subject.prop_at == "hand" else "wearing"
            held = DISPLAY_NAMES.get(subject.prop.name, subject.prop.name)
            phrase += f" {verb} {article(held)} {held}"
        if subject.position:
            phrase += f" {position_phrase(subject.position)}"
        rel = {
            "beside": "next to",
            "inside": "inside",
            "front": "in front of",
            "on": "on",
            "above": "above",
            "below": "below",
            "behind": "behind",
            "left of": "left of",
            "right of": "right of",
        }.get(subject.relation or "")
        if parts and parts[-1].endswith(" \x00"):
            parts[-1] = parts[-1][:-1] + phrase
        else:
            parts.append(phrase)
        if rel and subject.anchor is not None and subject.anchor < len(plan.subjects):
            parts[-1] += f" {rel} \x00"
    parts = [
        p.replace(" \x00", "").replace(" next to a handshake", " shaking hands") for p in parts
    ]
    things = join(parts)
    if plan.text and "card" in plan.prompt.lower():
        quoted = " and ".join(f'"{line}"' for line in plan.text[:2])
        return f"a business card with the name {quoted}, {style_name} style"
    if purpose == "brand" and is_icon_set(plan):
        given = plan.palette or [c for s in plan.subjects for c in s.colours]
        tint = f" in {colours.name_of(given[0])}" if given else ""
        theme = next((w for w in ("business", "finance", "tech") if w in plan.prompt.lower()), "")
        return f"a set of {theme + ' ' if theme else ''}icons{tint}, {style_name} style"
    elif purpose == "brand" and (plan.text or is_logo(plan)):
        text = "a logo" + (f" with {things}" if things else "")
    elif purpose == "brand":
        text = "a brand board" + (f" featuring {things}" if things else "")
    elif purpose == "pattern":
        kind = {
            "stripes": "striped",
            "dots": "polka-dot",
            "dotted": "polka-dot",
            "grid": "grid",
            "checkered": "checkered",
            "waves": "wavy",
            "confetti": "confetti",
        }.get(plan.pattern or "", "geometric")
        text = f"a pattern of {things}" if things else f"a {kind} pattern"
    elif purpose == "slide" and plan.text:
        # "a banner with the words "SUMMER SALE" and "50% OFF", with a sale tag"
        words = plan.prompt.lower().split()
        kind = next((k for k in DESIGN_KINDS if k in words), "banner")
        quoted = " and ".join(f'"{line}"' for line in plan.text[:3])
        text = f"a {kind} with the words {quoted}" + (f", with {things}" if things else "")
    elif purpose == "slide":
        text = "a slide background with space for a title" + (f", with {things}" if things else "")
    elif purpose == "abstract":
        text = things or "an abstract background"
    elif purpose == "chart":
        text = chart_phrase(plan)
    else:
        text = things or (f"a {setting_noun(plan.setting)}" if plan.setting else "an illustration")
        if plan.room and not things:
            room = ROOM_NAMES.get(plan.room, plan.room)
            text = f"{article(room)} {room}"
    if plan.text and purpose != "slide":
        quoted = " and ".join(f'"{line}"' for line in plan.text[:3])
        text += f" with the words {quoted}" if purpose != "brand" else f" named {quoted}"
    if plan.surface:
        people = any(s.figure for s in plan.subjects)
        text += (
            f" {'at' if people else 'on'} a {plan.surface}" if things else f" with a {plan.surface}"
        )
    if plan.room and things and purpose == "scene":
        room = ROOM_NAMES.get(plan.room, plan.room)
        text += f" in {article(room)} {room}"
    elif (
        things
        and purpose in ("scene", "slide")
        and plan.setting
        and plan.setting not in ("gradient", "pattern")
    ):
        text += f" {setting_phrase(plan.setting)}"
    elif purpose == "scene" and not plan.setting and not transparent:
        # the same rule the drawing follows: a table stands indoors unless the prompt says otherwise
        text += " in a room" if plan.surface in INDOOR_SURFACES else " under an open sky"
    if plan.weather:
        text += " in the rain" if plan.weather == "rain" else " in falling snow"
    if plan.time != "day":
        text += {"sunrise": " at sunrise", "sunset": " at sunset", "night": " at night"}[plan.time]
    if plan.background is not None and purpose != "brand":
        text += f" on a {colours.name_of(plan.background)} background"
    if plan.palette and purpose in ("brand", "slide", "abstract", "pattern", "scene"):
        names = list(dict.fromkeys(colours.name_of(c) for c in plan.palette))
        text += f" in {join(names)}"
    if transparent:
        text += " on a transparent background"
    if plan.excluded:
        text += ", with no " + join(list(dict.fromkeys(plan.excluded)))
    text = f"{text}, {style_name} style"
    remarks = list(plan.notes)
    if plan.unknown:
        remarks.append("not understood: " + ", ".join(dict.fromkeys(plan.unknown)))
    if remarks:
        text += " (" + "; ".join(remarks) + ")"
    return text


ROOM_NAMES = {
    "conference": "conference room",
    "living": "living room",
    "datacenter": "data center",
    "cafe": "café",
}


def chart_phrase(plan: Plan) -> str:
    colours_named = list(dict.fromkeys(colours.name_of(c) for c in plan.palette))
    tint = f" in {join(colours_named)}" if colours_named else ""
    if plan.chart == "pie":
        n = max(2, plan.slices or len(plan.palette) or 4)
        return f"a pie chart with {number_word(n)} slices{tint}"
    if plan.chart == "map":
        return f"a world map with network lines{tint}"
    direction = "going up" if plan.trend >= 0 else "going down"
    kind = "line chart" if plan.chart == "line" else "bar chart"
    return f"a {kind} {direction}{tint}"


def setting_phrase(setting: str) -> str:
    return {
        "sky": "under an open sky",
        "ocean": "on the ocean",
        "beach": "on a beach",
        "forest": "in a forest",
        "mountains": "in the mountains",
        "snow": "in a snowy landscape",
        "desert": "in the desert",
        "city": "in front of a city skyline",
        "space": "in outer space",
        "office": "in an office",
        "studio": "in a studio",
    }.get(setting, "")


def setting_noun(setting: str) -> str:
    return {
        "sky": "landscape under an open sky",
        "ocean": "seascape",
        "beach": "beach",
        "forest": "forest",
        "mountains": "mountain landscape",
        "snow": "snowy landscape",
        "desert": "desert landscape",
        "city": "city skyline",
        "space": "view of outer space",
        "office": "room",
        "studio": "studio backdrop",
    }.get(setting, "landscape")


def position_phrase(position: str) -> str:
    if "-" in position:
        return f"in the {position.replace('-', ' ')} corner"
    return {
        "left": "on the left",
        "right": "on the right",
        "top": "at the top",
        "bottom": "at the bottom",
        "center": "in the center",
    }[position]


NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]


def number_word(n: int) -> str:
    return NUMBERS[n] if n < len(NUMBERS) else str(n)


IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women"}


def plural(noun: str) -> str:
    head = noun.split()[-1] if noun.split() else noun
    if head in IRREGULAR:
        return noun[: -len(head)] + IRREGULAR[head]
    if noun.endswith(("ies", "sses", "oes")) or noun.startswith("pair of"):
        return noun  # already plural: "french fries", "glasses", "pair of ..."
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
