"""``dmi-live users add|disable|enable|reset|list``: staff accounts.

Passwords are read from the terminal (asked twice) or, with ``--password-stdin``, from
standard input (one line), never from the command line where ``ps`` would show them.
Every change is written to the audit log as ``cli:<login name>``; a new password and
disabling an account also end every sign-in of it (its browsers are signed out).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from access.passwords import PasswordError, check_password_rules, hash_password
from contract.vocab import ROLES
from dmi_live.cli_actor import cli_actor
from dmi_live.errors import UsageError


def configure(parser: argparse.ArgumentParser,
              common: Callable[[argparse.ArgumentParser], None]) -> None:
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION",
                                parser_class=type(parser))
    sub.required = True
    add = sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input")
    for name, text in (("disable", "disable an account (signs it out on its next request)"),
                       ("enable", "enable a disabled account")):
        p = sub.add_parser(name, help=text)
        p.add_argument("username")
    reset = sub.add_parser("reset", help="set a new password")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    sub.add_parser("list", help="list accounts")
    for action in sub.choices.values():
        common(action)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ")
    try:
        check_password_rules(password)
    except PasswordError as exc:
        raise UsageError(str(exc)) from None
    return password


def run(args: argparse.Namespace, store: object) -> int:
    from store.errors import StoreError

    st: Any = store  # a store.Store
    action = args.users_command
    try:
        if action == "add":
            if st.get_user(args.username) is not None:
                raise UsageError(f"user {args.username!r} exists already")
            st.add_user(args.username, args.role, hash_password(_password(args.password_stdin)))
            st.audit(cli_actor(), "add user", None, f"{args.username} as {args.role}")
            print(f"added {args.role} {args.username}")
        elif action in ("disable", "enable"):
            st.set_user_disabled(args.username, action == "disable")
            st.audit(cli_actor(), f"{action} user", None, args.username)
            print(f"{action}d {args.username}" + (" (signed out everywhere)"
                                                  if action == "disable" else ""))
        elif action == "reset":
            st.set_password_hash(args.username, hash_password(_password(args.password_stdin)))
            st.audit(cli_actor(), "reset password", None, args.username)
            print(f"new password set for {args.username} (signed out everywhere)")
        else:
            for user in st.users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.username:<24} {user.role:<11} {state}")
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    return 0
