"""The README's field tables are the campaigners' reference: they list exactly the fields the build
accepts, with the same required ones (each table checked against the schema the build validates with)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from placard.models import CONFIG_SCHEMA, ENTITY_SCHEMA, EVENT_SCHEMA, PAGE_SCHEMA, POST_SCHEMA, SOURCE_SCHEMA, TIE_SCHEMA

README = (REPO / "README.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The README's text under one `### ` heading."""
    start = README.index("\n### " + heading)
    end = README.find("\n#", start + 5)
    return README[start:end]


def table_fields(text: str) -> dict[str, str]:
    """Field name -> its 'required' cell, for every row of the section's field table."""
    fields = {}
    for first, required in re.findall(r"(?m)^\| (`[^|]+) \| ([^|]+) \|", text):
        prefix = ""
        for name in re.findall(r"`([^`]+)`", first):
            if name.startswith("ties[]."):
                prefix, name = "ties[].", name.removeprefix("ties[].")
            fields[prefix + name] = required.strip()
    return fields


@pytest.mark.parametrize("heading, schema", [("A news post", POST_SCHEMA), ("An event", EVENT_SCHEMA), ("Site settings", CONFIG_SCHEMA)])
def test_each_field_table_lists_exactly_the_schemas_fields(heading, schema):
    fields = table_fields(section(heading))
    assert sorted(fields) == sorted(schema)
    required = {name for name, cell in fields.items() if cell == "yes"}
    # uid: written by `build.py new event`; the build explains a missing one with a fresh one to paste
    assert required == {name for name, field in schema.items() if field.required} | ({"uid"} if schema is EVENT_SCHEMA else set())


def test_the_register_table_lists_the_entity_tie_and_source_fields():
    text = section("A corporate tie")
    fields = table_fields(text)
    assert sorted(name for name in fields if not name.startswith("ties[].")) == sorted(ENTITY_SCHEMA.keys() - {"ties"})
    assert sorted(name.removeprefix("ties[].") for name in fields if name.startswith("ties[].")) == sorted(TIE_SCHEMA)
    sources_row = next(line for line in text.splitlines() if line.startswith("| `ties[].sources`"))
    assert set(re.findall(r"`(\w+):", sources_row)) == set(SOURCE_SCHEMA)


def test_the_page_paragraph_names_every_page_field():
    paragraph = section("A page").split("\n\n")[1]
    assert sorted(set(re.findall(r"`(\w+)`", paragraph))) == sorted(PAGE_SCHEMA)
