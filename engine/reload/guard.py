"""Every call into strategy code, under a time budget, with a bounded grace.

    guard = StrategyGuard(grace_s=0.5)
    decision = guard.call(0.25, strategy.evaluate, view, params)

What strategy code raises comes back as an ordinary `Exception`: its own
exceptions unchanged, anything else (`SystemExit`, `KeyboardInterrupt`,
`GeneratorExit`, ...) wrapped in `StrategyExit`, never the engine's exit.
A call past its budget is interrupted and raises `StrategyTimeout`.

How a call is interrupted. One watchdog thread, started once, watches the
armed call (arming stores one tuple, no lock and no wake-up). Past the deadline it raises
`StrategyInterrupt` into the calling thread with `PyThreadState_SetAsyncExc`
(delivered at the next bytecode boundary, whatever the strategy did to signal
handlers) and, on the main thread, also sends it `SIGUSR1`, whose handler raises
the same interrupt: that is what breaks a blocking `time.sleep` or `select`,
which the asynchronous exception alone would wait out. A strategy that catches
the interrupt (a bare `except:` in a retry loop) is interrupted again every
`RETRY_S` until it lets go. If it has not let go `grace_s` after its deadline,
the process is abandoned to its supervisor (`on_abandon`, then `os._exit`):
the restart runs the last good version (engine/reload/version_store.py).

What no guard in the same interpreter can stop: a loop inside a C extension
(neither a bytecode boundary nor a signal reaches it until it returns), a
segfault, `os._exit`. The supervisor covers those (docs/operations.md).

Threat model: the operator's own code with honest mistakes. Hostile code can
still walk frames to engine objects, reinstall signal handlers, import the
engine through importlib; that is a limit, written down, not hidden.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

RETRY_S = 0.01  # how often a strategy that swallows the interrupt is interrupted again
IDLE_POLL_S = 0.02  # how soon the watchdog notices a newly armed call
DEEP_IDLE_S = 1.0  # with no call for this long, the watchdog sleeps until `call` wakes it
EXIT_ABANDONED = 70  # EX_SOFTWARE: the supervisor restarts the engine on the last good version
INTERRUPT_SIGNAL = signal.SIGUSR1

# Own prototypes (indexing makes new function objects): one raises, one clears (NULL).
_raise_async = ctypes.pythonapi["PyThreadState_SetAsyncExc"]
_raise_async.argtypes = (ctypes.c_ulong, ctypes.py_object)
_raise_async.restype = ctypes.c_int
_clear_async = ctypes.pythonapi["PyThreadState_SetAsyncExc"]
_clear_async.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
_clear_async.restype = ctypes.c_int


class StrategyInterrupt(BaseException):
    """Raised into strategy code that overran its budget (or when the engine stops).

    A BaseException, so an `except Exception` in the strategy lets it through."""


class StrategyFailure(Exception):
    """A call into strategy code that did not return normally, for reasons other than its
    own ordinary exception. `cause` is what was raised inside the strategy."""

    kind = "failure"

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    @property
    def trace(self) -> TracebackType | None:
        """The traceback inside the strategy, for locating where it was."""
        return self.cause.__traceback__ if self.cause is not None else self.__traceback__


class StrategyTimeout(StrategyFailure):
    kind = "timeout"

    def __init__(self, budget_s: float, elapsed_s: float, cause: BaseException | None, what: str = "") -> None:
        self.budget_s = budget_s
        self.elapsed_s = elapsed_s
        label = f"{what} " if what else ""
        super().__init__(
            f"{label}timed out: still running after its {budget_s * 1000:.0f} ms budget "
            f"(interrupted after {elapsed_s * 1000:.0f} ms)",
            cause,
        )


class StrategyExit(StrategyFailure):
    """SystemExit, KeyboardInterrupt or another BaseException raised by strategy code."""

    kind = "exit"

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}({_args(cause)}) raised by strategy code (not the engine's exit)", cause)


class StrategyStopped(StrategyFailure):
    """Interrupted because the engine is stopping: not the strategy's failure."""

    kind = "stopped"

    def __init__(self, cause: BaseException | None) -> None:
        super().__init__("interrupted: the engine is stopping", cause)


def _args(exc: BaseException) -> str:
    try:
        return ", ".join(repr(a) for a in exc.args)[:80]
    except BaseException as failure:  # noqa: BLE001 - a repr of the strategy's own objects
        return f"(its arguments could not be read: {type(failure).__name__})"


# The guard of this process's strategy calls (the engine has one): `text_of` runs strategy code
# too, the __str__ and __repr__ of what it raised, and needs a budget when none is armed.
_process_guard: StrategyGuard | None = None
TEXT_BUDGET_S = 0.25


def text_of(render: Callable[[], str]) -> str:
    """`render()`, which runs the strategy's own __str__ or __repr__: whatever that raises
    (SystemExit included) or however long it loops, it is the strategy's failure, said in
    words, never the engine's exit or hang."""
    guard = _process_guard
    try:
        if guard is None or guard.busy or guard.stopping:  # an armed call's budget covers it
            text = render()
        else:
            text = guard.call(TEXT_BUDGET_S, render, what="text")
        if not isinstance(text, str):
            raise TypeError(f"__str__ returned {type(text).__name__}")
        return text
    except StrategyTimeout:
        return "(its message could not be read: timed out)"
    except StrategyFailure as exc:
        cause = exc.cause if exc.cause is not None else exc
        return f"(its message could not be read: {type(cause).__name__})"
    except BaseException as exc:  # noqa: BLE001 - anything strategy code raises here is its own failure
        return f"(its message could not be read: {type(exc).__name__})"


@dataclass(frozen=True)
class Abandon:
    """What the watchdog knows when it gives up on a call."""

    what: str
    budget_s: float
    overrun_s: float


_perf = time.perf_counter
_get_ident = threading.get_ident


# The call running now, as the watchdog sees it: (deadline, budget_s, what, thread id). One
# plain tuple per call in one attribute, so the watchdog always reads one call's fields
# together; the tuple itself is the call's ticket (compared by identity).
_Armed = tuple[float, float, str, int]


def _deadline_of(armed: _Armed) -> float:
    return armed[0]


def _thread_of(armed: _Armed) -> int:
    return armed[3]


class StrategyGuard:
    """Owns the watchdog thread; `call` runs one strategy call under a budget."""

    # Slots: `call` reads and writes a few attributes per strategy call, every slot of every cycle.
    __slots__ = (
        "grace_s", "on_abandon", "exit", "_armed", "_fired", "_stopping", "_abandoned", "_overdue", "stopping",
        "_ready", "_lock", "_thread", "_signal_ready", "interrupts", "_sleeping", "_wake",
    )

    def __init__(self, grace_s: float = 0.5, on_abandon: Callable[[Abandon], None] | None = None) -> None:
        if grace_s <= 0:
            raise ValueError("grace_s must be positive")
        self.grace_s = float(grace_s)
        self.on_abandon = on_abandon
        self.exit = os._exit  # what abandoning does once on_abandon has run
        # The armed call (None: none). Written by the calling thread only.
        self._armed: _Armed | None = None
        self._fired: _Armed | None = None  # the call the watchdog last raised into
        self._stopping: _Armed | None = None  # the call interrupted because the engine stops
        self._abandoned: _Armed | None = None
        self._overdue: tuple[_Armed | None, float] = (None, 0.0)  # a call due earlier than its deadline
        self.stopping = False  # set by stop_current: every later call is refused at once
        self._ready = False  # the watchdog runs and the engine is not stopping: the fast path
        self._sleeping = False  # the watchdog waits on `_wake` (no call for DEEP_IDLE_S)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._signal_ready = False
        self.interrupts = 0  # how many interrupts were raised (a figure for status and tests)
        self._install_signal()

    # ------------------------------------------------------------------ calling

    def call(self, budget_s: float, fn: Callable[..., T], *args: Any, what: str = "") -> T:
        """`fn(*args)` under `budget_s`; its own Exception propagates unchanged."""
        if not self._ready:
            if self.stopping:  # the engine is on its way out: no strategy call may hold it
                raise StrategyStopped(None)
            self._start()
        started = _perf()
        armed = self._armed = (started + budget_s, budget_s, what, _get_ident())
        if self._sleeping:
            self._wake.set()
        failure: BaseException | None
        try:
            value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - every way out of strategy code is judged below
            self._armed = None
            failure = exc
        else:
            self._armed = None
            if self._fired is not armed:
                return value
            failure = None
        # No call above this line may run between the strategy's return and the disarm: a
        # pending interrupt is delivered only at a call or a backward jump (see _settle).
        if self._fired is armed:
            try:
                self._settle(armed)
            except StrategyInterrupt:
                self._settle(armed)
            # Interrupted, whatever it did next (swallowed it and returned, raised something
            # else): past its budget is a failure, and the stop of the engine is not.
            if self._stopping is armed:
                raise StrategyStopped(failure)
            raise StrategyTimeout(budget_s, time.perf_counter() - started, failure, what)
        assert failure is not None  # a call that returned and was not interrupted went out above
        if isinstance(failure, StrategyInterrupt):  # raised by strategy code itself, or a stray
            raise StrategyTimeout(budget_s, time.perf_counter() - started, failure, what)
        if isinstance(failure, Exception):
            raise failure
        raise StrategyExit(failure)

    def stop_current(self) -> None:
        """The engine is stopping: interrupt the call running now, if any (main thread, from
        the stop signal's handler, so the raise lands in the strategy frame)."""
        self.stopping = True
        self._ready = False
        armed = self._armed
        if armed is not None and _thread_of(armed) == threading.get_ident():
            # Overdue from now: a strategy that swallows this too is abandoned after the grace.
            self._overdue = (armed, min(_deadline_of(armed), time.perf_counter()))
            self._stopping = armed
            self._fired = armed
            raise StrategyInterrupt("engine stopping")

    @property
    def busy(self) -> bool:
        return self._armed is not None

    # ---------------------------------------------------------------- internals

    def _settle(self, armed: _Armed) -> None:
        """Clear an interrupt the watchdog raised for a call that has already let go.

        Under the lock the watchdog cannot raise again, and after `_armed = None` it never
        will for that call: at most one stray interrupt exists, cleared here or (when it
        is delivered at this very call) caught by the caller, which settles again."""
        with self._lock:
            _clear_async(_thread_of(armed), None)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._ready = not self.stopping
                return
            self._thread = threading.Thread(target=self._watch, name="strategy-watchdog", daemon=True)
            self._thread.start()
            global _process_guard
            _process_guard = self
            self._ready = not self.stopping

    def _install_signal(self) -> None:
        if threading.current_thread() is threading.main_thread():
            try:
                signal.signal(INTERRUPT_SIGNAL, self._on_signal)
                self._signal_ready = True
            except (ValueError, OSError):
                self._signal_ready = False

    def reinstall_signal(self) -> None:
        """Put the interrupt signal's handler back (strategy code may have replaced it)."""
        if self._signal_ready and signal.getsignal(INTERRUPT_SIGNAL) != self._on_signal:
            signal.signal(INTERRUPT_SIGNAL, self._on_signal)

    def _on_signal(self, _signum: int, _frame: object) -> None:
        # Runs in the main thread between bytecodes: raise only into the call that overran.
        armed = self._armed
        if armed is not None and self._fired is armed and _thread_of(armed) == threading.get_ident():
            raise StrategyInterrupt("over budget")

    def _deadline(self, armed: _Armed) -> float:
        overdue, due = self._overdue
        return min(_deadline_of(armed), due) if overdue is armed else _deadline_of(armed)

    def _watch(self) -> None:
        idle_since = time.monotonic()
        while True:
            armed = self._armed
            if armed is None:
                if time.monotonic() - idle_since < DEEP_IDLE_S:
                    time.sleep(IDLE_POLL_S)
                    continue
                # No call for a while (between slow cycles, or a guard nobody uses): sleep until
                # `call` sets the event. `_sleeping` first, then a last look at `_armed`, so a
                # call armed in between is never missed.
                self._sleeping = True
                if self._armed is None:
                    self._wake.wait(5.0)
                self._wake.clear()
                self._sleeping = False
                idle_since = time.monotonic()
                continue
            idle_since = time.monotonic()
            deadline = self._deadline(armed)
            now = time.perf_counter()
            if now < deadline:
                time.sleep(min(deadline - now, IDLE_POLL_S * 5))
                continue
            if now - deadline > self.grace_s:
                self._abandon(armed, now - deadline)
                continue
            self._interrupt(armed)
            time.sleep(RETRY_S)

    def _interrupt(self, armed: _Armed) -> None:
        with self._lock:
            self._fired = armed
            if self._armed is not armed:
                return
            thread_id = _thread_of(armed)
            _raise_async(thread_id, StrategyInterrupt)
            self.interrupts += 1
            # Only while the handler is ours: the signal's default action would end the process.
            if (
                self._signal_ready
                and thread_id == threading.main_thread().ident
                and signal.getsignal(INTERRUPT_SIGNAL) == self._on_signal
            ):
                try:
                    signal.pthread_kill(thread_id, INTERRUPT_SIGNAL)
                except (OSError, ValueError):
                    pass

    def _abandon(self, armed: _Armed, overrun_s: float) -> None:
        if self._armed is not armed or self._abandoned is armed:
            return
        self._abandoned = armed
        _deadline, budget_s, what, _thread_id = armed
        info = Abandon(what, budget_s, overrun_s)
        try:
            if self.on_abandon is not None:
                self.on_abandon(info)
        finally:
            if self._armed is armed:
                self.exit(EXIT_ABANDONED)


@dataclass(frozen=True)
class Budgets:
    """How long each kind of call into strategy code may take (`foresight engine` flags)."""

    call_s: float = 0.25  # evaluate, analyse_history: once per slot (asset) per cycle
    load_s: float = 2.0  # a module's top level, Params construction and its schema
    grace_s: float = 0.5  # past a budget, how long a strategy that swallows the interrupt may hold on
    smoke_s: float = 1.0  # the whole smoke evaluation of a candidate (engine/reload/smoke.py)

    @classmethod
    def for_interval(
        cls,
        cycle_interval_s: float,
        call_s: float | None = None,
        load_s: float | None = None,
        grace_s: float | None = None,
        smoke_s: float | None = None,
    ) -> Budgets:
        """Defaults derived from the cycle interval: a quarter of it per call (at least 250 ms,
        so a loaded machine's scheduling never reads as a strategy's fault), twice it for a load
        and for the smoke evaluation (at least 1 s; both run in the wait between cycles, and the
        smoke's 32 views are two cycles' worth of calls), and a grace of 0.5 s."""
        between_cycles = min(max(cycle_interval_s * 2, 1.0), 30.0)
        return cls(
            call_s=call_s if call_s is not None else min(max(cycle_interval_s / 4, 0.25), 5.0),
            load_s=load_s if load_s is not None else between_cycles,
            grace_s=grace_s if grace_s is not None else 0.5,
            smoke_s=smoke_s if smoke_s is not None else between_cycles,
        )

    def __post_init__(self) -> None:
        for name, flag in (("call_s", "--call-budget"), ("load_s", "--load-budget"), ("grace_s", "--grace"), ("smoke_s", "--smoke-budget")):
            if not 0 < getattr(self, name) <= 3600:
                raise ValueError(f"{flag} must be above 0 and at most 3600 seconds")
