"""Hot reload of strategy code: load, check, smoke-test, swap, keep every version, and guard every call into it."""
