"""The position scanner: the line each key path was written on, in every TOML spelling a practice
may use, since every `path:line:` message depends on it."""

from __future__ import annotations

from coreg_desktop.practice.positions import SourceMap, map_source, tomllib


def scanned(source: str) -> SourceMap:
    tomllib.loads(source)  # the scanner is only ever given TOML that tomllib accepted
    return map_source(source)


def test_keys_in_an_array_of_tables_get_their_own_element_and_line() -> None:
    source = (
        'title = "x"\n'  # 1
        "[[steps]]\n"  # 2
        'say = "a"\n'  # 3
        "\n"  # 4
        "[[steps]]\n"  # 5
        "# pause = 1, a comment\n"  # 6
        "pause = 2\n"  # 7
        "[[steps]]\n"  # 8
        "[steps.breathe]\n"  # 9
        "inhale = 4\n"  # 10
    )
    lines = scanned(source).key_lines
    assert lines[("title",)] == 1
    assert lines[("steps",)] == 2
    assert lines[("steps", 0)] == 2
    assert lines[("steps", 0, "say")] == 3
    assert lines[("steps", 1)] == 5
    assert lines[("steps", 1, "pause")] == 7
    assert lines[("steps", 2)] == 8
    assert lines[("steps", 2, "breathe")] == 9
    assert lines[("steps", 2, "breathe", "inhale")] == 10
    assert ("steps", 3) not in lines


def test_multi_line_strings_are_skipped_whole_and_their_span_kept() -> None:
    source = (
        "[[steps]]\n"  # 1
        'say = """\n'  # 2
        "[[steps]]\n"  # 3: text, not a header
        'pause = 9 "quoted" # not a comment\n'  # 4: text, not a key
        '"""\n'  # 5
        "pause = 1\n"  # 6
        "bell = '''it''''\n"  # 7: the last quote before ''' belongs to the text
        'cue = """say "hi"""""\n'  # 8: likewise two quotes before """
        "hold = 2\n"  # 9
    )
    source_map = scanned(source)
    lines = source_map.key_lines
    assert lines[("steps", 0, "say")] == 2
    assert lines[("steps", 0, "pause")] == 6
    assert lines[("steps", 0, "bell")] == 7
    assert lines[("steps", 0, "cue")] == 8
    assert lines[("steps", 0, "hold")] == 9
    assert ("steps", 1) not in lines
    assert source_map.spans[("steps", 0, "say")] == (2, 5)
    assert source_map.line_containing(("steps", 0, "say"), '"quoted"') == 4
    assert source_map.line_containing(("steps", 0, "say"), "not in the text") == 2


def test_inline_tables_and_arrays_spread_over_lines() -> None:
    source = (
        "steps = [\n"  # 1
        '  { say = "One." },\n'  # 2
        "  # a comment between elements\n"  # 3
        "  { breathe = { inhale = 4, exhale = 6, cycles = 2 } },\n"  # 4
        "]\n"  # 5
        'tags = ["a",\n'  # 6
        '  "b"]\n'  # 7
        'id = "x"\n'  # 8
    )
    source_map = scanned(source)
    lines = source_map.key_lines
    assert lines[("steps",)] == 1
    assert lines[("steps", 0)] == 2
    assert lines[("steps", 0, "say")] == 2
    assert lines[("steps", 1)] == 4
    assert lines[("steps", 1, "breathe")] == 4
    assert lines[("steps", 1, "breathe", "exhale")] == 4
    assert lines[("tags", 1)] == 7
    assert lines[("id",)] == 8
    assert source_map.spans[("steps",)] == (1, 5)


def test_dotted_quoted_and_literal_keys_and_strings_with_hashes() -> None:
    source = (
        '"quoted key".sub = 1\n'  # 1
        "'literal'.\"a.b\" = 2\n"  # 2
        "[[steps]]\n"  # 3
        "breathe.inhale = 4\n"  # 4
        'say = "a # not a comment, = \\" still text"\n'  # 5
        "breathe . exhale = 6\n"  # 6
    )
    lines = scanned(source).key_lines
    assert lines[("quoted key",)] == 1
    assert lines[("quoted key", "sub")] == 1
    assert lines[("literal", "a.b")] == 2
    assert lines[("steps", 0, "breathe")] == 4
    assert lines[("steps", 0, "breathe", "inhale")] == 4
    assert lines[("steps", 0, "say")] == 5
    assert lines[("steps", 0, "breathe", "exhale")] == 6


def test_windows_line_endings_count_the_same() -> None:
    source = '\r\nid = "x"\r\n\r\n[[steps]]\r\npause = 1\r\n'
    lines = scanned(source).key_lines
    assert (lines[("id",)], lines[("steps", 0)], lines[("steps", 0, "pause")]) == (2, 4, 5)


def test_line_for_falls_back_to_the_nearest_written_ancestor() -> None:
    source_map = scanned('id = "x"\n[[steps]]\nbreathe = { inhale = 4 }\n')
    assert source_map.line_for(("steps", 0, "breathe", "inhale")) == 3
    assert source_map.line_for(("steps", 0, "breathe", "exhale")) == 3
    assert source_map.line_for(("steps", 0, "bell")) == 2
    assert source_map.line_for(("steps", 7)) == 2
    assert source_map.line_for(("nowhere",)) == 1
    # Without a recorded span, line_containing falls back to line_for.
    assert source_map.line_containing(("steps", 0, "bell"), "x") == 2


def test_a_scanner_hiccup_keeps_what_was_mapped_and_never_raises() -> None:
    # Not valid TOML, so the scanner stops at the bad value; the lines before it remain.
    source_map = map_source('id = "x"\n\n[[steps]]\npause = \nbell = true\n')
    assert source_map.key_lines[("id",)] == 1
    assert source_map.key_lines[("steps", 0)] == 3
    assert source_map.key_lines[("steps", 0, "pause")] == 4
    assert ("steps", 0, "bell") not in source_map.key_lines
    assert source_map.line_for(("steps", 0, "bell")) == 3
    deep = map_source("x = " + "[" * 5000)
    assert deep.line_for(("x",)) == 1
