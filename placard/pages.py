"""Planning stage: every output of the site that a template renders, as a PageSpec (where it goes, with
which template and variables): the pages of each language, their pagination and language alternates,
the item pages and flyers, the Atom feeds, the sitemap and robots.txt. Pure: the same site plans the
same pages; nothing is rendered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from .calendar import ENGLISH, calendar_path, event_page_context, flyer_context, flyer_path, webcal_url
from .catalogue import Catalogue
from .index import SiteIndex, index_site
from .languages import LanguageView, group_of, localise
from .models import Site
from .register import build_register
from .related import related_posts
from .slugs import make_slug
from .urls import lang_prefix, path_of, tag_slug


@dataclass(frozen=True)
class PageSpec:
    """One page to render: where it goes, with which template and variables."""

    path: str
    template: str
    context: dict = field(default_factory=dict)
    origin: str = ""
    lang: str = ""  # the page's language ('' for the site's default)
    identity: str = ""  # pages with the same identity are translations of each other (hreflang, switcher)


def plan_pages(site: Site, catalogues: dict[str, Catalogue] | None = None, index: SiteIndex | None = None) -> list[PageSpec]:
    """Every HTML page of the site, in every language, with its template and variables."""
    catalogues = catalogues or {}
    index = index or index_site(site)
    default = site.config.language
    register = build_register(site)
    specs = [PageSpec("404.html", "404.html", {"standalone": True}, lang=default, identity="404")]
    author_slugs = {name: slug for name, (slug, _) in authors_of(site.posts).items()}  # every language has the same authors
    related = related_posts(site.posts, register.mentions)
    for lang in site.config.languages:
        specs += plan_language(site, lang, index.views[lang], register)
    for item in site.posts + site.events + site.pages + site.translations:
        if item.kind == "event":
            extra = event_page_context(item, site, catalogues.get(item.lang, ENGLISH))
        elif item.kind == "post":  # the events that call this post (or the original it translates), in its language
            original = localise(index.groups, item, default)
            extra = {"called_events": tuple(localise(index.groups, e, item.lang) for e in index.events_calling.get(original.slug, ())),
                     "related": tuple(localise(index.groups, p, item.lang) for p in related.get(original.slug, ())),
                     "author_path": f"{lang_prefix(item.lang, default)}authors/{author_slugs[item.author]}/index.html" if item.author in author_slugs else None}
        else:
            extra = {}
        template = {"post": "post.html", "event": "event.html", "page": "page.html"}[item.kind]
        identity = ":".join(group_of(item))
        specs.append(PageSpec(path_of(item, default), template, {item.kind: item, "item": item, **extra}, item.origin.path, item.lang, identity))
        if item.kind == "event":
            specs.append(PageSpec(flyer_path(item, default), "flyer.html", {"event": item, "item": item, **flyer_context(item, site)}, item.origin.path, item.lang, "flyer:" + identity))
    return with_alternates(specs, index)


PAGE_SIZE = 50  # posts per page of a list: about 20 KB, well inside the 50 KB page budget


@dataclass(frozen=True)
class Pager:
    """Where one page of a long list stands: its number, and the pages before and after it."""

    number: int
    total: int
    newer: str | None
    older: str | None


def paginate(folder: str, template: str, context: dict, posts: tuple, prefix: str) -> list[tuple[str, str, dict]]:
    """A list of posts as pages of PAGE_SIZE: folder/index.html, then folder/page/2/index.html, ...
    (paths within the language's folder; the pager's links include its `prefix`)."""
    chunks = [posts[start:start + PAGE_SIZE] for start in range(0, len(posts), PAGE_SIZE)] or [posts]
    paths = [f"{folder}index.html" if number == 1 else f"{folder}page/{number}/index.html" for number in range(1, len(chunks) + 1)]
    pages = []
    for number, (path, chunk) in enumerate(zip(paths, chunks), 1):
        newer = prefix + paths[number - 2] if number > 1 else None
        older = prefix + paths[number] if number < len(chunks) else None
        pages.append((path, template, {**context, "posts": chunk, "pager": Pager(number, len(chunks), newer, older)}))
    return pages


def plan_language(site: Site, lang: str, view: LanguageView, register) -> list[PageSpec]:
    """The section pages of one language (home, news, calendar, register and its entities' pages, tags, mirrors), under its folder."""
    prefix = lang_prefix(lang, site.config.language)
    tags = tags_of(view)
    calendar = {"upcoming": view.upcoming(site.now), "past": view.past(site.now), "webcal": webcal_url(site.config, lang), "calendar_path": calendar_path(lang, site.config)}
    sections = [
        ("index.html", "home.html", {"upcoming": view.upcoming(site.now), "latest": view.posts[:5]}),
        ("calendar/index.html", "calendar.html", calendar),
        ("links/index.html", "links.html", {"entities": site.entities, "register": register}),
        ("tags/index.html", "tags.html", {"tags": tags}),
    ]
    if not any(page.slug == "contact" for page in site.pages):  # a campaign's own contact page wins over the generated one
        sections.append(("contact/index.html", "contact.html", {}))
    if site.config.mirrors:
        sections.append(("mirrors/index.html", "mirrors.html", {}))
    if site.config.search:  # the page loads Pagefind's engine, WebAssembly: its CSP allows exactly that (render.py)
        sections.append(("search/index.html", "search.html", {"search_page": True}))
    for entity in register.entities:  # a page per entity beside the register's overview (links/<slug>/)
        sections.append((f"links/{entity.slug}/index.html", "entity.html", {
            "entity": entity, "rows": register.rows[entity.slug], "sources": register.sources[entity.slug],
            "mentions": register.mentions[entity.slug]}))
    years = years_of(view.posts)
    authors = authors_of(view.posts)
    sections.append(("authors/index.html", "authors.html", {"authors": tuple((name, slug, len(posts)) for name, (slug, posts) in authors.items())}))
    sections += paginate("news/", "news.html", {"archive_years": tuple((year, len(posts)) for year, posts in years.items())}, tuple(view.posts), prefix)
    sections += archive_sections(years, prefix)
    for name, (slug, posts) in authors.items():
        sections += paginate(f"authors/{slug}/", "author.html", {"author": name}, tuple(posts), prefix)
    for tag, posts in tags.items():
        sections += paginate(f"tags/{tag_slug(tag)}/", "tag.html", {"tag": tag}, tuple(posts), prefix)
    return [PageSpec(prefix + path, template, context, "", lang, "section:" + path) for path, template, context in sections]


MONTHS_AFTER = 30  # a year with more posts than this is archived month by month (its page lists the months)


def years_of(posts) -> dict[int, list]:
    """Year -> its posts, newest year first (the year of the date as shown on the post)."""
    years: dict[int, list] = {}
    for post in posts:  # newest first, so each year's list is too
        years.setdefault(post.date.year, []).append(post)
    return dict(sorted(years.items(), reverse=True))


def archive_sections(years: dict[int, list], prefix: str) -> list[tuple[str, str, dict]]:
    """news/<year>/ for each year, listing its posts; a year with more than MONTHS_AFTER posts lists its months
    instead, each with its page news/<year>/<month>/ (pages within the language's folder)."""
    sections: list[tuple[str, str, dict]] = []
    every_year = tuple(years)
    for year, posts in years.items():
        if len(posts) <= MONTHS_AFTER:
            sections += paginate(f"news/{year}/", "archive.html", {"year": year, "month": None, "months": (), "years": every_year}, tuple(posts), prefix)
            continue
        months: dict[int, list] = {}
        for post in posts:
            months.setdefault(post.date.month, []).append(post)
        listed = tuple((f"{year}-{month:02d}", f"news/{year}/{month:02d}/index.html", len(items)) for month, items in months.items())
        sections.append((f"news/{year}/index.html", "archive.html", {"year": year, "month": None, "months": listed, "years": every_year, "posts": (), "pager": None}))
        for month, items in months.items():
            sections += paginate(f"news/{year}/{month:02d}/", "archive.html", {"year": year, "month": f"{year}-{month:02d}", "months": (), "years": every_year}, tuple(items), prefix)
    return sections


def authors_of(posts) -> dict[str, tuple[str, list]]:
    """Author name -> (the slug of their page, their posts), by name; two names with the same slug
    (`A. Writer`, `A Writer`) get -2, -3... in that order, so neither page hides the other."""
    by_name: dict[str, list] = {}
    for post in posts:
        by_name.setdefault(post.author, []).append(post)
    authors: dict[str, tuple[str, list]] = {}
    taken: set[str] = set()
    for name in sorted(by_name, key=lambda n: (n.casefold(), n)):
        base = make_slug(name, fallback="author")
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        authors[name] = (slug, by_name[name])
    return authors


def with_alternates(specs: list[PageSpec], index: SiteIndex) -> list[PageSpec]:
    """Give each page the paths of its versions in other languages (for hreflang and the switcher)
    and its language's menu, as its own variables (so a cached page depends on exactly these)."""
    versions: dict[str, dict[str, str]] = {}
    for spec in specs:
        versions.setdefault(spec.identity, {})[spec.lang] = spec.path
    return [PageSpec(s.path, s.template, {**s.context, "alternates": versions[s.identity], "menu_pages": index.menus[s.lang]}, s.origin, s.lang, s.identity)
            for s in specs]


def tags_of(view) -> dict[str, list]:
    """Tag name -> posts with that tag, tags sorted by name."""
    tags: dict[str, list] = {}
    for post in view.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return dict(sorted(tags.items(), key=lambda kv: kv[0].lower()))


FEED_SIZE = 20


def plan_feeds(site: Site, pages: list[PageSpec], index: SiteIndex) -> list[PageSpec]:
    """Each language's Atom feed, the sitemap (of the HTML `pages` already planned) and robots.txt, each from its template."""
    html_pages = [spec.path for spec in pages if spec.path != "404.html"]
    feeds = [
        PageSpec(lang_prefix(lang, site.config.language) + "feed.xml", "feed.xml", {"posts": index.views[lang].posts[:FEED_SIZE]}, lang=lang, identity="feed")
        for lang in site.config.languages
    ]
    return feeds + [
        PageSpec("sitemap.xml", "sitemap.xml", {"pages": sorted(html_pages)}),
        PageSpec("robots.txt", "robots.txt", {}),
    ]


def plan_site(site: Site, catalogues: dict[str, Catalogue], index: SiteIndex) -> list[PageSpec]:
    """Every page and feed of the site."""
    specs = plan_pages(site, catalogues, index)
    return specs + plan_feeds(site, specs, index)


def next_change(site: Site) -> datetime:
    """The first moment after the build's `now` at which the same content would build differently:
    a scheduled item falls due, an upcoming event ends (it moves to the past), or the date the home
    and calendar pages show as "correct as of" turns. `now` itself when the output follows the clock
    closely (a feed without posts is dated by the build; every language lists every post, translated or not)."""
    now = site.now
    if not site.posts:
        return now
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)
    moments = [midnight, *(held.until for held in site.held_back if held.until is not None and held.until > now),
               *(event.finishes for event in site.events if event.finishes > now)]
    return min(moments)

