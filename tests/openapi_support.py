"""Checks shared by the tests of the two OpenAPI documents (device API, on-site link)."""
import re


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
            found.append((method.upper(), prefix + re.sub(r"\{[^}]+\}", "1", path), operation))
    return found


def body_type(operation: dict) -> str | None:
    """The media type of the operation's request body (application/json, multipart/form-data), if any."""
    content = operation.get("requestBody", {}).get("content", {})
    return next(iter(content), None)


def takes_client_ref(operation: dict) -> bool:
    """Whether the request body carries a client_ref: an idempotent write."""
    content = operation.get("requestBody", {}).get("content", {})
    return any("client_ref" in media["schema"].get("properties", {}) for media in content.values())
