"""`placard init DIR`: a new, complete campaign site that builds at once.

It writes site.yml (every setting, commented), one example of each kind of content in each language
chosen, a .gitignore, a publishing workflow, a one-line build.py and a README for the campaigners.
Templates and the stylesheet are not copied: they come from placard's theme, so upgrading placard
brings every fix (`placard theme copy` makes a file the site's own to change it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from . import installed_version
from .errors import BuildError, Problem
from .models import LANGUAGES
from .scaffold import yaml_text


@dataclass(frozen=True)
class Words:
    """The example texts in one language (placeholders to replace, never facts)."""

    title: str
    tagline: str
    description: str
    post_title: str
    post_summary: str
    post_body: str
    event_title: str
    event_venue: str
    event_city: str
    event_body: str
    page_title: str
    page_body: str


WORDS = {
    "en": Words(
        "Example campaign", "Replace this line with the campaign's ask",
        "One or two sentences: who the campaign supports and what it asks for.",
        "Example news post", "One or two sentences shown in lists and in the feed.",
        "Write the post here in Markdown. It links to [the example event](event:example-protest) and to\n"
        "[Example Oil Company](entity:example-oil-company) in the corporate-links register.",
        "Example protest", "Name of the place", "London",
        "Describe the protest: who, what and why. Bring banners and warm clothes.",
        "About this campaign", "Who runs this site and how to reach them.",
    ),
    "ru": Words(
        "Пример кампании", "Замените эту строку призывом кампании",
        "Одно-два предложения: кого поддерживает кампания и чего она требует.",
        "Пример новости", "Одно-два предложения для списков и ленты.",
        "Напишите новость здесь (Markdown). Ссылка на [пример акции](event:example-protest).",
        "Пример акции", "Название места", "Лондон",
        "Опишите акцию: кто, что и почему.",
        "О кампании", "Кто ведёт этот сайт и как с ними связаться.",
    ),
    "kk": Words(
        "Науқан үлгісі", "Бұл жолды науқанның үндеуімен ауыстырыңыз",
        "Бір-екі сөйлем: науқан кімді қолдайды және не талап етеді.",
        "Жаңалық үлгісі", "Тізімдер мен таспада көрсетілетін бір-екі сөйлем.",
        "Жаңалықты осында жазыңыз (Markdown). [Шара үлгісіне](event:example-protest) сілтеме.",
        "Шара үлгісі", "Орынның атауы", "Лондон",
        "Шараны сипаттаңыз: кім, не және неге.",
        "Науқан туралы", "Бұл сайтты кім жүргізеді және олармен қалай байланысуға болады.",
    ),
}


def parse_languages(text: str) -> tuple[str, ...]:
    """`en,ru,kk` -> ('en', 'ru', 'kk'); the first is the site's default language."""
    languages = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if not languages or unknown:
        raise BuildError([Problem("--languages", None, "", f"'{text}': placard's theme has interface text in "
                                  f"{', '.join(LANGUAGES)}; list some of them, separated by commas, the default first (e.g. en,ru)")])
    return languages


def write_new_site(folder: Path, languages: tuple[str, ...], now: datetime) -> list[Path]:
    """Write the starter site into `folder`, which must be empty or absent; the files written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BuildError([Problem(str(folder), None, "", "is not an empty folder; nothing was written "
                                  "(choose a new folder name, e.g. placard init my-campaign)")])
    files = starter_files(languages, now)
    written = []
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def starter_files(languages: tuple[str, ...], now: datetime) -> dict[str, str]:
    """Relative path -> text of every file of a new site."""
    default, others = languages[0], languages[1:]
    year = now.year
    # The example post is from yesterday (published at once) and the protest four weeks ahead (upcoming,
    # so the new site shows its home page as it will look before a protest), whenever init runs.
    posted, protest = (now - timedelta(days=1)).date(), (now + timedelta(days=28)).date()
    files = {
        "site.yml": site_yml(languages),
        f"content/news/{posted}-example-news-post.md": post_text(WORDS[default], posted),
        f"content/events/{protest}-example-protest.md": event_text(WORDS[default], protest),
        "content/links/example-oil-company.md": ENTITY_COMPANY.format(year=year, post="example-news-post"),
        "content/links/example-exchange.md": ENTITY_EXCHANGE,
        "content/pages/about.md": page_text(WORDS[default]),
        ".gitignore": GITIGNORE,
        ".github/workflows/publish.yml": WORKFLOW,
        "build.py": BUILD_PY,
        "requirements.txt": f"# The site generator, pinned: upgrade by changing the version, then run `placard migrate --dry-run`.\nplacard=={installed_version()}\n",
        "README.md": campaign_readme(WORDS[default].title),
    }
    for lang in others:
        words = WORDS[lang]
        files[f"content/news/{posted}-example-news-post-{lang}.md"] = translation_text(words.post_title, f"example-news-post-{lang}", lang, "example-news-post", words.post_summary, words.post_body)
        files[f"content/events/{protest}-example-protest-{lang}.md"] = translation_text(
            words.event_title, f"example-protest-{lang}", lang, "example-protest", None, words.event_body,
            extra=f"venue: {yaml_text(words.event_venue)}\ncity: {yaml_text(words.event_city)}\n")
        files[f"content/pages/about-{lang}.md"] = translation_text(words.page_title, f"about-{lang}", lang, "about", None, words.page_body)
    return files


def site_yml(languages: tuple[str, ...]) -> str:
    """site.yml with every setting, each explained; optional ones commented out."""
    default = WORDS[languages[0]]
    listed = "".join(f"  - {lang}\n" for lang in languages)
    translations = "".join(
        f"  {lang}:\n    title: {yaml_text(WORDS[lang].title)}\n    tagline: {yaml_text(WORDS[lang].tagline)}\n"
        f"    description: {yaml_text(WORDS[lang].description)}\n" for lang in languages[1:])
    return SITE_YML.format(
        version=installed_version(), title=yaml_text(default.title), tagline=yaml_text(default.tagline),
        description=yaml_text(default.description), language=languages[0], languages=listed,
        translations=("translations:\n" + translations) if translations else "# translations:  (only when 'languages' lists more than one)\n",
    )


SITE_YML = """\
# Site-wide settings. Lines starting with # are comments; remove the # to use a setting.
# Every setting is explained in the README of placard ("Site settings").

# The placard version this site was made with: a newer placard says what to change, if anything
# (`placard migrate --dry-run`).
placard_version: {version}

# The campaign's name, its ask in one line, and one or two sentences for search engines and link previews.
title: {title}
tagline: {tagline}
description: {description}

# The site's public address, ending in /. Until it is a real address every build reminds you.
base_url: https://campaign.example.org/

# The default language, then every language of the site (en, ru, kk).
language: {language}
languages:
{languages}
# The time zone events are given in unless an event says otherwise (a name from the tz database).
timezone: Europe/London

# Who publishes the site, how to reach them, and the licence of its content (optional).
# organisation: "Name of the group"
# contact: "campaign@example.org"
# copyright: "Text and photos: CC BY 4.0, unless stated otherwise"
# Shown on the contact page (contact/): a contact for journalists, a postal address, and secure contact
# (a Signal number or username; an address for encrypted mail with its public key's file in static/).
# press_contact: "press@example.org"
# postal_address: |-
#   The campaign
#   1 Example Street
# signal: "+44 7700 900000"
# secure_email: "secure@example.org"
# pgp_key: campaign.asc

# The campaign's colour for links and buttons, as "#rrggbb"; the build refuses one too light to read.
# accent_colour: "#a4161a"

# The campaign's logo, a file in static/ (.svg or .png), shown before the name in every page's header;
# the site's icons are drawn from a PNG logo, otherwise from the name's first letter on the accent colour.
# logo: logo.svg

# How long calendar apps show an event that has no `ends:` (its page says the end time was not announced).
# event_duration: "2:00"

# What visitors can do for the campaign, the main one first: kind (petition, donate, write, volunteer,
# follow, other), where it is done, and the button's text in each language of the site.
# actions:
#   - kind: petition
#     url: https://example.org/petition
#     label: "Sign the petition"
#     labels:
#       ru: "Подпишите петицию"

# A search page in each language (Pagefind; the index is built with the site, nothing runs on a server).
# search: true

# Other addresses where the same site is published, for visitors who cannot reach the main one.
# mirrors:
#   - https://mirror.example.net/campaign/

# Photos: the largest file accepted, in megabytes; and whether to publish each photo's original file
# (metadata removed) beside the smaller copies placard makes of it.
# max_image_mb: 25
# publish_originals: false

# `placard check` fails a page for which a phone loads more than this many kilobytes (photos included).
# page_budget_kb: 150

# The site's title, tagline and description in each language besides the default one.
{translations}"""


def post_text(words: Words, day: date) -> str:
    """The example news post."""
    return f"""---
title: {yaml_text(words.post_title)}
slug: example-news-post
date: {day} 10:00 +00:00
author: "Your name or group"
summary: {yaml_text(words.post_summary)}
tags:
  - example
---

{words.post_body}
"""


def event_text(words: Words, day: date) -> str:
    """The example protest, with its permanent calendar UID."""
    return f"""---
title: {yaml_text(words.event_title)}
slug: example-protest
uid: {uuid.uuid4()}
starts: {day} 12:00
ends: {day} 14:00
timezone: Europe/London
kind: static-protest
status: scheduled
venue: {yaml_text(words.event_venue)}
address: "Street and number, postcode"
city: {yaml_text(words.event_city)}
country: United Kingdom
summary: "One sentence: who, what and why."
what_to_bring: "Banners, warm clothes"
posts:
  - example-news-post
---

{words.event_body}
"""


def page_text(words: Words) -> str:
    """The example About page, in the menu."""
    return f"""---
title: {yaml_text(words.page_title)}
slug: about
menu: 1
---

{words.page_body}
"""


def translation_text(title: str, slug: str, lang: str, key: str, summary: str | None, body: str, extra: str = "") -> str:
    """A translation of an example: its own text; dates, places and tags come from the original."""
    line = f"summary: {yaml_text(summary)}\n" if summary else ""
    return f"---\ntitle: {yaml_text(title)}\nslug: {slug}\nlang: {lang}\ntranslation_key: {key}\n{line}{extra}---\n\n{body}\n"


ENTITY_COMPANY = """\
---
name: Example Oil Company
slug: example-oil-company
type: company
country: Example country
ties:
  # Every tie needs a source: a post of this site, or a document with its title and publisher.
  - relation: listed-on
    object: example-exchange
    since: {year}
    sources:
      - post: {post}
      - url: https://example.org/annual-report
        title: "Annual report (replace with the real document)"
        publisher: Example Oil Company
        published: {year}
---

Who this is, in one or two sentences, with sources for anything that is not common knowledge.
"""

ENTITY_EXCHANGE = """\
---
name: Example Exchange
slug: example-exchange
type: organisation
country: United Kingdom
---

A stock exchange where the company's shares are listed.
"""

GITIGNORE = """\
# Made by the build: never commit them.
/output/
/.output.*
/.cache/
/dist/
/.venv/
__pycache__/
"""

WORKFLOW = """\
# Build the site, prove it leaks nothing (placard check), and publish output/ to GitHub Pages,
# on every push and once a day (so "upcoming" events turn into past ones without a push).
# Enable once: repository Settings -> Pages -> Source: "GitHub Actions", and set base_url in site.yml.
name: Publish site
on:
  push:
    branches: [main]
  schedule:
    - cron: "17 3 * * *"
  workflow_dispatch:
permissions:
  contents: read
  pages: write
  id-token: write
concurrency:
  group: pages
  cancel-in-progress: false
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - run: placard build
      - run: placard check
      - uses: actions/configure-pages@v5
      - uses: actions/upload-pages-artifact@v3
        with:
          path: output
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""

BUILD_PY = """\
#!/usr/bin/env python3
\"\"\"Build this campaign site: `python build.py` (also `serve`, `check`, `new post "Title"`); the same as `placard`.\"\"\"
import sys

from placard.cli import main

if __name__ == "__main__":
    sys.exit(main())
"""


def campaign_readme(title: str) -> str:
    """The README of a new site, for its campaigners."""
    return f"""# {title}

This is the campaign's website, built with placard. You write Markdown files in `content/`; placard
turns them into a small, fast site in `output/` that works on any web host, on a mirror and offline.

## Set up once

```sh
python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
```

## Every day

| command | what it does |
| --- | --- |
| `.venv/bin/placard serve` | preview the site on http://127.0.0.1:8000/ while you edit; every save shows at once |
| `.venv/bin/placard build` | build the site into `output/` (a problem is shown with its file and line, and `output/` is left as it was) |
| `.venv/bin/placard check` | before publishing: no request to another website, no broken link |
| `.venv/bin/placard new post "Title"` | start a news post from a complete example (also `event`, `page`) |

## Where things go

```
site.yml          the site's name, address, languages and contact details (every line is explained)
content/news/     news posts, one Markdown file each
content/events/   protests and meetings, one file each
content/links/    the corporate-links register: one file per company, person or government, with sourced ties
content/pages/    pages such as About
templates/        only templates you changed (placard theme copy templates/base.html); the rest come from placard
static/           files published as they are (a share.png, a PGP key); style.css here replaces placard's
```

The examples in `content/` show every kind of item: replace their text, keep their shape. The fields
of each kind are explained in placard's README.

## Upgrading placard

Change the version in `requirements.txt`, install it, then run `placard migrate --dry-run`: it lists
what to change, file by file, if anything. `placard theme diff` shows how your own templates differ
from the new defaults.

## Publishing

`.github/workflows/publish.yml` builds, checks and publishes the site to GitHub Pages on every push and
once a day. Upload only `output/`, never the rest of this folder.
"""
