"""nomadic: a workload orchestrator in the spirit of HashiCorp Nomad."""

__version__ = "0.1.0"
