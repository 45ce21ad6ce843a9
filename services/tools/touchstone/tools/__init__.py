"""Above the services: the operator's tools, the development tools and the console, behind the one
`touchstone` command."""
