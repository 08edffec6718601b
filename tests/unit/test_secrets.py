"""Secret masking: token formats, assignments, key blocks (whole and cut), requests, log records."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spark_lsp.model_request import Message, ModelRequest, Snippet
from spark_lsp.redaction import mask
from spark_lsp.redaction.log_filter import install_log_redaction, redact
from spark_lsp.redaction.mask import MASK, mask_request, mask_secrets

# Built at run time so the repository itself holds no realistic-looking keys.
OPENAI = "sk-" + "proj-" + "Ab3dE" * 8
ANTHROPIC = "sk-ant-" + "api03-" + "Xy9Zw" * 8
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5" * 4
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" * 4
SLACK = "xoxb-" + "1234567890-abcdefghij"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "SflKxwRJSMeKKF2QT4fwpMeJf36P"


@pytest.mark.parametrize(
    "token", [OPENAI, ANTHROPIC, AWS, GITHUB, GITHUB_PAT, SLACK, GOOGLE, STRIPE, JWT]
)
def test_token_formats_are_masked_anywhere(token: str) -> None:
    text = f"client = make({token!r})\nprint('{token}')  # {token}\n"
    masked = mask_secrets(text)
    assert token not in masked
    assert masked.count(MASK) == 3
    assert masked.startswith("client = make(")


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ('password = "hunter2-correct-horse"', 'password = "'),
        ("API_KEY = 'q8Zr1x0w9v8u7t6s'", "API_KEY = '"),
        ('"client_secret": "abcd-efgh-ijkl"', '"client_secret": "'),
        ('db_token: str = "tok-12345678"', 'db_token: str = "'),
        ("export GITLAB_TOKEN=z9y8x7w6v5u4t3s2r1q0", "export GITLAB_TOKEN="),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "aws_secret_access_key = "),
        ("Authorization: Bearer abcdefghijklmnop1234", "Authorization: Bearer "),
        ("url = 'postgres://admin:s3cr3tpass@db.local/app'", "url = 'postgres://admin:"),
    ],
)
def test_assignments_keep_the_name_and_lose_the_value(line: str, kept: str) -> None:
    masked = mask_secrets(line)
    assert masked.startswith(kept), masked
    assert MASK in masked


@pytest.mark.parametrize(
    "code",
    [
        "token = tokenizer.next_token()\n",
        "password = get_password(user)\n",
        "def check_secret(secret: str) -> bool:\n    return secret == expected\n",
        'TOKEN_KIND = ""\n',
        "sk = sk_model.fit(x)\n",
        "key = 'a'\n",
        "for token in tokens:\n    pass\n",
    ],
)
def test_ordinary_code_is_left_alone(code: str) -> None:
    assert mask_secrets(code) == code


KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nq8Zr1x0w9v8u7t6s5r4q3p2o1n0m\n"


def test_private_key_blocks_are_masked_whole() -> None:
    block = f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}-----END RSA PRIVATE KEY-----"
    text = f"KEY = '''\n{block}\n'''\nnext_line = 1\n"
    masked = mask_secrets(text)
    assert "MIIEvQ" not in masked and "q8Zr1x0" not in masked
    assert masked == f"KEY = '''\n{MASK}\n'''\nnext_line = 1\n"


def test_key_blocks_cut_by_the_window_are_masked_to_its_edge() -> None:
    prefix = f"x = 1\n-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}"
    suffix = f"{KEY_BODY}-----END OPENSSH PRIVATE KEY-----\ny = 2\n"
    assert mask_secrets(prefix) == f"x = 1\n{MASK}"
    assert mask_secrets(suffix) == f"{MASK}\ny = 2\n"


def test_masking_is_idempotent() -> None:
    text = f"a = '{OPENAI}'\npassword = 'p4ssw0rd-long'\n"
    once = mask_secrets(text)
    assert mask_secrets(once) == once


def test_every_field_of_a_request_is_masked() -> None:
    request = ModelRequest(
        prefix=f"key = '{OPENAI}'\n",
        suffix=f"# {AWS}\n",
        snippets=(Snippet("a.py", f"TOKEN = '{GITHUB}'"),),
        prompt=f"<PRE>{GOOGLE}",
        system=f"system {SLACK}",
        messages=(Message("user", f"use {ANTHROPIC}"),),
    )
    masked = mask_request(request, known=())
    body = repr(masked)
    for token in (OPENAI, AWS, GITHUB, GOOGLE, SLACK, ANTHROPIC):
        assert token not in body
    assert masked.snippets[0].path == "a.py"
    assert masked.messages[0].role == "user"


def test_known_literal_secrets_are_masked_even_without_a_pattern() -> None:
    request = ModelRequest(prefix="value = 'plainlookingvalue'\n")
    assert "plainlookingvalue" not in mask_request(request, known=["plainlookingvalue"]).prefix


def test_log_records_never_carry_known_keys_or_secret_patterns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("spark_lsp.test_secrets")
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    logger.addHandler(handler)
    install_log_redaction(logger, known=lambda: ["my-plain-key-value"])
    try:
        logger.warning("calling with %s and %s", "my-plain-key-value", OPENAI)
        try:
            raise ValueError(f"bad key {OPENAI}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(records)
    assert "my-plain-key-value" not in text and OPENAI not in text
    assert MASK in text and "ValueError" in text


def test_redact_uses_known_values() -> None:
    assert redact("key=abcdEFGH", ["abcdEFGH"]) == f"key={MASK}"


def test_large_text_is_masked_in_bounded_time() -> None:
    text = ("x = 'a' * 80\n" * 20000) + ("-----BEGIN PRIVATE KEY-----\n" + "A" * 500_000)
    assert mask_secrets(text).endswith(MASK)


def _mask_whole_text(text: str) -> str:
    """The assignment patterns run over the whole text: what masking only the stretches that
    name a secret must agree with."""
    text = mask._TOKENS.sub(MASK, text)
    text = mask._QUOTED_ASSIGNMENT.sub(mask._keep_head, text)
    text = mask._BARE_ASSIGNMENT.sub(mask._keep_head, text)
    text = mask._BEARER.sub(mask._keep_head, text)
    return mask._more_shapes(mask._URL_PASSWORD.sub(mask._keep_head, text))


_PIECES = st.sampled_from([
    "password", "api_key", "TOKEN", "secret", "x", "value", " = ", ": str", ":", "=", "'",
    '"', " ", "\n", "\n\n", "    ", "abc123def456ghi789", "s3cr3tP4ssw0rdV4lue", "()", ".",
    "http://user:pw@host", "Bearer abcdefghijklmnop1234",
])


_ASSIGNMENTS = st.tuples(
    st.sampled_from(["password", "api_key", "db_TOKEN", "value"]),
    st.sampled_from([" = ", ": str = ", ":", "=", " =>"]),
    st.sampled_from(["", "\n", "\n\n", " \n  \n", "\n\n\n"]),
    st.sampled_from(["'", '"', ""]),
    st.sampled_from(["abc123def456ghi789", "s3cr3tP4ssw0rdV4lue", "ok"]),
).map(lambda parts: "".join(parts) + parts[3])


@given(st.lists(st.one_of(_PIECES, _ASSIGNMENTS), max_size=30).map("".join))
@settings(max_examples=500, deadline=None)
def test_masking_only_the_named_stretches_agrees_with_masking_the_whole_text(text: str) -> None:
    assert mask.mask_secrets.__wrapped__(text) == _mask_whole_text(text)


def test_a_token_the_cursor_splits_is_masked_whole() -> None:
    prefix, suffix = 'token = "' + GITHUB[:7], GITHUB[7:] + '"\nnext()\n'
    left, right = mask.mask_split(prefix, suffix)
    assert GITHUB[7:] not in left + right and GITHUB[:7] not in left + right
    assert left + right == mask_secrets(prefix + suffix)
    assert left.startswith("token = ") and right.endswith('"\nnext()\n')


def test_a_value_after_the_cursor_stays_after_it() -> None:
    prefix, suffix = "password =\n", '    "hunter2-correct-horse"\nx = 1\n'
    left, right = mask.mask_split(prefix, suffix)
    assert left == prefix and "hunter2" not in right and right.endswith("x = 1\n")


def test_requests_mask_prefix_and_suffix_as_one_text_in_every_field() -> None:
    prefix, suffix = f"key = '{OPENAI[:9]}", f"{OPENAI[9:]}'\n"
    request = mask_request(ModelRequest(
        prefix=prefix, suffix=suffix, prompt=f"<pre>{prefix}<suf>{suffix}<mid>",
        messages=(Message("user", f"File a.py:\n{prefix}<CURSOR>{suffix}\n\nWrite the code "
                                  "for <CURSOR>."),)), known=())
    fields = [request.prefix, request.suffix, request.prompt, request.messages[0].content]
    for text in fields:
        assert OPENAI[9:] not in text and OPENAI[:9] not in text, text
    assert request.prompt.startswith("<pre>key = '") and "<suf>" in request.prompt
    assert request.messages[0].content.count("<CURSOR>") == 2


BASIC = "Basic " + "YWxhZGRpbjpvcGVuc2VzYW1l"  # aladdin:opensesame
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        (f'headers = {{"Authorization": "{BASIC}"}}', BASIC[6:]),
        (f"curl -H 'Authorization: {BASIC}' https://x", BASIC[6:]),
        (f'config = ("{AWS_SECRET}",)', AWS_SECRET),
        (f"x = {AWS_SECRET}\n", AWS_SECRET),
        ('SIGNING_SALT = "9f8e7d6c5b4a3f2e1d0c9b8a"', "9f8e7d6c5b4a3f2e1d0c9b8a"),
        ('session_cookie_value = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"', "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"),
        ("stripe_key: 'rk9Xq2LmP4vT8sW1zY6b'", "rk9Xq2LmP4vT8sW1zY6b"),
    ],
)
def test_more_secret_shapes_are_masked(text: str, gone: str) -> None:
    masked = mask_secrets(text)
    assert gone not in masked and MASK in masked, masked


@pytest.mark.parametrize(
    "code",
    [
        'sha = "da39a3ee5e6b4b0d3255bfef95601890afd80709"\n',  # a git hash: one case
        'key = "user_profile_settings"\n',
        'auth_header_name = "X-Requested-With"\n',
        "Basic usage: call run() first\n",
        'session_key = "aaaaaaaaaaaaaaaaaaaa1"\n',  # not random-looking
        "path = 'src/components/Header/index.tsx'\n",
    ],
)
def test_more_shapes_leave_ordinary_code_alone(code: str) -> None:
    assert mask_secrets(code) == code
