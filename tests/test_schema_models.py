"""Each model is declared with its schema beside it (placard/models.py): every field campaigners may
write lands in a field of the model (so it can be shown), and every field of the model is either
written by campaigners or named here as derived by the loader."""

from __future__ import annotations

import dataclasses

import pytest

from placard import models

# schema, model, front-matter keys stored under another name, keys consumed while loading, model fields the loader derives
CASES = [
    (models.POST_SCHEMA, models.Post, {}, set(), {"body", "origin", "body_line", "original", "untranslated", "aliases_line"}),
    (models.PAGE_SCHEMA, models.Page, {}, set(), {"body", "origin", "body_line", "original", "untranslated", "aliases_line"}),
    (models.EVENT_SCHEMA, models.Event, {"kind": "kind_of_event"}, {"ambiguous_time"},  # (which of two wall-clock times is meant)
     {"body", "origin", "body_line", "original", "untranslated", "all_day", "aliases_line"}),
    (models.ENTITY_SCHEMA, models.Entity, {"type": "entity_kind"}, set(), {"body", "origin", "body_line"}),
    (models.TIE_SCHEMA, models.Tie, {}, set(), {"subject", "line", "object_line"}),
    (models.SOURCE_SCHEMA, models.Source, {}, set(), {"line"}),
    (models.REPLY_SCHEMA, models.Reply, {}, set(), {"line"}),
    (models.CONFIG_SCHEMA, models.SiteConfig, {}, set(), set()),
    (models.SITE_TEXT_SCHEMA, models.SiteTexts, {}, set(), set()),
]


@pytest.mark.parametrize("schema, model, renamed, consumed, derived", CASES, ids=[case[1].__name__ for case in CASES])
def test_the_schema_and_its_model_declare_the_same_fields(schema, model, renamed, consumed, derived):
    fields = {f.name for f in dataclasses.fields(model) if f.init}
    stored = {renamed.get(key, key) for key in schema} - consumed
    assert sorted(stored - fields) == [], "accepted in front matter but not kept in the model"
    assert sorted(fields - stored - derived) == [], "in the model but neither written by campaigners nor derived"


def test_each_translation_schema_is_a_part_of_its_originals():
    originals = {"post": models.POST_SCHEMA, "page": models.PAGE_SCHEMA, "event": models.EVENT_SCHEMA}
    for kind, schema in models.TRANSLATION_SCHEMAS.items():
        assert set(schema) <= set(originals[kind]), kind
