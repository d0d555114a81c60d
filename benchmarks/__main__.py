"""`python -m benchmarks` (what `make bench` runs): see benchmarks/runner.py."""

from benchmarks.runner import main

raise SystemExit(main())
