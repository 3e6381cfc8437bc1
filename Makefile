# The two commands a new user needs: `make test` and `make demo`. Both bootstrap everything
# (uv included) from a machine that has only Python 3.11 and pip.
SHELL := /bin/bash
SYSTEM_UV := $(shell command -v uv 2>/dev/null)
UV := $(if $(SYSTEM_UV),$(SYSTEM_UV),.tools/bin/uv)
PYTEST_ARGS ?= -n 2

.PHONY: test demo lint bench bootstrap

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

bootstrap: $(if $(SYSTEM_UV),,.tools/bin/uv)
	$(UV) sync --frozen --quiet

lint: bootstrap
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

test: lint
	$(UV) run --frozen pytest $(PYTEST_ARGS)

demo: bootstrap
	$(UV) run --frozen exact-pipeline demo

bench: bootstrap
	$(UV) run --frozen exact-pipeline bench
