"""The platform floor: what every service runs on (runtime, messaging, persistence, serving,
security); it imports no service and holds no business rule."""
