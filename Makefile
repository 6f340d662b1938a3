# nomadic developer targets; `make help` lists them.
.PHONY: help dev test lint binary bench

help: ## list targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

dev: ## start a dev agent (server + client) on 127.0.0.1:4646
	uv run nomadic agent -dev

test: ## run the whole test suite
	uv run pytest

lint: ## ruff, formatting and mypy
	uv run ruff check . && uv run ruff format --check . && uv run mypy

binary: ## build the single-file executable dist/nomadic
	uv run python tools/build_binary.py dist/nomadic

bench: ## dev agent latency benchmark
	uv run python benchmarks/dev_latency.py
