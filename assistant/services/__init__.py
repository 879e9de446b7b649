"""Use cases of the service, called by the API routers and the CLI alike."""
