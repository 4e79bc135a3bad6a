# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/petition-bot run

lint: $(STAMP)
	$(BIN)/ruff check bot handlers storage tests bench
	$(BIN)/ruff format --check bot handlers storage tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite starts a throwaway PostgreSQL server; its binaries come from Debian's package.
unit: $(STAMP)
	bash .ci/install-postgres
	$(BIN)/pytest -q

test: lint typecheck unit

# Each prints its figures next to a baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python -m bench.answers
	$(BIN)/python -m bench.signing
	$(BIN)/python -m bench.telegram
	$(BIN)/python -m bench.broadcast
	$(BIN)/python -m bench.matrix
	$(BIN)/python -m bench.flood

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
