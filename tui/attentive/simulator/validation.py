"""Request bodies checked against the JSON schemas in Attentive's own OpenAPI files.

Each request schema is taken from the operation's requestBody in the shipped spec, its $refs
inlined, and compiled once with fastjsonschema into plain Python; a request then costs one call.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

SPEC_PACKAGE = "tui.attentive.spec"
SPEC_FILES = {"v1": "attentive-v1.json", "v2": "attentive-v2.json"}


class BodyError(ValueError):
    """A request body that is not JSON or fails its schema; the message names the field."""


@cache
def load_spec(version: str) -> dict[str, Any]:
    text = resources.files(SPEC_PACKAGE).joinpath(SPEC_FILES[version]).read_text(encoding="utf-8")
    return json.loads(text)


def resolve_refs(node: Any, root: dict[str, Any], _stack: tuple[str, ...] = ()) -> Any:
    """Inline every local `$ref` ("#/components/schemas/X"). Cycles are refused, not looped."""
    if isinstance(node, list):
        return [resolve_refs(item, root, _stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, not {ref!r}")
        if ref in _stack:
            raise ValueError(f"recursive $ref {ref!r} cannot be inlined")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return resolve_refs(target, root, _stack + (ref,))
    return {key: resolve_refs(value, root, _stack) for key, value in node.items()}


def _spec_path(version: str, path: str) -> str:
    """Our URL path -> the key in the spec's `paths` (v1's server URL already ends in /v1)."""
    return path[len("/v1"):] if version == "v1" else path


def operation(version: str, path: str, method: str) -> dict[str, Any]:
    spec = load_spec(version)
    return spec["paths"][_spec_path(version, path)][method.lower()]


def request_schema(version: str, path: str, method: str = "post") -> dict[str, Any]:
    spec = load_spec(version)
    body = operation(version, path, method)["requestBody"]["content"]["application/json"]["schema"]
    return resolve_refs(body, spec)


def _field(name: str) -> str:
    """fastjsonschema names the value `data`, `data.user.phone`, `data.users[3]`: make it ours."""
    if name == "data":
        return "body"
    return name[len("data."):] if name.startswith("data.") else name


@dataclass(frozen=True)
class BodyValidator:
    """A compiled schema for one endpoint's request body."""

    endpoint: str
    check: Callable[[Any], Any]

    def parse(self, raw: bytes) -> Any:
        """Decode and validate; raise BodyError("users[0].identifiers.phone must be string")."""
        body = decode(raw)
        self.validate(body)
        return body

    def validate(self, body: Any) -> None:
        try:
            self.check(body)
        except fastjsonschema.JsonSchemaValueException as exc:
            field = _field(exc.name or "data")
            message = exc.message.replace(exc.name, field, 1) if exc.name else exc.message
            if not message.startswith(field):
                message = f"{field}: {message}"
            raise BodyError(message) from None


def decode(raw: bytes) -> Any:
    """The body as JSON, or BodyError saying why it is not."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError(f"body is not valid JSON: {exc}") from None
    except RecursionError:  # thousands of nested arrays: valid JSON, but not a profile
        raise BodyError("body is nested too deeply") from None


def compile_validator(endpoint: str, version: str, path: str) -> BodyValidator:
    schema = request_schema(version, path)
    # use_default=False: the simulator must see the body as sent, not with defaults filled in.
    return BodyValidator(endpoint, fastjsonschema.compile(schema, use_default=False))
