"""The agent process: configuration, logging and the wiring of server, client and HTTP."""
