# Two commands do all set-up: `make run` (serve on the embedded SQLite default) and
# `make test` (the whole suite). Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?=
STAMP  := $(VENV)/.installed

.PHONY: run test venv clean lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/outreach setup
	$(BIN)/outreach serve --bind $(HOST):$(PORT) $(if $(WORKERS),--workers $(WORKERS))

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check server sync geo tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
