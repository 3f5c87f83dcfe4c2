"""Validators of request and response bodies, compiled (fastjsonschema) from a $ref into the shipped OpenAPI spec
files themselves, so the schemas are never copied into the tests."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import fastjsonschema

import tui.attentive.spec

SPEC_DIR = Path(tui.attentive.spec.__file__).resolve().parent


@cache
def request_schema(spec_file: str, path: str, method: str = "post"):
    """A validator for the request body of `method path`, as the spec file defines it."""
    spec_path = SPEC_DIR / spec_file
    spec = json.loads(spec_path.read_text())
    assert method in spec["paths"][path], f"{spec_file} has no {method.upper()} {path}"
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "requestBody", "content", "application/json", "schema")
    )
    return fastjsonschema.compile({"$ref": f"{spec_path.as_uri()}#/{pointer}"})


@cache
def response_schema(spec_file: str, path: str, method: str, status: str):
    """A validator for the JSON body of `method path`'s `status` answer, as the spec file defines it."""
    spec_path = SPEC_DIR / spec_file
    spec = json.loads(spec_path.read_text())
    assert status in spec["paths"][path][method]["responses"], f"{spec_file} documents no {status} for {method.upper()} {path}"
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", status, "content", "application/json", "schema")
    )
    return fastjsonschema.compile({"$ref": f"{spec_path.as_uri()}#/{pointer}"})


def v1_response(path: str, method: str, status: int):
    return response_schema("attentive-v1.json", path.removeprefix("/v1"), method.lower(), str(status))


def v1(path: str):
    return request_schema("attentive-v1.json", path.removeprefix("/v1"))


def v2(path: str):
    return request_schema("attentive-v2.json", path)
