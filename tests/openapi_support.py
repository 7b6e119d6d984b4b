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
