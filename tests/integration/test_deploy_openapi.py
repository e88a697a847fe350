"""The API reference (docs/openapi.json, served at /docs/ from www/docs/):
it is OpenAPI 3.0 whose operations are exactly the rows of fcgi-api/routes.c
and exactly the contract's section 3 list, every $ref resolves, every path
parameter is declared, every error answer has the error shape, and the copy
under www/docs/ is the same file. No stack needed.

When a route is added to routes.c without its entry in openapi.json (or the
other way round), test_routes_c_and_openapi_agree fails and names it.
"""

import json
import re

import pytest

from pclib import CHECKOUT

SPEC_PATH = CHECKOUT / "docs" / "openapi.json"
WWW_COPY = CHECKOUT / "www" / "docs" / "openapi.json"
ROUTES_C = CHECKOUT / "fcgi-api" / "routes.c"
METHODS = ("get", "post", "put", "patch", "delete")

# The contract, section 3: every HTTP route pipechat promises.
CONTRACT_ROUTES = {
    ("POST", "/api/register"), ("POST", "/api/login"), ("POST", "/api/logout"),
    ("POST", "/api/logout-all"), ("GET", "/api/sessions"), ("DELETE", "/api/sessions/{}"),
    ("GET", "/api/me"), ("DELETE", "/api/me"), ("POST", "/api/password"),
    ("GET", "/api/users"), ("GET", "/api/blocks"), ("POST", "/api/blocks"),
    ("DELETE", "/api/blocks/{}"), ("GET", "/api/rooms"), ("POST", "/api/rooms"),
    ("GET", "/api/rooms/{}"), ("PATCH", "/api/rooms/{}"), ("DELETE", "/api/rooms/{}"),
    ("POST", "/api/rooms/{}/join"), ("POST", "/api/rooms/{}/leave"),
    ("POST", "/api/rooms/{}/kick"), ("GET", "/api/rooms/{}/members"),
    ("POST", "/api/rooms/{}/invites"), ("GET", "/api/invites"),
    ("POST", "/api/invites/{}/accept"), ("POST", "/api/invites/{}/decline"),
    ("DELETE", "/api/invites/{}"), ("POST", "/api/dm"), ("GET", "/api/rooms/{}/messages"),
    ("PATCH", "/api/rooms/{}/messages/{}"), ("DELETE", "/api/rooms/{}/messages/{}"),
    ("POST", "/api/rooms/{}/read"), ("GET", "/api/config"), ("GET", "/api/health"),
    ("GET", "/api/metrics"),
}

# The contract, section 9: the HTTP error codes.
CONTRACT_CODES = {
    "bad_json", "unauthenticated", "invalid_credentials", "forbidden_origin", "forbidden",
    "not_found", "method_not_allowed", "conflict", "not_private", "cannot_leave_direct",
    "already_member", "already_invited", "too_large", "unsupported_media_type", "invalid",
    "rate_limited", "too_many_attempts", "unavailable",
}


@pytest.fixture(scope="module")
def spec():
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def routes_c():
    """{(METHOD, "/api/rooms/{id}")} from the rows of routes.c's table."""
    text = ROUTES_C.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    start = text.index("routes[] = {")
    rows = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/api/[^"]*)"', text[start:])
    assert rows, "no route rows found in %s" % ROUTES_C
    out = set()
    for method, path in rows:
        out.add((method, re.sub(r":([A-Za-z_][A-Za-z0-9_]*)", r"{\1}", path)))
    assert len(out) == len(rows), "duplicate rows in routes.c"
    return out


def spec_routes(spec):
    return {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in METHODS}


def shape(routes):
    """Parameter names dropped: /api/rooms/{id} -> /api/rooms/{}."""
    return {(m, re.sub(r"\{[^}]*\}", "{}", p)) for m, p in routes}


def test_spec_is_openapi_3_0(spec):
    assert spec["openapi"].startswith("3.0.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["paths"] and all(p.startswith("/api/") for p in spec["paths"])


def test_routes_c_and_openapi_agree(spec):
    code, doc = routes_c(), spec_routes(spec)
    missing = sorted(code - doc)
    extra = sorted(doc - code)
    assert not missing, "routes.c rows missing from docs/openapi.json: %s" % missing
    assert not extra, "docs/openapi.json names routes that routes.c lacks: %s" % extra


def test_openapi_covers_the_contract(spec):
    doc = shape(spec_routes(spec))
    assert not CONTRACT_ROUTES - doc, sorted(CONTRACT_ROUTES - doc)
    assert not doc - CONTRACT_ROUTES, sorted(doc - CONTRACT_ROUTES)


def _walk(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from _walk(v, path + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, "%s/%d" % (path, i))


def _resolve(spec, ref):
    assert ref.startswith("#/"), ref
    cur = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(cur, dict) and part in cur, "unresolved $ref %s" % ref
        cur = cur[part]
    return cur


def test_every_ref_resolves(spec):
    refs = [v for _, k, v in _walk(spec) if k == "$ref"]
    assert refs
    for ref in refs:
        _resolve(spec, ref)


def _params(spec, op, item):
    out = []
    for p in item.get("parameters", []) + op.get("parameters", []):
        out.append(_resolve(spec, p["$ref"]) if "$ref" in p else p)
    return out


def test_path_parameters_are_declared(spec):
    for path, item in spec["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        for m in METHODS:
            if m not in item:
                continue
            declared = {p["name"] for p in _params(spec, item[m], item) if p["in"] == "path"}
            assert declared == names, (m, path, declared)
            for p in _params(spec, item[m], item):
                if p["in"] == "path":
                    assert p.get("required") is True, (m, path, p)


def test_operations_are_complete(spec):
    ids = set()
    for path, item in spec["paths"].items():
        for m in METHODS:
            if m not in item:
                continue
            op = item[m]
            where = "%s %s" % (m.upper(), path)
            assert op.get("operationId") and op["operationId"] not in ids, where
            ids.add(op["operationId"])
            assert op.get("summary") and op.get("tags"), where
            statuses = set(op["responses"])
            assert any(s.startswith("2") for s in statuses), where
            public = op.get("security") == [] or path == "/api/metrics"
            if not public:
                assert "401" in statuses, where
            if m in ("post", "put", "patch", "delete"):
                assert "403" in statuses, where
            if "requestBody" in op:
                assert set(op["requestBody"]["content"]) == {"application/json"}, where
                assert {"400", "413", "415", "422"} <= statuses, where
            if re.search(r"\{[^}]+\}", path):
                assert "404" in statuses, where


def test_error_answers_have_the_error_shape(spec):
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in spec["paths"].items():
        for m in METHODS:
            for status, resp in item.get(m, {}).get("responses", {}).items():
                if status.startswith("2") or path == "/api/health":
                    continue
                r = _resolve(spec, resp["$ref"]) if "$ref" in resp else resp
                assert r["content"]["application/json"]["schema"] == error, (m, path, status)
                if status == "429":
                    assert "Retry-After" in r.get("headers", {}), (m, path)


def test_error_codes_are_the_contracts(spec):
    assert set(spec["components"]["schemas"]["ErrorCode"]["enum"]) == CONTRACT_CODES


def test_www_copy_is_the_same_file():
    assert WWW_COPY.read_bytes() == SPEC_PATH.read_bytes(), (
        "www/docs/openapi.json differs from docs/openapi.json: cp docs/openapi.json www/docs/")


def test_docs_page_has_no_inline_script_or_style():
    html = (CHECKOUT / "www" / "docs" / "index.html").read_text()
    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script type="module" src="/docs/docs.js">']
    assert "<style" not in html and not re.search(r"\s(style|on[a-z]+)\s*=", html)
    js = (CHECKOUT / "www" / "docs" / "docs.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert "/docs/openapi.json" in js
