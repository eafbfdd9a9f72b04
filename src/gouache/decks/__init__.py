"""Slide decks and brand kits made with the Generate images action.

    from gouache import make_deck, make_brand_kit
    deck = make_deck("products.csv", "products.pptx")
    kit = make_brand_kit("Northwind", out="northwind-kit")

Both make their pictures through the public client (`generate_images`), so they work in this
process, against a gouache server, or against Azure OpenAI alike.
"""

from gouache.decks.brand_kit import BrandKit, make_brand_kit
from gouache.decks.deck import DeckResult, SlideReport, make_deck
from gouache.decks.slides import SlideInputError

__all__ = [
    "BrandKit",
    "DeckResult",
    "SlideInputError",
    "SlideReport",
    "make_brand_kit",
    "make_deck",
]
