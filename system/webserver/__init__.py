"""The webserver: UI and HTTP API in front of an orchestrator in web mode."""
