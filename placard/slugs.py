"""ASCII slugs for English, Russian and Kazakh titles, with explicit transliteration tables.

Plain Unidecode drops Kazakh letters such as Ә ("Әлем" -> "lem"); the tables below give every
Cyrillic letter of both alphabets a Latin spelling first, then python-slugify does the rest.
Slugs are written into front matter once and never derived again, so these tables may improve
without breaking a published address.
"""

from __future__ import annotations

from slugify import slugify

# Russian: a readable ASCII romanisation (close to BGN/PCGN, without diacritics).
RUSSIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
# Kazakh letters beyond Russian, after the 2021 Kazakh Latin alphabet with its diacritics dropped.
KAZAKH = {"ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"}
TABLE = {**RUSSIAN, **KAZAKH}


def transliterate(text: str) -> str:
    """Spell Russian and Kazakh Cyrillic in ASCII letters, letter by letter."""
    return "".join(TABLE.get(ch.lower(), ch) if ch.lower() in TABLE else ch for ch in text)


def make_slug(title: str, max_length: int = 80, fallback: str = "untitled") -> str:
    """A lowercase ASCII slug with single hyphens, for any of the site's languages, cut after the last
    whole word that fits (python-slugify's own cut may skip a long word and keep a later short one)."""
    words = slugify(transliterate(title)).split("-")
    kept: list[str] = []
    for word in words:
        if kept and len("-".join(kept + [word])) > max_length:
            break
        kept.append(word)
    return "-".join(kept)[:max_length].strip("-") or fallback
