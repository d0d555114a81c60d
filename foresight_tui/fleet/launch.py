"""`foresight tui --nats URL` or `foresight tui --state-dir A --state-dir B ...`: the fleet view."""

from __future__ import annotations

import argparse
import sys

from engine.contract.fleet.options import options_from
from engine.contract.paths import resolve_state_dir


def run_fleet(args: argparse.Namespace) -> int:
    from foresight_tui.fleet.app import FleetApp
    from foresight_tui.fleet.sources import LocalFleet, NatsFleet

    if getattr(args, "nats", None):
        if args.state_dir:
            print("foresight tui: --nats and --state-dir exclude each other (engines on NATS are named by their bridges)", file=sys.stderr)
            return 2
        try:
            options = options_from(args)
        except ValueError as exc:
            print(f"foresight tui: {exc}", file=sys.stderr)
            return 2
        assert options is not None
        source: NatsFleet | LocalFleet = NatsFleet(options, read_only=args.read_only)
    else:
        source = LocalFleet([resolve_state_dir(d) for d in args.state_dir], read_only=args.read_only)
    app = FleetApp(source)
    app.run()
    return app.return_code or 0
