"""Model profiles: the request rules of each model family as the Azure/OpenAI contract states them.

A deployment names a profile (`dall-e-2`, `dall-e-3`, `gpt-image-1`); the profile fixes which fields
a request may carry, their allowed values and limits, whatever engine draws the pictures. A
deployment may narrow or widen `sizes` and `max_n` (docs/compatibility.md lists the defaults' sources).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    prompt_max: int
    max_n: int
    sizes: tuple[str, ...]
    default_size: str
    response_formats: tuple[str, ...] = ("url", "b64_json")
    default_response_format: str = "url"
    qualities: tuple[str, ...] = ()
    default_quality: str | None = None
    styles: tuple[str, ...] = ()
    default_style: str | None = None
    output_formats: tuple[str, ...] = ("png",)
    backgrounds: tuple[str, ...] = ()
    accepts_compression: bool = False
    auto_size: str | None = None
    # OpenAI's /v1 allows more images per request than Azure's DALL-E 2 operation API (10 vs 5);
    # None: the same limit everywhere.
    openai_max_n: int | None = None
    # The GPT image family: `moderation`, streaming and `input_fidelity` exist for it only.
    gpt_image: bool = False

    def max_n_on(self, openai: bool) -> int:
        """The most images one request may ask for on an OpenAI-shaped route or elsewhere."""
        return (self.openai_max_n or self.max_n) if openai else self.max_n


DALL_E_2 = Profile(
    name="dall-e-2",
    prompt_max=1000,
    max_n=5,
    sizes=("256x256", "512x512", "1024x1024"),
    default_size="1024x1024",
    qualities=("standard",),
    default_quality="standard",
    openai_max_n=10,
)

DALL_E_3 = Profile(
    name="dall-e-3",
    prompt_max=4000,
    max_n=1,
    sizes=("1024x1024", "1792x1024", "1024x1792"),
    default_size="1024x1024",
    qualities=("standard", "hd"),
    default_quality="standard",
    styles=("vivid", "natural"),
    default_style="vivid",
)

GPT_IMAGE_1 = Profile(
    name="gpt-image-1",
    prompt_max=32000,
    max_n=10,
    sizes=("auto", "1024x1024", "1536x1024", "1024x1536"),
    default_size="auto",
    default_response_format="b64_json",
    qualities=("auto", "high", "medium", "low"),
    default_quality="auto",
    output_formats=("png", "jpeg", "webp"),
    backgrounds=("transparent", "opaque", "auto"),
    accepts_compression=True,
    auto_size="1024x1024",
    gpt_image=True,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (DALL_E_2, DALL_E_3, GPT_IMAGE_1)}
