"""Reading files into front matter and body: line numbers, encodings, YAML surprises."""

import pytest

from placard.documents import DocumentError, decode_bytes, parse_document


def test_front_matter_keeps_every_scalar_as_text_and_knows_lines():
    doc = parse_document("x.md", "---\ntitle: no\ndate: 2011-12-21\ntime: 12:00\ntags:\n  - a\n---\n\nBody\n")
    assert doc.meta == {"title": "no", "date": "2011-12-21", "time": "12:00", "tags": ["a"]}
    assert doc.meta.lines == {"title": 2, "date": 3, "time": 4, "tags": 5}
    assert doc.meta["tags"].lines == [6]
    assert doc.body == "Body\n" and doc.body_line == 9


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("---\ntitle: a\n", 1, "not closed"),
        ("---\ntitle: a\ntitle: b\n---\n", 3, "'title' appears twice (first on line 2)"),
        ("---\n\ttitle: a\n---\n", 2, "tab character"),
        ("---\n- a\n---\n", 2, "not a list"),
        ("", 1, "the file is empty"),
        ("title: a\n", 1, "must start with a '---' line"),
        ("---\ntitle: \"open\n---\n", 2, "never closed"),
    ],
)
def test_bad_front_matter_is_explained(text, line, words):
    with pytest.raises(DocumentError) as info:
        parse_document("x.md", text)
    assert info.value.line == line
    assert words in info.value.message


def test_bom_and_crlf_are_accepted():
    text = decode_bytes("\ufeff---\r\ntitle: a\r\n---\r\nBody\r\n".encode("utf-8"))
    assert parse_document("x.md", text).meta == {"title": "a"}


def test_not_utf8_names_the_byte_offset():
    with pytest.raises(DocumentError) as info:
        decode_bytes(b"---\ntitle: caf\xe9\n---\n")
    assert "byte offset 14" in info.value.message and info.value.line == 2


def test_binary_and_huge_files_are_refused():
    with pytest.raises(DocumentError, match="not a text file"):
        decode_bytes(b"\x89PNG\x00\x00")
    with pytest.raises(DocumentError, match="the limit is"):
        decode_bytes(b"a" * (3 * 1024 * 1024))


@pytest.mark.parametrize(
    "value, line",
    [
        ("[" * 300 + "x" + "]" * 300, 2),  # flow style: all on the value's line
        ("{a: " * 300 + "x" + "}" * 300, 2),
        ("\n" + "".join("  " * i + "- \n" for i in range(1, 300)), 52),  # block style: where it passes 50 levels
    ],
)
def test_deeply_nested_yaml_is_a_located_error_not_a_recursion_error(value, line):
    with pytest.raises(DocumentError) as info:
        parse_document("x.md", f"---\ntags: {value}\n---\n\nBody\n")
    assert info.value.line == line
    assert "nested more than 50 levels deep" in info.value.message


def test_nesting_past_the_recursion_limit_is_still_a_document_error(monkeypatch):
    """The safety net: were the constructors' limit higher than Python's stack allows, the
    RecursionError still becomes a DocumentError (found by the event parser, which never recurses)."""
    import placard.documents as documents

    monkeypatch.setattr(documents, "MAX_DEPTH", 10**6)
    with pytest.raises(DocumentError) as info:
        documents.parse_yaml("tags: " + "[" * 5000 + "]" * 5000)
    assert "too deep to read" in info.value.message
