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
