"""Just enough JWT to inspect pipechat's tokens and to forge bad ones
(base64url, JSON, HMAC from the standard library). Not a verifier: tests
compare what they decode with what they expect.
"""

import base64
import hashlib
import hmac
import json

_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url_decode(s):
    if isinstance(s, str):
        s = s.encode("ascii")
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def b64url(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def decode(token):
    """(header dict, claims dict, signature bytes) of a compact JWT; raises
    ValueError when it is not three base64url JSON parts."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT: %r" % token[:80])
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    return header, claims, b64url_decode(parts[2])


def encode_part(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def sign(header, claims, key):
    """A compact JWT of header and claims, signed with key (bytes) by the
    header's alg (HS256/HS384/HS512; "none" gives an empty signature)."""
    head = encode_part(header) + "." + encode_part(claims)
    alg = header.get("alg")
    if alg == "none":
        return head + "."
    mac = hmac.new(key, head.encode("ascii"), _HASHES[alg]).digest()
    return head + "." + b64url(mac)


def replace_claims(token, **changes):
    """The token with claims changed but its original signature kept."""
    header, claims, _ = decode(token)
    claims.update(changes)
    h, _, s = token.split(".")
    return h + "." + encode_part(claims) + "." + s
