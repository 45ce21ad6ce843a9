"""The operator's tools: replay, rescore, audit, dead letters, standards checks and the gRPC
clients they use."""
