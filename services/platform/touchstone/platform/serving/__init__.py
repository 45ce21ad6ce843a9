"""gRPC and HTTP/JSON serving: rich errors, paging, the server, the Connect gateway."""
