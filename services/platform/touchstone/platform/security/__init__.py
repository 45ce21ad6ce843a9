"""Who may call what and how traffic is protected: tokens, roles, site scope, limits, audit, TLS,
sealing."""
