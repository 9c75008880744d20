"""The HTML allowlist for bodies, enforced with nh3 (Ammonia, an HTML5 parser and sanitizer).

nh3 decides: a body is refused when sanitizing would take anything out of it. What is published is
nh3's own serialisation of the body (for Python-Markdown's output the same bytes, save how a few
characters such as a no-break space are written), so a browser reads exactly the tree nh3 checked.
A scan with html.parser over the same HTML names each refused construct for the message.
"""

from __future__ import annotations

import re
from html import unescape

import nh3

from .htmlrefs import FOLLOWED_ONLY_SCHEMES, _Parser

REF_KINDS = ("post", "event", "entity", "page", "section")  # placard's links between items, resolved after conversion
URL_SCHEMES = {"http", "https", "mailto", "tel", *FOLLOWED_ONLY_SCHEMES, *REF_KINDS}

# What campaign posts need: Python-Markdown's output (`extra`, `toc`'s heading ids, footnotes,
# abbreviations, tables, definition lists, code) and the few HTML elements with no Markdown syntax.
TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "div", "span", "a", "img", "em", "strong", "b", "i", "u", "s",
    "del", "ins", "mark", "small", "sub", "sup", "code", "pre", "kbd", "samp", "var", "blockquote", "q", "cite", "abbr",
    "dfn", "time", "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot",
    "tr", "th", "td", "figure", "figcaption", "details", "summary",
}
GLOBAL_ATTRIBUTES = {"id", "class", "title", "lang", "dir"}  # ids: headings and footnotes; classes: footnotes, .decorative
TAG_ATTRIBUTES = {
    "a": {"href", "hreflang"}, "img": {"src", "alt", "width", "height"}, "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"}, "ol": {"start", "reversed", "type"}, "li": {"value"}, "time": {"datetime"},
    "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
    "details": {"open"}, "col": {"span"}, "colgroup": {"span"},
}
ALIGNMENTS = {f"text-align: {side};" for side in ("left", "center", "right")}  # exactly what Python-Markdown's tables write
ATTRIBUTE_VALUES = {"th": {"style": ALIGNMENTS}, "td": {"style": ALIGNMENTS}}
ALLOWLIST = nh3.Cleaner(  # built once: configuring nh3 for each body cost more than cleaning it
    tags=TAGS, attributes={"*": GLOBAL_ATTRIBUTES, **TAG_ATTRIBUTES}, tag_attribute_values=ATTRIBUTE_VALUES,
    url_schemes=URL_SCHEMES, link_rel=None, strip_comments=True,  # (rel= is placard's to add, on outbound links)
)

URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "data", "poster", "xlink:href", "srcset", "background", "ping", "codebase"}
WORD = re.compile(r"[^\s<>/=\"'`]+")  # anything that could be a tag or attribute name
UNFINISHED = re.compile(r"<[a-zA-Z/!?][^>]*$")
C0_AND_SPACE = "".join(map(chr, range(0x21)))  # what the URL standard strips from both ends
SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*(?=:)")

WHY_NOT = {
    "script": "scripts in content could track or attack readers; remove it",
    "noscript": "its content is read differently with and without scripts, which is how markup is smuggled past checks; remove it",
    "textarea": "a raw-text element, used to smuggle markup past checks; remove it",
    "xmp": "a raw-text element, used to smuggle markup past checks; remove it",
    "noembed": "a raw-text element, used to smuggle markup past checks; remove it",
    "noframes": "a raw-text element, used to smuggle markup past checks; remove it",
    "plaintext": "a raw-text element, used to smuggle markup past checks; remove it",
    "title": "the page's title is set by placard; remove it",
    "template": "its content is hidden markup that scripts can bring to life; remove it",
    "iframe": "it loads another website into the page and tells it who is reading; link to it instead",
    "frame": "it loads another website into the page; link to it instead",
    "object": "it loads outside content or plug-ins; link to it instead",
    "embed": "it loads outside content or plug-ins; link to it instead",
    "applet": "it loads outside content or plug-ins; link to it instead",
    "meta": "it can send readers to another site or change how the page is read; remove it",
    "base": "it changes where every link on the page goes; remove it",
    "link": "it makes readers' browsers load other files; remove it",
    "style": "it can restyle the whole page, hide text or load files; use Markdown for formatting",
    "form": "forms in content can collect readers' data for someone else; link to the form's page instead",
    "input": "form fields in content can collect readers' data for someone else; remove it",
    "button": "form controls in content can submit readers' data elsewhere; remove it",
    "select": "form controls in content can submit readers' data elsewhere; remove it",
    "svg": "SVG can carry scripts and links the page cannot check; save it as an image file and write ![what it shows](file.svg)",
    "math": "MathML can carry links and markup the page cannot check; write the formula as text or an image",
    "video": "media elements are not supported in posts; link to the file instead",
    "audio": "media elements are not supported in posts; link to the file instead",
}
WHY_NOT_OTHER = "only the HTML Markdown writes, plus a few elements such as <details> and <figure>, may be used; write it in Markdown instead"


def sanitize_html(html: str) -> tuple[str, bool]:
    """(nh3's clean HTML, whether sanitizing took anything out): the sanitizer's verdict on a body."""
    clean = ALLOWLIST.clean(html)
    if clean == html:  # (most bodies: nothing to take out, nothing re-written)
        return clean, False
    return clean, clean != clean_permissively(html)


def unfinished_tag(html: str) -> str | None:
    """A tag left open at the end of the HTML ('<img alt="'): nh3, like browsers, drops it, so
    the allowlist cannot see it; in a page it would swallow what follows."""
    match = UNFINISHED.search(html)
    return match.group(0) if match else None


def clean_permissively(html: str) -> str:
    """nh3's parse and serialisation of `html`, keeping every tag, attribute, URL and comment it holds:
    what the allowlist's output would be if the allowlist took nothing out (it keeps any name written)."""
    words = set(WORD.findall(html))
    words |= {word.lower() for word in words}
    plain = re.sub(r"[\t\n\r]", "", unescape(html))  # (as browsers read a URL: tabs and newlines dropped)
    schemes = {scheme.lower() for scheme in SCHEME.findall(plain)}
    return nh3.clean(html, tags=words, clean_content_tags=set(), attributes={"*": words}, url_schemes=schemes,
                     link_rel=None, strip_comments=False)


def url_scheme(value: str) -> str | None:
    """The scheme a browser reads in a URL attribute (leading spaces and controls, tabs and newlines ignored)."""
    match = SCHEME.match(re.sub(r"[\t\n\r]", "", value).lstrip(C0_AND_SPACE))
    return match.group(0).lower() if match else None


class AllowlistScanner(_Parser):
    """Name what the allowlist refuses in HTML (entities decoded), each with the text to look for in
    the source; collects htmlrefs' references and images in the same pass."""

    collect_runnable = False  # (the allowlist is stricter)

    def __init__(self, explain: bool = True) -> None:
        super().__init__()
        self.explain = explain  # False: nh3 found nothing to refuse, only collect references and images
        self.findings: list[tuple[str, str]] = []  # (message, text to look for in the source)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        super().handle_starttag(tag, attrs)
        if not self.explain:
            return
        if tag not in TAGS:
            self.findings.append((f"<{tag}> is not allowed here ({WHY_NOT.get(tag, WHY_NOT_OTHER)})", f"<{tag}"))
            return
        for name, value in attrs:
            self.check_attribute(tag, name, value or "")

    def check_attribute(self, tag: str, name: str, value: str) -> None:
        """A finding for an attribute (or its value) the allowlist refuses on this tag."""
        allowed_values = ATTRIBUTE_VALUES.get(tag, {}).get(name)
        if name.startswith("on"):
            self.findings.append((f"the event handler '{name}=' on <{tag}> is not allowed here (it would run a script in every reader's browser); remove it", name))
        elif allowed_values is not None:
            if value not in allowed_values:
                self.findings.append((f"{name}=\"{value}\" on <{tag}> is not allowed here (only the alignment Markdown tables write); align with :--, :-: or --: in the table's second line", name))
        elif name not in GLOBAL_ATTRIBUTES and name not in TAG_ATTRIBUTES.get(tag, ()):
            self.findings.append((f"the attribute '{name}=' on <{tag}> is not allowed here (only {', '.join(sorted(GLOBAL_ATTRIBUTES | TAG_ATTRIBUTES.get(tag, set())))} are); remove it", name))
        elif name in URL_ATTRIBUTES:
            scheme = url_scheme(value)
            if scheme is not None and scheme not in URL_SCHEMES:
                why = ("a data: address can hold a whole page or a script; put the file in content/ and link to it" if scheme == "data"
                       else "links may use web, mail and phone addresses or post:/event:/page: links; link to a normal web address instead")
                self.findings.append((f"a '{scheme}:' address in {name}= on <{tag}> is not allowed here ({why})", scheme[:4]))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        if self.explain:
            self.findings.append(("an HTML comment <!-- ... --> is not allowed here (it is published in the page's source for anyone to read, "
                                  "and can hide part of the page); delete it", "<!--"))

    def handle_pi(self, data: str) -> None:
        if self.explain:
            self.findings.append((f"'<?{data[:20]}' is not allowed here (browsers read it as a hidden comment); delete it", "<?"))

    def unknown_decl(self, data: str) -> None:
        if self.explain:
            self.findings.append((f"'<![{data[:20]}' is not allowed here (browsers read it as a hidden comment); delete it", "<!["))

    def handle_decl(self, decl: str) -> None:
        if self.explain:
            self.findings.append((f"'<!{decl[:20]}' is not allowed here (a page has one doctype, placard's); delete it", "<!"))
