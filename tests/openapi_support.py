"""Checks shared by the tests of the two OpenAPI documents (device API, on-site link): routes described,
operations walked, answers validated against the document, no untyped success answer."""
from __future__ import annotations

import re

import jsonschema

PATH_PARAM = re.compile(r"\{[^}]+\}")


def undocumented_routes(app, doc: dict, prefix: str) -> list[str]:
    """`METHOD /path` of every route under `prefix` that the document does not describe."""
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix + "/") or rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(prefix):])
        missing += [f"{method} {rule.rule}" for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
                    if method.lower() not in doc["paths"].get(path, {})]
    return missing


def operations(doc: dict, prefix: str) -> list[tuple[str, str, dict]]:
    """(METHOD, URL with every path parameter set to 1, operation) of each operation of the document."""
    found = []
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            found.append((method.upper(), prefix + PATH_PARAM.sub("1", path), operation))
    return found


def body_type(operation: dict) -> str | None:
    """The media type of the operation's request body (application/json, multipart/form-data), if any."""
    content = operation.get("requestBody", {}).get("content", {})
    return next(iter(content), None)


def resolve(doc: dict, schema: dict) -> dict:
    """A schema with its top-level $ref followed."""
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def takes_client_ref(operation: dict, doc: dict) -> bool:
    """Whether the request body carries a client_ref: an idempotent write."""
    content = operation.get("requestBody", {}).get("content", {})
    return any("client_ref" in resolve(doc, media["schema"]).get("properties", {}) for media in content.values())


def untyped_objects(doc: dict) -> list[str]:
    """Where a success answer (or a schema it uses) is an object that names neither its properties nor the type
    of its values: a generated client would get an empty model there."""
    found: list[str] = []
    seen: set[str] = set()

    def walk(schema, where):
        if isinstance(schema, list):
            for i, item in enumerate(schema):
                walk(item, f"{where}[{i}]")
            return
        if not isinstance(schema, dict) or schema.get("x-free-form"):
            return  # x-free-form: a value declared as any JSON, e.g. the columns of a changed row
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                walk(doc["components"]["schemas"][name], name)
            return
        typed_values = isinstance(schema.get("additionalProperties"), dict)
        if schema.get("type") == "object" and not schema.get("properties") and not typed_values:
            found.append(where)
        if "type" not in schema and not {"$ref", "anyOf", "oneOf", "allOf", "const", "enum"} & set(schema):
            found.append(f"{where} (no type)")
        for key in ("properties",):
            for name, sub in schema.get(key, {}).items():
                walk(sub, f"{where}.{name}")
        for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            if key in schema:
                walk(schema[key], f"{where}.{key}")

    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                if status.startswith("2"):
                    for media in answer.get("content", {}).values():
                        walk(media["schema"], f"{method.upper()} {path} {status}")
    return found


class ContractBreach(AssertionError):
    pass


def check_answer(doc: dict, prefix: str, method: str, url: str, status: int, body, headers=None) -> None:
    """Fail unless the answer (status and JSON body) is one the document lists for this operation."""
    op = _find(doc, prefix, method, url)
    if op is None:
        return  # a route the document does not describe: undocumented_routes reports it
    answer = op["responses"].get(str(status))
    if answer is None:
        raise ContractBreach(f"{method} {url}: status {status} is not in the document ({sorted(op['responses'])}); "
                             f"body {body}")
    schema = answer["content"]["application/json"]["schema"]
    wrapped = {**schema, "components": doc["components"]}
    try:
        jsonschema.Draft202012Validator(wrapped).validate(body)
    except jsonschema.ValidationError as exc:
        raise ContractBreach(f"{method} {url} {status}: the answer does not match the document: {exc.message} "
                             f"at {list(exc.absolute_path)}") from None


def _find(doc: dict, prefix: str, method: str, url: str) -> dict | None:
    path = url.split("?", 1)[0][len(prefix):]
    for template, methods in doc["paths"].items():
        pattern = "^" + PATH_PARAM.sub("[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        if re.match(pattern, path) and method.lower() in methods:
            return methods[method.lower()]
    return None
