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
from pathlib import Path
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
    _password_options(add)
    for name, text in (("disable", "disable an account (signs it out on its next request)"),
                       ("enable", "enable a disabled account")):
        p = sub.add_parser(name, help=text)
        p.add_argument("username")
    reset = sub.add_parser("reset", help="set a new password")
    reset.add_argument("username")
    _password_options(reset)
    sub.add_parser("list", help="list accounts")
    for action in sub.choices.values():
        common(action)


def _password_options(parser: argparse.ArgumentParser) -> None:
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input "
                     "(the default when standard input is not a terminal)")
    how.add_argument("--password-file", type=Path, metavar="FILE",
                     help="read the password from the first line of FILE")


NO_TERMINAL = ("no password given: there is no terminal to ask on. Pipe it in "
               "(printf '%%s\\n' PASSWORD | dmi-live users %s ...) or use --password-file FILE")


def _first_line(text: str) -> str:
    lines = text.splitlines()
    return lines[0] if lines else ""


def _password(args: argparse.Namespace) -> str:
    action = args.users_command
    if args.password_file is not None:
        try:
            password = _first_line(args.password_file.read_text())
        except OSError as exc:
            raise UsageError(f"cannot read --password-file {args.password_file}: "
                             f"{exc.strerror}") from None
        if not password:
            raise UsageError(f"--password-file {args.password_file} is empty")
    elif args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError(NO_TERMINAL % action)
    else:
        try:
            password = getpass.getpass("New password: ")
            again = getpass.getpass("Again: ")
        except EOFError:
            raise UsageError(NO_TERMINAL % action) from None
        if again != password:
            raise UsageError("the two passwords differ")
    try:
        check_password_rules(password)
    except PasswordError as exc:
        raise UsageError(str(exc)) from None
    return password


def ask_password(args: argparse.Namespace) -> None:
    """Read the password ``add`` and ``reset`` need, before any store is opened."""
    if args.users_command in ("add", "reset") and getattr(args, "password", None) is None:
        args.password = _password(args)


def _given_password(args: argparse.Namespace) -> str:
    ask_password(args)
    password: str = args.password
    return password


def run(args: argparse.Namespace, store: object) -> int:
    from store.errors import StoreError

    st: Any = store  # a store.Store
    action = args.users_command
    try:
        if action == "add":
            if st.get_user(args.username) is not None:
                raise UsageError(f"user {args.username!r} exists already")
            st.add_user(args.username, args.role, hash_password(_given_password(args)))
            st.audit(cli_actor(), "add user", None, f"{args.username} as {args.role}")
            print(f"added {args.role} {args.username}")
        elif action in ("disable", "enable"):
            st.set_user_disabled(args.username, action == "disable")
            st.audit(cli_actor(), f"{action} user", None, args.username)
            print(f"{action}d {args.username}" + (" (signed out everywhere)"
                                                  if action == "disable" else ""))
        elif action == "reset":
            st.set_password_hash(args.username, hash_password(_given_password(args)))
            st.audit(cli_actor(), "reset password", None, args.username)
            print(f"new password set for {args.username} (signed out everywhere)")
        else:
            for user in st.users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.username:<24} {user.role:<11} {state}")
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    return 0
