"""The suggestion cache alone: exact hits, typed-through, backspace-and-retype, LRU, limits."""

from __future__ import annotations

from spark_lsp.completion.cache import Cached, SuggestionCache, text_before
from tests.unit.test_completion_cases import snapshot_at

URI = "file:///a.py"


def test_same_place_same_suggestion() -> None:
    cache = SuggestionCache()
    cache.put(URI, "def f():\n    return ", "", Cached("a + b"))
    assert cache.lookup(URI, "def f():\n    return ", "") == Cached("a + b")


def test_typed_through_serves_the_rest() -> None:
    cache = SuggestionCache()
    cache.put(URI, "x = ", ")", Cached("compute(a, b", 0))
    for typed in range(1, 7):
        hit = cache.lookup(URI, "x = " + "compute(a, b"[:typed], ")")
        assert hit == Cached("compute(a, b"[typed:], 0)


def test_typed_through_across_a_newline_with_auto_indent() -> None:
    cache = SuggestionCache()
    cache.put(URI, "def f():\n    ", "", Cached("x = 1\n    return x"))
    assert cache.lookup(URI, "def f():\n    x = 1\n    ", "") == Cached("return x")


def test_backspace_and_retype() -> None:
    cache = SuggestionCache()
    cache.put(URI, "y = ", "", Cached("total + 1"))
    assert cache.lookup(URI, "y = tot", "") == Cached("al + 1")
    assert cache.lookup(URI, "y = to", "") == Cached("tal + 1")  # backspace
    assert cache.lookup(URI, "y = tot", "") == Cached("al + 1")  # retype


def test_typing_something_else_misses() -> None:
    cache = SuggestionCache()
    cache.put(URI, "y = ", "", Cached("total + 1"))
    assert cache.lookup(URI, "y = tx", "") is None
    assert cache.lookup(URI, "y = total + 1", "") is None  # typed it all: nothing left
    assert cache.lookup(URI, "y = t", "]") is None  # another rest of the line
    assert cache.lookup("file:///b.py", "y = t", "") is None


def test_least_recently_used_goes_first() -> None:
    cache = SuggestionCache(size=2)
    cache.put(URI, "a", "", Cached("1"))
    cache.put(URI, "b", "", Cached("2"))
    assert cache.lookup(URI, "a", "") is not None  # a is now the most recent
    cache.put(URI, "c", "", Cached("3"))
    assert cache.lookup(URI, "b", "") is None
    assert len(cache) == 2


def test_only_the_text_near_the_cursor_is_the_key() -> None:
    cache = SuggestionCache(key_chars=8, max_typed=4)
    cache.put(URI, "far away; foo = ", "", Cached("bar()"))
    assert cache.lookup(URI, "elsewhere; foo = ", "") == Cached("bar()")
    assert cache.lookup(URI, "elsewhere; foo = ba", "") == Cached("r()")


def test_typing_past_the_limit_misses() -> None:
    cache = SuggestionCache(key_chars=8, max_typed=2)
    cache.put(URI, "abc = ", "", Cached("foobar"))
    assert cache.lookup(URI, "abc = fo", "") == Cached("obar")
    assert cache.lookup(URI, "abc = foo", "") == Cached("bar")  # served from "abc = fo"'s entry


def test_empty_suggestions_are_not_stored() -> None:
    cache = SuggestionCache()
    cache.put(URI, "a", "", Cached("  \n"))
    assert len(cache) == 0


def test_text_before_reads_only_what_it_needs() -> None:
    snapshot, line, character = snapshot_at("a = 1\nb = 2\r\nc = █3\n")
    assert text_before(snapshot.lines, line, character, 100) == "a = 1\nb = 2\nc = "
    assert text_before(snapshot.lines, line, character, 6) == "2\nc = "
