"""Token healing: a prompt that ends inside a word is cut back to the word's start, the model is
held to an answer that begins with it (a GBNF grammar), and the word is taken off again. Only for
llama.cpp servers (known by /props) and the embedded model."""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.model_request import ModelRequest
from spark_lsp.models.factory import create_backend
from spark_lsp.models.healing import Unheal, healing
from spark_lsp.settings import ModelSettings
from tests.fakemodel import FakeModelServer


def test_a_prompt_ending_inside_a_word_is_cut_at_the_words_start() -> None:
    healed = healing("x = 1\nself._respon", "self._respon")
    assert healed is not None
    assert (healed.prompt, healed.word) == ("x = 1\nself.", "_respon")
    assert healed.grammar == 'root ::= "_respon" .*'


@pytest.mark.parametrize("prompt", ["x = ", "f(", "self.", "x = 12", "a\n", ""])
def test_a_prompt_that_ends_between_words_is_not_healed(prompt: str) -> None:
    assert healing(prompt, prompt) is None


def test_a_prompt_that_does_not_end_at_the_cursor_is_not_healed() -> None:
    # A FIM template's prompt ends in its own tokens, after the suffix.
    assert healing("<PRE>x = respon<SUF>\n<MID>", "x = respon") is None
    assert healing("h" * 60, "h" * 60) is None  # a hash, not a word being typed


def test_unheal_takes_the_word_off_across_chunks() -> None:
    unheal = Unheal()
    unheal.expect("respon")
    assert [unheal.feed(c) for c in ["re", "sp", "onse", " = 1"]] == ["", "", "se", " = 1"]


def test_an_answer_that_ignored_the_grammar_gives_nothing() -> None:
    unheal = Unheal()
    unheal.expect("respon")
    assert [unheal.feed(c) for c in ["1.0", "\n", "x"]] == ["", "", ""]
    assert unheal.broken


async def complete(fake: FakeModelServer, provider: str, prefix: str) -> str:
    url = fake.url + ("/v1" if provider == "openai-completions" else "")
    backend = create_backend(ModelSettings(provider=provider, url=url, model="m"))
    try:
        request = ModelRequest(prompt=prefix if provider != "llamacpp" else "", prefix=prefix)
        return "".join([chunk async for chunk in backend.stream(request)])
    finally:
        await backend.aclose()


@pytest.mark.parametrize("provider", ["openai-completions", "llamacpp"])
async def test_a_llama_cpp_server_gets_the_cut_prompt_and_a_grammar(provider: str) -> None:
    with FakeModelServer(props={"total_slots": 1}) as fake:
        fake.reply = "_response = response"  # as llama.cpp answers under the grammar
        text = await complete(fake, provider, "        self._respon")
        body = next(r.body for r in fake.requests if r.method == "POST")
    assert text == "se = response"
    assert body["grammar"] == 'root ::= "_respon" .*'
    sent = body["prompt"] if provider == "openai-completions" else body["input_prefix"]
    assert sent == "        self."


async def test_other_servers_get_the_prompt_as_it_is(fake_model: FakeModelServer) -> None:
    fake_model.reply = "se = response"
    text = await complete(fake_model, "openai-completions", "        self._respon")
    body = next(r.body for r in fake_model.requests if r.method == "POST")
    assert text == "se = response"
    assert "grammar" not in body and body["prompt"] == "        self._respon"


async def test_the_first_request_waits_for_props_so_it_is_healed_too() -> None:
    with FakeModelServer(props={"total_slots": 1}) as fake:
        fake.reply = "respond"
        await asyncio.sleep(0)
        assert await complete(fake, "openai-completions", "x.resp") == "ond"
