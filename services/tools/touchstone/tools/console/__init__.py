"""The console: the journey map, drawn, and the recovery board, over the four services' gRPC APIs.

A small web app on 127.0.0.1 (`touchstone console`, and part of `touchstone run`). It has no
database of its own: every figure comes from the services' queries and streams, called with the
signed-in user's own bearer token, so the services' roles, site scoping and masking apply as to
any other front-end.
"""
