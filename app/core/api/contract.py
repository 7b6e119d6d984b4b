"""The OpenAPI 3.1 document of a device API, generated from the models its endpoints validate with.

An endpoint is declared once with `Contract.route`: it is registered on the blueprint and described by the
request models it reads (body, form, query), the answer models of its successes and the error codes it may
send. Each error code has one status and one typed shape (`ErrorCode.extra`: what the error carries beside
code, message and fields), so a generated client can read e.g. fee_changed's new quote without guessing."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"
REPLAY_HEADER = {"Idempotent-Replay": {
    "description": "true when this is the stored first answer of the request's client_ref (a retry).",
    "schema": {"type": "string", "enum": ["true"]}}}


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    description: str
    extra: type[BaseModel] | None = None  # what the error carries beside code, message and fields

    @property
    def schema_name(self) -> str:
        return "".join(part.title() for part in self.code.split("_")) + "Error"


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tags: list[str]
    answers: dict[int, type[BaseModel]]
    example: dict
    errors: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    security: str | None = "bearer"
    idempotent: bool = False
    description: str | None = None
    path_params: dict[str, dict] = field(default_factory=dict)


@dataclass
class Contract:
    """The operations of one blueprint and what its document says around them."""
    bp: Blueprint
    info: dict
    security_schemes: dict[str, dict]
    security: dict[str, list[dict]]  # a name an operation uses -> its security requirement
    codes: dict[str, ErrorCode]
    door: Callable[[Operation], Iterable[str]]  # the codes any such operation may meet before its view
    models: list[type[BaseModel]] = field(default_factory=list)  # referenced by hand (items checked one by one)
    operations: list[Operation] = field(default_factory=list)

    def route(self, rule: str, method: str, *, summary: str, tags: list[str], answers: dict[int, type[BaseModel]],
              example: dict, **details: Any):
        """Register the view for `METHOD rule` and describe it; `details` are Operation's optional fields."""

        def decorator(view):
            self.bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
            path, params = _openapi_path(rule)
            self.operations.append(Operation(method.lower(), path, details.pop("operation_id", _camel(
                view.__name__)), summary, tags, answers, example, path_params=params, **details))
            return view

        return decorator

    def serve(self, rule: str = "/openapi.json") -> None:
        """GET <prefix>/openapi.json: the document, public (a device reads it before it has credentials); built
        on the first request, when every module has declared its routes."""
        built: dict = {}

        def openapi_json():
            if not built:
                built.update(self.document())
            return jsonify(built)

        self.bp.add_url_rule(rule, endpoint="openapi_json", view_func=openapi_json)

    def document(self) -> dict:
        schemas, refs = self._schemas()
        paths: dict[str, dict] = {}
        for op in self.operations:
            paths.setdefault(op.path, {})[op.method] = self._operation(op, refs)
        for code in self.codes.values():
            schemas[code.schema_name] = _error_schema(code, refs)
        return {"openapi": "3.1.0", "info": self.info, "servers": [{"url": self.bp.url_prefix}], "paths": paths,
                "components": {"securitySchemes": self.security_schemes, "schemas": dict(sorted(schemas.items()))}}

    def _schemas(self) -> tuple[dict, dict]:
        """Every model's JSON schema under components/schemas; refs maps (model, mode) to its $ref."""
        wanted: list[tuple[type[BaseModel], Any]] = []
        for op in self.operations:
            wanted += [(m, "validation") for m in (op.body, op.form, op.query) if m is not None]
            wanted += [(m, "serialization") for m in op.answers.values()]
        wanted += [(c.extra, "serialization") for c in self.codes.values() if c.extra is not None]
        wanted += [(m, "validation") for m in self.models]
        unique = list(dict.fromkeys(wanted))
        refs, top = models_json_schema(unique, ref_template=REF)
        return dict(top.get("$defs", {})), refs

    def _operation(self, op: Operation, refs: dict) -> dict:
        answer: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": op.tags}
        if op.description:
            answer["description"] = op.description
        answer["security"] = self.security[op.security] if op.security else []
        params = [{"name": name, "in": "path", "required": True, "schema": schema}
                  for name, schema in op.path_params.items()]
        if op.query is not None:
            params += _query_params(op.query)
        if params:
            answer["parameters"] = params
        if op.body is not None:
            answer["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(op.body, "validation")]}}}
        elif op.form is not None:
            answer["requestBody"] = {"required": True, "content": {
                "multipart/form-data": {"schema": refs[(op.form, "validation")]}}}
        responses: dict[str, Any] = {}
        for status, model in op.answers.items():
            responses[str(status)] = {"description": model.__doc__.strip().splitlines()[0] if model.__doc__ else
                                      "OK", "content": {"application/json": {"schema": refs[(model, "serialization")]}}}
            if op.idempotent:
                responses[str(status)]["headers"] = REPLAY_HEADER
        first = str(min(op.answers))
        responses[first]["content"]["application/json"]["example"] = op.example
        responses.update(self._errors(op))
        answer["responses"] = responses
        return answer

    def _errors(self, op: Operation) -> dict:
        by_status: dict[int, list[ErrorCode]] = {}
        for name in dict.fromkeys([*self.door(op), *op.errors]):
            code = self.codes[name]
            by_status.setdefault(code.status, []).append(code)
        answers = {}
        for status, codes in sorted(by_status.items()):
            refs = [{"$ref": REF.format(model=c.schema_name)} for c in codes]
            answers[str(status)] = {"description": "; ".join(f"{c.code}: {c.description}" for c in codes),
                                    "content": {"application/json": {
                                        "schema": refs[0] if len(refs) == 1 else {"oneOf": refs}}}}
            if status == 429:
                answers[str(status)]["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
        return answers


def _error_schema(code: ErrorCode, refs: dict) -> dict:
    """{"error": {code, message, fields, ...extra}} with this code only."""
    properties: dict[str, Any] = {
        "code": {"type": "string", "const": code.code}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "What is wrong, per field path (e.g. prepay.method)."}}
    required = ["code", "message", "fields"]
    if code.extra is not None:
        extra = code.extra.model_json_schema(ref_template=REF, mode="serialization")
        properties.update(extra["properties"])
        required += extra.get("required", [])
    return {"type": "object", "description": code.description, "required": ["error"],
            "properties": {"error": {"type": "object", "required": required, "properties": properties}}}


def _query_params(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        description = prop.pop("description", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


_CONVERTER = re.compile(r"<(?:([a-z]+):)?([^<>]+)>")
_PARAM_SCHEMAS = {"int": {"type": "integer", "minimum": 1}, None: {"type": "string", "minLength": 1}}


def _openapi_path(rule: str) -> tuple[str, dict[str, dict]]:
    params = {m.group(2): _PARAM_SCHEMAS.get(m.group(1), _PARAM_SCHEMAS[None]) for m in _CONVERTER.finditer(rule)}
    return _CONVERTER.sub(r"{\2}", rule), params


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
