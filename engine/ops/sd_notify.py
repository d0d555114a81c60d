"""systemd's notify protocol, spoken when NOTIFY_SOCKET is set (Type=notify services).

READY=1 once the first cycle can run, WATCHDOG=1 from the cycle loop (so a loop
stuck where no in-process guard reaches, a C extension say, is restarted by
systemd after WatchdogSec), STATUS= with the cycle and the code version,
STOPPING=1 on the way out. Without NOTIFY_SOCKET every call does nothing.
"""

from __future__ import annotations

import os
import socket
import time


class SdNotify:
    def __init__(self, address: str | None) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._every_s = 1.0
        self._last = 0.0
        if address:
            if address.startswith("@"):
                address = "\0" + address[1:]  # an abstract socket
            self.address = address
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            usec = os.environ.get("WATCHDOG_USEC")
            if usec and usec.isdigit() and int(usec) > 0:
                self._every_s = int(usec) / 1e6 / 4  # well inside the watchdog's interval

    @classmethod
    def from_environment(cls) -> SdNotify:
        return cls(os.environ.get("NOTIFY_SOCKET") or None)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, *fields: str) -> None:
        if self._socket is None or not self.address:
            return
        try:
            self._socket.sendto("\n".join(fields).encode(), self.address)
        except OSError:
            pass  # the supervisor went away: nothing to tell

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def heartbeat(self, cycle: int, version: str) -> None:
        """From the cycle loop; sends at most every quarter of WatchdogSec (or 1 s)."""
        if self._socket is None:
            return
        now = time.monotonic()
        if now - self._last >= self._every_s:
            self._last = now
            self.send("WATCHDOG=1", f"STATUS=cycle {cycle}, code {version}")

    def stopping(self) -> None:
        self.send("STOPPING=1")
