"""A service's process: settings, the worker that runs it, readiness, health, logs, metrics,
traces, clocks and ids."""
