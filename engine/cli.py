"""`foresight`: engine, ctl, tui and demo.

The engine side never imports the TUI: `tui` and `demo` replace this process
with the TUI's own entry point.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.contract.paths import add_state_dir_argument, resolve_state_dir, shipped_strategies_dir
from engine.ctl import verbs as ctl
from engine.market import market_flags
from engine.trading.slots import DEFAULT_ASSETS, DEFAULT_WINDOWS


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foresight", description="Foresight Mission Control")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    eng = sub.add_parser("engine", help="run the trading engine (the state-holding process)")
    add_state_dir_argument(eng)
    eng.add_argument("--speed", type=float, default=1.0, help="market seconds per wall second (simulation/replay)")
    eng.add_argument("--cycle-interval", type=float, default=1.0, help="wall seconds between cycles")
    eng.add_argument("--seed", type=int, default=0, help="seed of the simulated market")
    eng.add_argument("--feed", default="sim", help="sim, binance (live trades), or replay:FILE.csv[,FILE.csv...] (docs/market.md)")
    market_flags.add_arguments(eng)
    eng.add_argument("--strategies-path", type=Path, default=shipped_strategies_dir(), help="directory of the strategy modules (the reload scope)")
    eng.add_argument("--assets", type=_csv, default=DEFAULT_ASSETS, help="comma-separated assets (default: the eight)")
    eng.add_argument("--windows", type=_csv, default=DEFAULT_WINDOWS, help="comma-separated window lengths (default: 5m,15m)")
    eng.add_argument("--max-cycles", type=int, default=None, help="stop after this many cycles (benchmarks)")
    eng.add_argument("--quiet", action="store_true", help="do not echo events to stderr")
    eng.add_argument(
        "--accept-loss",
        action="store_true",
        help="resume from what can be proved when state.journal is damaged or missing (the loss goes to events.jsonl)",
    )
    eng.add_argument("--notify", action="append", metavar="URL", help="send alerts to this apprise URL (repeatable; also $FORESIGHT_NOTIFY, space-separated): docs/alerts.md")
    eng.add_argument("--call-budget", type=float, default=None, help="seconds one evaluate/analyse_history call may take (default: a quarter of the cycle interval, at least 0.25)")
    eng.add_argument("--load-budget", type=float, default=None, help="seconds a strategy module's top level or Params may take (default: twice the cycle interval, at least 1)")
    eng.add_argument("--smoke-budget", type=float, default=None, help="seconds the smoke evaluation of new code (32 views) may take in all (default: twice the cycle interval, at least 1)")
    eng.add_argument("--grace", type=float, default=None, help="seconds past a budget before a strategy that swallows the interrupt is abandoned to the supervisor (default 0.5)")
    eng.add_argument("--load-from-disk", action="store_true", help="start on the strategies directory instead of the version that was running")
    eng.add_argument("--probation-cycles", type=int, default=3, help="cycles after a swap in which any strategy error rolls it back at once (default 3)")
    eng.add_argument("--shadow-room", type=float, default=0.8, help="a shadow runs in a cycle only if its last cost keeps the cycle within this share of the interval, else it skips the cycle (default 0.8)")
    eng.add_argument("--keep-versions", type=int, default=10, help="how many strategy versions the state directory keeps (default 10)")

    ctl.add_parser(sub, add_state_dir_argument)

    watch = sub.add_parser("watch", help="watch an engine from outside and notify when it is STALE, DOWN or recovered")
    add_state_dir_argument(watch)
    watch.add_argument("--notify", action="append", metavar="URL", help="apprise URL (repeatable; also $FORESIGHT_NOTIFY)")
    watch.add_argument("--interval", type=float, default=5.0, help="seconds between looks at status.json (default 5)")
    watch.add_argument("--stale-after", type=float, default=None, help="seconds without a status write that make it STALE (default: 3 cycle intervals, at least 10)")

    bridge = sub.add_parser("bridge", help="carry this engine's status and control over NATS (docs/fleet.md)")
    add_state_dir_argument(bridge)
    from engine.contract.fleet import options as nats_options

    nats_options.add_arguments(bridge, url_required=True)
    bridge.add_argument("--name", required=True, help="the engine's name in the fleet (a NATS key: letters, digits, - and _)")
    bridge.add_argument("--presence-every", type=float, default=3.0, help="seconds between presence beats (the key expires after 15)")
    bridge.add_argument("--replicas", type=int, default=1, help="copies of each bucket when this bridge creates them (3 on a 3-node cluster)")

    for name, text in (("tui", "open Mission Control on a state directory"), ("demo", "engine on a simulated market plus Mission Control")):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("tui", "demo"):
        module = "foresight_tui" if argv[0] == "tui" else "foresight_tui.demo"
        os.execv(sys.executable, [sys.executable, "-m", module, *argv[1:]])
    if argv and argv[0] == "ctl":
        from engine.ctl import remote as remote_ctl

        if remote_ctl.wants_remote(argv[1:]):
            return remote_ctl.main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.state_dir is None:
        args.state_dir = resolve_state_dir(None)
    if args.command == "ctl":
        try:
            return ctl.run(args)
        except BrokenPipeError:
            # `ctl status | head` closed the pipe: what was wanted was read. Python's docs' way
            # out: the rest of the output to /dev/null, so the exit's own flush cannot fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    if args.command == "bridge":
        from engine.contract.fleet.options import options_from
        from engine.fleet.bridge import run_bridge

        try:
            options = options_from(args)
        except ValueError as exc:
            print(f"foresight bridge: {exc}", file=sys.stderr)
            return 2
        if options is None:
            print("foresight bridge: --nats URL (or $FORESIGHT_NATS_URL) names the server", file=sys.stderr)
            return 2
        return run_bridge(args.state_dir, options, args.name, args.presence_every, args.replicas)
    if args.command == "watch":
        from engine.ops.alerts import notify_urls
        from engine.ops.watch import run_watch

        return run_watch(args.state_dir, notify_urls(args.notify, os.environ.get("FORESIGHT_NOTIFY")), args.interval, args.stale_after)
    return run_engine_command(args)


def _exit_past_strategy_threads(code: int) -> None:
    """The engine has stopped and released its lock: a thread strategy code started (and no
    one can stop) must not keep the process alive, or a second engine could start beside it."""
    import threading

    left = [t.name for t in threading.enumerate() if t is not threading.current_thread() and t.is_alive() and not t.daemon]
    if left:
        print(f"foresight engine: exiting without waiting for thread(s) {', '.join(left)} started by strategy code", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_engine_command(args: argparse.Namespace) -> int:
    from engine.config import EngineConfig
    from engine.loop import Engine
    from engine.ops.alerts import notify_urls
    from engine.process_guard import AlreadyRunning
    from engine.trading.state import StateFileError

    config = EngineConfig(
        state_dir=args.state_dir,
        speed=args.speed,
        cycle_interval_s=args.cycle_interval,
        seed=args.seed,
        feed=args.feed,
        strategies_path=args.strategies_path.resolve(),
        assets=tuple(a.upper() for a in args.assets),
        windows=args.windows,
        max_cycles=args.max_cycles,
        echo_events=not args.quiet,
        accept_loss=args.accept_loss,
        **market_flags.config_fields(args),
        notify=notify_urls(args.notify, os.environ.get("FORESIGHT_NOTIFY")),
        call_budget_s=args.call_budget,
        load_budget_s=args.load_budget,
        grace_s=args.grace,
        smoke_budget_s=args.smoke_budget,
        load_from_disk=args.load_from_disk,
        keep_versions=args.keep_versions,
        probation_cycles=args.probation_cycles,
        shadow_room=args.shadow_room,
    )
    from engine import startup_errors as codes

    try:
        engine = Engine(config)
        engine.lock.acquire()  # a second engine is refused before it says anything else
        print(f"foresight engine: state in {config.state_dir} (status: {config.state_dir / 'status.json'})", file=sys.stderr, flush=True)
        code = engine.run()
        if engine.exit_reason is not None:
            print(f"foresight engine: stopped: {engine.exit_reason}", file=sys.stderr)
        _exit_past_strategy_threads(code)
        return code
    except AlreadyRunning as exc:
        print(f"foresight engine: {exc}", file=sys.stderr)
        return codes.EXIT_ALREADY_RUNNING
    except (StateFileError, ValueError) as exc:
        print(f"foresight engine: {exc}", file=sys.stderr)
        return codes.EXIT_REFUSED
    except OSError as exc:
        print(f"foresight engine: {codes.filesystem_failure(exc)}", file=sys.stderr)
        return codes.EXIT_FILESYSTEM
    except Exception as exc:  # e.g. the strategy code does not load at start
        if type(exc).__name__ == "StrategyLoadError":
            print(f"foresight engine: strategy code does not load: {exc}", file=sys.stderr)
            return codes.EXIT_STRATEGY
        raise
