"""`python -m foresight_tui [--state-dir DIR] [--read-only]` (what `foresight tui` execs)."""

from __future__ import annotations

import argparse
import sys

from engine.contract.paths import resolve_state_dir


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="foresight tui", description="Foresight Mission Control")
    parser.add_argument("--state-dir", help="the engine's state directory (default: $FORESIGHT_STATE_DIR or XDG state)")
    parser.add_argument("--read-only", action="store_true", help="show everything, write nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from foresight_tui.app import MissionControlApp

    app = MissionControlApp(resolve_state_dir(args.state_dir), read_only=args.read_only)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
