"""The ``dmi-live`` command line.

Every user mistake (bad argument, missing or invalid config file, port in use) ends in
one line saying what is wrong and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from dmi_live import __version__
from dmi_live.errors import DmiError
from dmi_live.settings import Settings, load_settings

log = logging.getLogger("dmi_live")


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line naming the command, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1–65535)")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="settings file (TOML); DMI_* environment variables override it")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="where the database, spool and broker files live (default: ./data)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    if args.data_dir is not None:
        settings = replace(settings, data_dir=args.data_dir)
    if getattr(args, "broker_port", None) is not None:
        settings = replace(settings, broker=replace(settings.broker, port=args.broker_port))
    if getattr(args, "port", None) is not None:
        settings = replace(settings, http_port=args.port)
    return settings


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


# ----------------------------------------------------------------------------- commands


def cmd_demo(args: argparse.Namespace) -> int:
    from dmi_live.demo import run_demo

    settings = _settings(args)
    default_folder = args.data_dir is None and args.config is None
    if default_folder:
        settings = replace(settings, data_dir=Path("data") / "demo")
    return run_demo(settings, seed=args.seed, speed=args.speed, may_move=default_folder)


def cmd_broker(args: argparse.Namespace) -> int:
    from dmi_live.services import start_broker

    broker, settings = start_broker(_settings(args), fallback=False, pick_free_port=False)
    print(f"mosquitto listening on {settings.broker.host}:{settings.broker.port} "
          f"(config in {settings.data_dir / 'broker'})", flush=True)
    try:
        _wait_for_signal()
    finally:
        broker.stop()
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from dmi_live import ingest_cli

    return ingest_cli.run(args, _settings(args))


def cmd_record(args: argparse.Namespace) -> int:
    from dmi_live.services import start_recorder

    settings = _settings(args)
    handle = start_recorder(settings, group=args.group, client_id=args.client_id,
                            engine=not args.no_engine)
    print(f"recording {settings.broker.host}:{settings.broker.port} → {settings.database_url}",
          flush=True)
    try:
        _wait_for_signal()
    finally:
        handle.stop()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dmi_live.services import start_dashboard

    handle = start_dashboard(_settings(args))
    print(f"dashboard on {handle.url}", flush=True)
    try:
        _wait_for_signal()
    finally:
        handle.stop()
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from dmi_live import metrics_cli

    return metrics_cli.run(args)


def cmd_users(args: argparse.Namespace) -> int:
    from dmi_live import users_cli
    from dmi_live.cli_store import open_existing, open_or_create

    users_cli.ask_password(args)
    opener = open_or_create if args.users_command == "add" else open_existing
    with opener(_settings(args).database_url) as store:
        return users_cli.run(args, store)


def cmd_family_link(args: argparse.Namespace) -> int:
    from dmi_live import family_cli
    from dmi_live.cli_store import open_existing

    settings = _settings(args)
    with open_existing(settings.database_url) as store:
        return family_cli.run(args, settings, store)


def cmd_kiosk_link(args: argparse.Namespace) -> int:
    from dmi_live import kiosk_cli

    return kiosk_cli.run(args, _settings(args))


def cmd_status(args: argparse.Namespace) -> int:
    from dmi_live import status_cli

    return status_cli.run_status(args, _settings(args))


def cmd_quarantine(args: argparse.Namespace) -> int:
    from dmi_live import status_cli

    return status_cli.run_quarantine(args, _settings(args))


def cmd_progress(args: argparse.Namespace) -> int:
    from dmi_live import progress_cli
    from store import open_store

    with open_store(_settings(args).database_url) as store:
        return progress_cli.run(args, store)


def _conf_demo(demo: argparse.ArgumentParser) -> None:
    _common(demo)
    demo.add_argument("--port", type=_port,
                      help="dashboard HTTP port (default 8050, or a free one)")
    demo.add_argument("--broker-port", type=_port,
                      help="MQTT port (default 1883, or a free one when it is taken)")
    demo.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    demo.add_argument("--speed", type=_positive, default=1.0,
                      help="simulation speed, 1 = real time (default 1)")
    demo.set_defaults(func=cmd_demo)


def _conf_broker(broker: argparse.ArgumentParser) -> None:
    _common(broker)
    broker.add_argument("--broker-port", "--port", dest="broker_port", type=_port,
                        help="MQTT port (default from settings, 1883)")
    broker.set_defaults(func=cmd_broker)


def _conf_ingest(ingest: argparse.ArgumentParser) -> None:
    from dmi_live import ingest_cli

    _common(ingest)
    ingest_cli.configure(ingest)
    ingest.set_defaults(func=cmd_ingest)


def _conf_record(record: argparse.ArgumentParser) -> None:
    _common(record)
    record.add_argument("--group", help="share the load with other recorders in this group")
    record.add_argument("--client-id", help="stable MQTT client id (default recorder-SITE)")
    record.add_argument("--no-engine", action="store_true",
                        help="do not run the session engine here (run exactly one per site)")
    record.set_defaults(func=cmd_record)


def _conf_serve(serve: argparse.ArgumentParser) -> None:
    _common(serve)
    serve.add_argument("--port", type=_port, help="HTTP port (default from settings, 8050)")
    serve.set_defaults(func=cmd_serve)


def _conf_users(users: argparse.ArgumentParser) -> None:
    from dmi_live import users_cli

    users_cli.configure(users, _common)
    users.set_defaults(func=cmd_users)


def _conf_export(export: argparse.ArgumentParser) -> None:
    from dmi_live import export_cli

    export_cli.configure(export)
    export.add_argument("-v", "--verbose", action="store_true", help="log more")
    export.set_defaults(func=export_cli.run)


def _conf_import(import_: argparse.ArgumentParser) -> None:
    from dmi_live import import_cli

    import_cli.configure(import_)
    import_.add_argument("-v", "--verbose", action="store_true", help="log more")
    import_.set_defaults(func=import_cli.run)


def _conf_family(family: argparse.ArgumentParser) -> None:
    from dmi_live import family_cli

    _common(family)
    family_cli.configure(family)
    family.set_defaults(func=cmd_family_link)


def _conf_kiosk(kiosk: argparse.ArgumentParser) -> None:
    from dmi_live import kiosk_cli

    _common(kiosk)
    kiosk_cli.configure(kiosk)
    kiosk.set_defaults(func=cmd_kiosk_link)


def _conf_status(status: argparse.ArgumentParser) -> None:
    from dmi_live import status_cli

    _common(status)
    status_cli.configure(status, None)
    status.set_defaults(func=cmd_status)


def _conf_quarantine(quarantine: argparse.ArgumentParser) -> None:
    from dmi_live import status_cli

    _common(quarantine)
    status_cli.configure(None, quarantine)
    quarantine.set_defaults(func=cmd_quarantine)


def _conf_reps(reps: argparse.ArgumentParser) -> None:
    from dmi_live import reps_cli

    reps_cli.configure(reps)
    reps.set_defaults(func=reps_cli.run)



def _conf_progress(progress: argparse.ArgumentParser) -> None:
    from dmi_live import progress_cli

    _common(progress)
    progress_cli.configure(progress)
    progress.set_defaults(func=cmd_progress)


def _conf_metrics(metrics: argparse.ArgumentParser) -> None:
    from dmi_live import metrics_cli

    metrics_cli.configure(metrics)
    metrics.set_defaults(func=cmd_metrics)


# name, help, configure: a command's module is imported only when that command is chosen,
# so ``dmi-live --help`` needs neither scipy nor pandas nor the dashboard.
COMMANDS: tuple[tuple[str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("demo", "broker, simulated room, recorder and dashboard in one", _conf_demo),
    ("broker", "run Mosquitto with a generated config", _conf_broker),
    ("ingest", "read a room's devices and publish them", _conf_ingest),
    ("record", "store everything published into the database", _conf_record),
    ("serve", "serve the dashboard", _conf_serve),
    ("users", "staff accounts: add, disable, enable, reset, list", _conf_users),
    ("export", "a session's samples, sets, reps and notes: csv, parquet or a pdf report",
     _conf_export),
    ("import", "turn a recorded force-plate file into a session", _conf_import),
    ("family-link", "links that show one child to their family", _conf_family),
    ("kiosk-link", "wall-screen links: make, list, revoke", _conf_kiosk),
    ("status", "per device: last stored sample, status, gaps, rejects; the recorder's lag; "
     "the quarantine", _conf_status),
    ("quarantine", "the messages the recorder refused, newest first, with the reason",
     _conf_quarantine),
    ("reps", "count the reps in recorded IMU files", _conf_reps),
    ("progress", "a child's intensive block: dose, support and carry-over per exercise",
     _conf_progress),
    ("metrics", "stability metrics of a recorded file", _conf_metrics),
)


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """The parser; only the command named in ``argv`` is configured (all when None)."""
    parser = Parser(prog="dmi-live", description="Live postural-stability measurement for "
                    "Dynamic Movement Intervention therapy.")
    parser.add_argument("--version", action="version", version=f"dmi-live {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, text, configure in COMMANDS:
        command = sub.add_parser(name, help=text, description=text)
        if chosen is None or chosen == name:
            configure(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("werkzeug", "amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except DmiError as exc:
        print(f"dmi-live {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
