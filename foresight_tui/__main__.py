"""`python -m foresight_tui [--state-dir DIR] [--read-only]` (what `foresight tui` execs)."""

from __future__ import annotations

import argparse
import sys

from engine.contract.fileio import not_a_directory
from engine.contract.paths import resolve_state_dir, state_dir_argument


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="foresight tui", description="Foresight Mission Control")
    parser.add_argument("--state-dir", action="append", type=state_dir_argument, help="the engine's state directory (default: $FORESIGHT_STATE_DIR or XDG state); twice or more opens the fleet view")
    parser.add_argument("--read-only", action="store_true", help="show everything, write nothing")
    from engine.contract.fleet.options import add_arguments

    add_arguments(parser)  # --nats URL opens the fleet view of every engine bridged to it (docs/fleet.md)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    directories = args.state_dir or [None]
    for directory in args.state_dir or ():
        if (problem := not_a_directory(directory)) is not None:
            print(f"foresight tui: {problem}", file=sys.stderr)
            return 2
    if getattr(args, "nats", None) or len(directories) > 1:
        from foresight_tui.fleet.launch import run_fleet

        return run_fleet(args)
    from foresight_tui.app import MissionControlApp

    app = MissionControlApp(resolve_state_dir(directories[0]), read_only=args.read_only)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
