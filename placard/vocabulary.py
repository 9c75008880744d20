"""The vocabularies content may use (relations, entity and event kinds, statuses), with their English
labels marked for translation. No imports: the models and the catalogues both read it."""

from __future__ import annotations


def N_(text: str) -> str:
    """Mark text in the code for the catalogues (placard/messages.pot); it is translated where it is shown."""
    return text


# Relation vocabulary for ties: key -> (label read from the subject, label read from the object).
# A tie is written once, in the subject's file; the register shows it from both sides.
RELATIONS: dict[str, tuple[str, str]] = {
    "owns": (N_("owns"), N_("owned by")),
    "invests-in": (N_("invests in"), N_("receives investment from")),
    "listed-on": (N_("listed on"), N_("lists")),
    "lends-to": (N_("lends to"), N_("borrows from")),
    "lobbies-for": (N_("lobbies for"), N_("lobbied for by")),
    "employs": (N_("employs"), N_("employed by")),
    "trades": (N_("trades"), N_("traded by")),
    "member-of": (N_("member of"), N_("has as member")),
    "chairman-of": (N_("chairman of"), N_("chaired by")),
    "director-of": (N_("director of"), N_("directed by")),
    "controls": (N_("controls"), N_("controlled by")),
    "other": (N_("linked to"), N_("linked to")),
}
ENTITY_KIND_LABELS = {"person": N_("Person"), "company": N_("Company"), "public-body": N_("Public body"),
                      "government": N_("Government"), "organisation": N_("Organisation")}
EVENT_KIND_LABELS = {"static-protest": N_("Static protest"), "march": N_("March"), "meeting": N_("Meeting"),
                     "online": N_("Online"), "vigil": N_("Vigil"), "other": N_("Other")}
EVENT_STATUS_LABELS = {"scheduled": N_("Scheduled"), "cancelled": N_("Cancelled"), "postponed": N_("Postponed"),
                       "rescheduled": N_("Rescheduled"), "moved-online": N_("Moved online")}


# What the preview's forms call each front-matter field (placard.editor), in plain words; the key itself is
# shown beside it, so the README's field tables still match. A field missing here is shown by its key.
FIELD_LABELS = {
    "accessed": N_("Date the source was read"),
    "accessibility": N_("Accessibility"),
    "address": N_("Street address"),
    "address_on_request": N_("Address given on request"),
    "aliases": N_("Earlier addresses (redirects)"),
    "ambiguous_time": N_("If the clock time happens twice"),
    "archived": N_("Archived copy (address)"),
    "author": N_("Author"),
    "body": N_("Text"),
    "city": N_("City"),
    "contact": N_("Contact"),
    "country": N_("Country"),
    "date": N_("Date"),
    "draft": N_("Draft (not published)"),
    "ends": N_("Ends"),
    "genre": N_("Kind of source"),
    "image": N_("Lead image"),
    "kind": N_("Kind"),
    "lang": N_("Language"),
    "menu": N_("Place in the menu"),
    "name": N_("Name"),
    "note": N_("Note"),
    "object": N_("Tied to (entity)"),
    "organizer": N_("Organiser"),
    "post": N_("Post cited"),
    "posts": N_("Posts about it"),
    "previous_start": N_("Previous start"),
    "publish": N_("Publish from"),
    "published": N_("Date published"),
    "publisher": N_("Publisher"),
    "relation": N_("Relation"),
    "replies": N_("Replies"),
    "role": N_("Role"),
    "safety": N_("Safety"),
    "sequence": N_("Revision number"),
    "since": N_("Since"),
    "slug": N_("Name in the address"),
    "source_note": N_("Where this comes from"),
    "sources": N_("Sources"),
    "starts": N_("Starts"),
    "status": N_("Status"),
    "summary": N_("Summary"),
    "tags": N_("Tags"),
    "ties": N_("Ties"),
    "timezone": N_("Time zone"),
    "title": N_("Title"),
    "translation_key": N_("Translation of (the original's name in the address)"),
    "type": N_("Type"),
    "uid": N_("Calendar ID"),
    "until": N_("Until"),
    "updated": N_("Last updated"),
    "url": N_("Address (URL)"),
    "venue": N_("Venue"),
    "website": N_("Website"),
    "what_to_bring": N_("What to bring"),
}
