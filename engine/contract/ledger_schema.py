"""The ledger's SQLite schema: one file, `ledger.sqlite3`, in the state directory.

Standard library only, so the operator side (ctl, the TUI) may import it with the
read-only queries in `engine/contract/ledger_read.py`. docs/ledger.md documents each column.
"""

from __future__ import annotations

LEDGER_FILE = "ledger.sqlite3"
LEDGER_SCHEMA_VERSION = 1

# Times are seconds on the engine's market clock (UNIX epoch seconds; the wall clock in
# live trading): `datetime(entered_at, 'unixepoch')` shows one in any SQLite client.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bets (
    id             INTEGER PRIMARY KEY,
    book           TEXT NOT NULL,
    slot           TEXT NOT NULL,
    asset          TEXT NOT NULL,
    window         TEXT NOT NULL,
    side           TEXT NOT NULL CHECK (side IN ('up', 'down')),
    stake          REAL NOT NULL,
    ask            REAL,
    shares         REAL,
    edge           REAL,
    entered_at     REAL NOT NULL,
    window_end     REAL,
    entered_cycle  INTEGER,
    resolved_at    REAL,
    resolved_cycle INTEGER,
    outcome        TEXT CHECK (outcome IN ('won', 'lost', 'void')),
    pnl            REAL,
    open_price     REAL,
    close_price    REAL,
    code_version   TEXT NOT NULL,
    params_hash    TEXT NOT NULL,
    boot_id        TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT 'engine' CHECK (source IN ('engine', 'state', 'events')),
    UNIQUE (book, slot, window_end)
);
CREATE INDEX IF NOT EXISTS bets_by_time ON bets (entered_at);
CREATE INDEX IF NOT EXISTS bets_open ON bets (book, slot) WHERE outcome IS NULL;
CREATE TABLE IF NOT EXISTS risk_trips (
    id          INTEGER PRIMARY KEY,
    trip_id     TEXT NOT NULL UNIQUE,
    book        TEXT NOT NULL,
    day         TEXT NOT NULL,
    limit_name  TEXT NOT NULL,
    figure      REAL NOT NULL,
    threshold   REAL NOT NULL,
    message     TEXT NOT NULL,
    tripped_at  REAL NOT NULL,
    cycle       INTEGER NOT NULL,
    boot_id     TEXT NOT NULL,
    cleared_at  TEXT,
    cleared_by  TEXT
);
CREATE VIEW IF NOT EXISTS days AS
    SELECT date(b.resolved_at, 'unixepoch') AS day,
           count(*) AS bets,
           sum(b.outcome = 'won') AS wins,
           round(sum(b.pnl), 6) AS pnl,
           round(sum(b.stake), 6) AS staked,
           (SELECT group_concat(t.limit_name || ': ' || t.message, '; ')
              FROM risk_trips t WHERE t.day = date(b.resolved_at, 'unixepoch')) AS risk_trips
      FROM bets b
     WHERE b.outcome IN ('won', 'lost')
     GROUP BY day;
"""
