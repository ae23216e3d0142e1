"""Every operation of the OpenAPI schema, asked with odd values by schemathesis: no answer is a server error.

The schema is read from the app itself, in-process (ASGI), with API docs switched on for the test. Each
operation is asked with values that fit its parameters and, where its schema can be broken (the integer ids),
with values that do not, once by someone signed out and once by a signed-in survivor. Redirects are not
followed: each answer is the operation's own. Both carry a CSRF cookie and token, as a browser would, so state
changes reach their handlers instead of stopping at the CSRF check. The survivor signs in afresh before each
operation, because some operations (sign out, end all sessions) end the session they are asked in.

The schema describes paths, not form bodies (forms are read with `request.form()`); form bodies are fuzzed
in tests/test_fuzz_forms.py. Runs are bounded and derandomized, so CI asks the same cases every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema

from app import create_app
from portal.config import Config
from tests.conftest import BASE_URL, csrf_token, sign_in, sign_up

EXAMPLES = 15  # per operation and generation mode; operations without parameters have one case only
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
FUZZ_SETTINGS = hypothesis_settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.fixture
def settings(settings: Config) -> Config:
    """The usual test settings, with the OpenAPI schema served."""
    return replace(settings, api_docs=True)


@pytest.fixture
def schema(settings: Config) -> Iterator[OpenApiSchema]:
    """The schema, loaded from an app of its own: schemathesis runs it on its own event loop."""
    host = BASE_URL.split("://", 1)[1]
    loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(settings), headers={"host": host})
    yield loaded
    asgi.shutdown_lifespans()


def browser_state(client, path: str) -> tuple[dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """The cookies and CSRF header a browser that just opened `path` would send."""
    token = csrf_token(client, path)
    return dict(client.cookies), {"x-csrftoken": token}


def can_be_wrong(operation: schemathesis.APIOperation) -> bool:  # type: ignore[type-arg]
    """Whether schemathesis can ask this operation with a value its schema refuses. A plain string in the path
    cannot be wrong (any text is a string, and the path cannot leave it out), so negative cases for such
    operations are all filtered away: Hypothesis would spend hundreds of tries finding none."""
    raw = operation.definition.raw
    if "requestBody" in raw:
        return True
    return any(
        parameter.get("in") != "path" or parameter.get("schema") != {"type": "string"}
        for parameter in raw.get("parameters", [])
    )


class Run:
    """What one sweep asked: operations, operations that had a negative case at all, the answers, the failures."""

    def __init__(self) -> None:
        self.asked = 0
        self.negative = 0
        self.statuses: dict[str, set[int]] = {}
        self.failures: list[str] = []


def sweep(schema: OpenApiSchema, browser) -> Run:  # type: ignore[no-untyped-def]
    """Ask every operation in every mode as the browser `browser()` returns."""
    run = Run()
    for result in schema.get_all_operations():
        operation = result.ok()
        run.asked += 1
        cookies, headers = browser()
        statuses = run.statuses.setdefault(operation.label, set())
        for mode in MODES if can_be_wrong(operation) else MODES[:1]:

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def no_server_error(case: schemathesis.Case) -> None:
                response = case.call(base_url=BASE_URL, cookies=cookies, headers=headers, allow_redirects=False)
                statuses.add(response.status_code)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                no_server_error()
                if mode is schemathesis.GenerationMode.NEGATIVE:
                    run.negative += 1
            except Exception as error:  # noqa: BLE001 - every failing operation is reported, not only the first
                notes = "\n".join(getattr(error, "__notes__", []))
                run.failures.append(f"{operation.label} ({mode.value}): {error}\n{notes}")
    return run


def test_no_operation_answers_with_a_server_error_to_someone_signed_out(client, schema):
    run = sweep(schema, lambda: browser_state(client, "/sign-in"))
    assert not run.failures, "\n\n".join(run.failures)
    assert run.asked >= 120, run.asked
    assert run.negative >= 4, run.negative  # the integer ids (staff, help lines) get non-integers too
    assert run.statuses["GET /home"] == {303}, run.statuses["GET /home"]  # signed out: sent to sign in


def test_no_operation_answers_with_a_server_error_to_a_signed_in_survivor(client, schema):
    sign_up(client, "river")

    def signed_in() -> tuple[dict[str, str], dict[str, str]]:
        client.cookies.clear()
        sign_in(client, "river")
        return browser_state(client, "/home")

    run = sweep(schema, signed_in)
    assert not run.failures, "\n\n".join(run.failures)
    assert run.asked >= 120, run.asked
    assert run.negative >= 4, run.negative
    # The cookies and token reached the app: the survivor's pages answered, and a state change passed CSRF.
    assert run.statuses["GET /home"] == {200}, run.statuses["GET /home"]
    assert run.statuses["POST /sign-out"] == {303}, run.statuses["POST /sign-out"]
