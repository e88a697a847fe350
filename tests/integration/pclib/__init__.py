"""pclib: the pytest harness for pipechat's integration and browser tests.

Starts real stacks (PostgreSQL, broker, API behind lighttpd, websocketd) with
scripts/run, and gives tests HTTP clients that pose as their own client address,
registered users, and exact checks of the error shape. No mocks: everything
talks to the real programs over 127.0.0.1. Not a client library for users.

The fixtures built on it live in tests/conftest.py; see tests/integration/README.md.
"""

from .stack import (CHECKOUT, Stack, StackError, children, free_port,
                    random_address, session_and_group, PLAIN_ENV)
from .http import (PCSession, User, make_client, make_user, unique_name,
                   unique_email, assert_error, assert_alive, assert_retry_after,
                   cookie_attrs, set_cookie_lines, describe, raw_http,
                   raw_status, raw_json_body, RFC3339_MS, ANY)
from . import jwt

__all__ = [
    "CHECKOUT", "Stack", "StackError", "children", "free_port", "random_address",
    "session_and_group", "PLAIN_ENV",
    "PCSession", "User", "make_client", "make_user", "unique_name", "unique_email",
    "assert_error", "assert_alive", "assert_retry_after", "cookie_attrs",
    "set_cookie_lines", "describe", "raw_http", "raw_status", "raw_json_body",
    "RFC3339_MS", "ANY",
    "jwt",
]
