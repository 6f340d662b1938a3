"""Test support shipped with nomadic: factories, the scheduler Harness, agent processes,
and the driver conformance suite. Import the submodule you need."""
