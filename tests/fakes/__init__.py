"""In-memory fakes of the services' store ports, one module a service: they hold storage
(idempotent by key exactly as the SQL is); the rules stay in the services' models."""
