#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/<harness>/ (10-30 small files
each): realistic inputs plus the known hostile ones (FACTS.md's cJSON traps,
overlong UTF-8, lying lengths). fuzz_token's seeds come from the C program
mint_tokens.c (real tokens signed by pc_token_sign); pass its binary to
include them. Re-run after changing a format; the files are committed.

    /usr/bin/python3 tests/fuzz/make_corpus.py [build-fuzz/tests/fuzz/fuzz_mint_tokens]
"""

import hashlib
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(harness, seeds):
    d = os.path.join(CORPUS, harness)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


JSON = [
    ("register", '{"username":"alice","email":"a@example.com","password":"12345678"}'),
    ("join", '{"type":"join","room":1,"since":0}'),
    ("send", '{"type":"send","room":12,"body":"hi \\u00e9\\ud83d\\ude00","client_id":"c-1"}'),
    ("call", '{"type":"call","room":1,"to":2,"call_id":"k","data":{"sdp":"v=0\\r\\n","a":[1,2.5,-0,1e2,true,null]}}'),
    ("nul-escape", '{"body":"ab\\u0000cd"}'),
    ("dup-key", '{"room":1,"room":"x"}'),
    ("big-numbers", '[1e30,9007199254740991,9007199254740993,-9007199254740992,3.7,1e999,-1e-999]'),
    ("deep", "[" * 64 + "]" * 64),
    ("too-deep", "[" * 65 + "]" * 65),
    ("nested-objects", '{"a":{"b":{"c":{"d":[{"e":"f"}]}}}}'),
    ("raw-control", b'{"body":"a\x01b"}'),
    ("invalid-utf8", b'{"body":"\xc0\xaf"}'),
    ("surrogates", '{"a":"\\ud800","b":"\\udc00x","c":"\\ud83d\\ude00"}'),
    ("trailing", '{"a":1} x'),
    ("whitespace", ' \t\r\n{ "a" : [ ] , "b" : { } }\n'),
    ("strings", '["", "\\"\\\\\\/\\b\\f\\n\\r\\t", "\\u0041\\u00ff\\u20ac"]'),
    ("scalars", "true"),
    ("bad-literal", "[tru, nul, fals]"),
    ("unterminated", '{"a":"b'),
    ("escaped-backslash-u", '{"a":"\\\\u0000"}'),
]

VALID = [
    ("username", "alice_01.x-y"),
    ("username-short", "ab"),
    ("username-long", "a" * 33),
    ("email", "o'brien@example.com"),
    ("email-bad", "a@@b.c"),
    ("password", "correct horse battery"),
    ("body", "hello, world"),
    ("body-spaces", " \t\n\u00a0\u2003\u200b\ufeff"),
    ("body-controls", "a\x01b\x7fc\u0085d"),
    ("body-newline", "line one\nline two\ttab"),
    ("room-name", "  Général \u2003"),
    ("room-name-control", "ab\u0080cd"),
    ("client-id", "c-1:~!"),
    ("client-id-space", "c 1"),
    ("overlong-slash", b"\xc0\xaf"),
    ("overlong-nul", b"\xc0\x80"),
    ("overlong-3", b"\xe0\x80\xaf"),
    ("overlong-4", b"\xf0\x80\x80\xaf"),
    ("surrogate", b"\xed\xa0\x80"),
    ("above-max", b"\xf4\x90\x80\x80"),
    ("truncated", b"ok\xe2\x82"),
    ("f5", b"\xf5\x80\x80\x80"),
    ("emoji", "\U0001F600 ok"),
    ("nul-inside", b"abc\x00def"),
    ("long-body", "x" * 4001),
]


def wire(type_, req=0, room=0, seq=0, arg=0, flags=0, payload=b"", version=1, reserved=0):
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">BBHIQqqq", version, type_, flags, reserved, req, room, seq, arg) + payload


def batch(*msgs):
    return b"".join(struct.pack(">I", len(m)) + m for m in msgs)


def msg_line(room, seq, body="m"):
    return ('{"type":"message","id":%d,"room":%d,"seq":%d,"kind":"text","user":{"id":8,'
            '"username":"bob"},"body":"%s","created_at":"2026-11-26T08:53:04.123Z",'
            '"edited_at":null,"deleted":false}' % (room * 1000 + seq, room, seq, body))


# Wire types (common/wire.h).
AUTH, JOIN, LEAVE, SEND, TYPING, READ, CALL, FETCH, PING = range(1, 10)
(AUTHED, OK, ERROR, JOINED, ACK, MSG, GAP, FETCHED, TICK, EVENT, REMOVED, CLOSE,
 BATCH) = range(32, 45)
N_SESSION_REVOKED = 64

WIRE = [
    ("msg-next", wire(MSG, 0, 1, 4, payload=msg_line(1, 4))),
    ("msg-ahead", wire(MSG, 0, 1, 9, payload=msg_line(1, 9))),
    ("msg-dup", wire(MSG, 0, 1, 2, payload=msg_line(1, 2))),
    ("msg-other-room", wire(MSG, 0, 77, 1, payload=msg_line(77, 1))),
    ("tick", wire(TICK, 0, 1, 40)),
    ("tick-far", wire(TICK, 0, 2, 100000)),
    ("gap", wire(GAP, 0, 1, 4, 600, payload='{"type":"gap","room":1,"from":4,"to":600}')),
    ("event", wire(EVENT, 0, 1, payload='{"type":"typing","room":1,"user":{"id":8,"username":"bob"}}')),
    ("removed", wire(REMOVED, 0, 3, payload='{"type":"removed","room":3}')),
    ("close", wire(CLOSE, payload='{"type":"error","code":"session_revoked","message":"x","ref":null}')),
    ("error-auth", wire(ERROR, 1, payload='{"type":"error","code":"unauthenticated","message":"x","ref":null}')),
    ("ack", wire(ACK, 5, 1, 4, payload='{"type":"ack","client_id":"c","id":1,"room":1,"seq":4,"created_at":"x"}')),
    ("fetched", wire(FETCHED, 6, 1)),
    ("batch", wire(BATCH, payload=batch(wire(MSG, 0, 1, 4, payload=msg_line(1, 4)),
                                        wire(MSG, 0, 1, 6, payload=msg_line(1, 6)),
                                        wire(TICK, 0, 1, 7)))),
    ("batch-nested", wire(BATCH, payload=batch(wire(BATCH, payload=batch(wire(TICK, 0, 1, 9)))))),
    ("batch-short", wire(BATCH, payload=struct.pack(">I", 39) + b"x" * 39)),
    ("batch-overrun", wire(BATCH, payload=struct.pack(">I", 1000) + wire(TICK))),
    ("bad-version", wire(MSG, version=2)),
    ("bad-reserved", wire(MSG, reserved=1)),
    ("bad-type", wire(200)),
    ("short", b"\x01\x25\x00"),
    ("notify", wire(N_SESSION_REVOKED, payload="0b6f1c1e-0000-4000-8000-000000000000")),
    ("joined-text", wire(JOINED, 2, 1, 3, payload='{"type":"joined","room":1,"last_seq":3,"kind":"direct","name":"bob","online":[{"id":8,"username":"bob"}]}')),
    ("authed-again", wire(AUTHED, 1, payload='{"user":{"id":7,"username":"alice"},"session":"s-1","exp":1}')),
]


def api(method="GET", uri="/api/me", query="", cookie=None, ctype=None, origin=None,
        remote="127.0.0.1", xff=None, https=None, xfp=None, clen=None, auth=None,
        agent="fuzz/1.0", body=b""):
    fields = [method, uri, query, cookie, ctype, origin, remote, xff, https, xfp, clen,
              auth, agent]
    out = b""
    for f in fields:
        out += (f or "").encode("utf-8", "surrogatepass") + b"\0"
    if isinstance(body, str):
        body = body.encode()
    return out + body


def cl(b):
    return str(len(b))


REG = '{"username":"alice","email":"a@example.com","password":"12345678"}'
API = [
    ("register", api("POST", "/api/register", ctype="application/json", clen=cl(REG), body=REG)),
    ("login-origin", api("POST", "/api/login", ctype="application/json; charset=utf-8",
                         origin="http://127.0.0.1:8080", clen="2", body="{}")),
    ("login-foreign-origin", api("POST", "/api/login", ctype="application/json",
                                 origin="http://evil.example", clen="2", body="{}")),
    ("me-cookie", api("GET", "/api/me", cookie='a=1; access_token="eyJ.x.y"; b=2')),
    ("rooms-query", api("GET", "/api/rooms?limit=20&after=5", query="limit=20&after=5&x=%41+b")),
    ("messages", api("GET", "/api/rooms/12/messages", query="before=100&limit=200")),
    ("room-id-junk", api("GET", "/api/rooms/012")),
    ("room-id-huge", api("POST", "/api/rooms/99999999999999999999/join")),
    ("encoded-path", api("GET", "/api/%72ooms/1%2F2/members")),
    ("nul-path", api("GET", "/api/me%00")),
    ("bad-escape", api("GET", "/api/%ZZ")),
    ("deep-path", api("GET", "/api" + "/a" * 20)),
    ("wrong-method", api("PUT", "/api/login", ctype="application/json", clen="2", body="{}")),
    ("health", api("GET", "/api/health")),
    ("config", api("GET", "/api/config")),
    ("no-ctype", api("POST", "/api/login", clen="2", body="{}")),
    ("lying-length", api("POST", "/api/register", ctype="application/json", clen="100", body="{")),
    ("bad-length", api("POST", "/api/register", ctype="application/json", clen="-5", body="{}")),
    ("huge-length", api("POST", "/api/register", ctype="application/json",
                        clen="99999999999999999999", body="{}")),
    ("over-limit", api("POST", "/api/login", ctype="application/json", clen="65537", body="{}")),
    ("not-object", api("POST", "/api/login", ctype="application/json", clen="3", body="[1]")),
    ("bad-json", api("POST", "/api/login", ctype="application/json", clen="5", body="{\"a\":")),
    ("xff", api("GET", "/api/health", xff="10.0.0.1, 203.0.113.9", xfp="https")),
    ("xff-junk", api("GET", "/api/health", remote="127.0.0.1", xff="\r\nX: y, ::ffff:1.2.3.4%eth0")),
    ("https", api("GET", "/api/config", https="on", remote="192.0.2.1")),
    ("read", api("POST", "/api/rooms/1/read", ctype="application/json", clen="8", body='{"seq":1}')),
    ("query-many", api("GET", "/api/users", query="&".join("p%d=%d" % (i, i) for i in range(40)) + "&limit=5")),
    ("metrics", api("GET", "/api/metrics", auth="Bearer s3cret")),
    ("metrics-proxied", api("GET", "/api/metrics", remote="127.0.0.1", xff="198.51.100.7",
                            auth="Bearer\twrong")),
    ("empty", b""),
]


def ws(flags, text):
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    return bytes([flags]) + text


WS = [
    ("json-session", ws(0, '{"type":"join","room":1,"since":0}\n'
                           '{"type":"send","room":1,"body":"hi","client_id":"c-1"}\n'
                           '{"type":"typing","room":1}\n{"type":"read","room":1,"seq":2}\n'
                           '{"type":"ping"}\n{"type":"leave","room":1}\n')),
    ("json-call", ws(0, '{"type":"join","room":2}\n'
                        '{"type":"call","room":2,"to":8,"call_id":"k1","data":{"sdp":"v=0"}}\n')),
    ("json-errors", ws(0, 'not json\n[]\n{}\n{"type":5}\n{"type":"nope"}\n'
                          '{"type":"join","room":"1"}\n{"type":"join","room":1,"since":-1}\n'
                          '{"type":"send","room":1,"body":"","client_id":"c"}\n'
                          '{"type":"send","room":1,"body":"x"}\n'
                          '{"type":"call","room":1,"to":0,"call_id":"k","data":{}}\n')),
    ("json-hostile", ws(0, '{"type":"send","room":1,"body":"a\\u0000b","client_id":"c"}\n'
                           '{"type":"\\"\\n\\u2028","room":1}\n'
                           '{"type":"send","room":1,"body":"\xff","client_id":"c"}\n'
                           '{"type":"join","room":1e30}\n{"type":"join","room":9007199254740993}\n')),
    ("json-binary-frame", ws(0, b'\x00\x01\x02{"type":"ping"}\n{"type":"ping"}\n')),
    ("json-crlf", ws(0, '{"type":"ping"}\r\n{"type":"ping"}\r\n')),
    ("json-rooms-limit", ws(0x10, "".join('{"type":"join","room":%d}\n' % i for i in range(1, 6)))),
    ("json-many-sends", ws(0, "".join('{"type":"send","room":1,"body":"m%d","client_id":"c%d"}\n'
                                      % (i, i) for i in range(20)))),
    ("json-link-drop", ws(0x04, '{"type":"join","room":1,"since":1}\n'
                                '{"type":"send","room":1,"body":"x","client_id":"a"}\n' * 3)),
    ("json-slow-drop", ws(0x24, '{"type":"join","room":1,"since":0}\n'
                                + '{"type":"send","room":1,"body":"x","client_id":"a"}\n' * 4
                                + '{"type":"typing","room":1}\n')),
    ("json-link-refuse", ws(0x08, '{"type":"join","room":1}\n{"type":"send","room":1,"body":"x","client_id":"a"}\n' * 2)),
    ("json-too-large", ws(0x02, '{"type":"send","room":1,"body":"' + "x" * 500 + '"')),
    ("json-too-large-lines", ws(0x02, '{"type":"ping"}\n' + "y" * 300)),
    ("text-lines", ws(0x01, "hello\nworld \u00e9\r\n\n  \n\ttab\n")),
    ("text-bad", ws(0x01, b"\xc0\xaf\n\x01ctl\n" + b"ok\n")),
    ("text-drop", ws(0x05, "one\ntwo\nthree\nfour\n")),
    ("text-long", ws(0x03, "z" * 700)),
    ("cgi-cookie", ws(0, 'access_token=abc.def.ghi; other=1')),
    ("cgi-query", ws(0, 'room=12&format=text')),
    ("cgi-query-bad", ws(0, 'room=-1&format=xml&room=2')),
]


def main():
    write("fuzz_json", JSON)
    write("fuzz_valid", VALID)
    write("fuzz_wire", WIRE)
    write("fuzz_api_req", API)
    write("fuzz_ws_line", WS)
    if len(sys.argv) > 1:
        d = os.path.join(CORPUS, "fuzz_token")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        subprocess.run([sys.argv[1], d], check=True)
        extra = [("garbage", b"not.a.token"), ("empty", b""),
                 ("alg-none", b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."),
                 ("dots", b"...."), ("b64-junk", b"eyJ!!.eyJ??.***")]
        for name, data in extra:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    for h in sorted(os.listdir(CORPUS)):
        n = len(os.listdir(os.path.join(CORPUS, h)))
        print("%s: %d seeds" % (h, n))


if __name__ == "__main__":
    main()
