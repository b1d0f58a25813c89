# Atalaya: two commands on a fresh machine
#   make run    environment + demo warehouse (if missing or of an older schema) + dashboard on http://localhost:8501
#   make test   environment with test dependencies + lint (ruff, mypy on core/) + the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WAREHOUSE ?= data/warehouse.duckdb
PORT ?= 8501

.PHONY: run test lint demo region install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/atalaya-load demo --out $(WAREHOUSE)

# A regional deployment (two countries, one warehouse each): builds what is missing, then the dashboard.
REGION ?= data/examples/region.toml
region: $(VENV)/.installed
	$(BIN)/atalaya-load region $(REGION) --if-stale
	ATALAYA_PAISES=$(abspath $(REGION)) $(BIN)/streamlit run app.py --server.port $(PORT)

run: $(VENV)/.installed
	$(BIN)/atalaya-load demo --if-stale --out $(WAREHOUSE)
	ATALAYA_WAREHOUSE=$(abspath $(WAREHOUSE)) $(BIN)/streamlit run app.py --server.port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

# The browser tests start servers and Chromium: alone, after the rest, which runs on two workers.
BROWSER_TESTS := tests/test_browser.py tests/test_browser_presenter.py tests/test_browser_region.py tests/test_browser_sweep.py tests/test_browser_login.py tests/test_hostile_names.py

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile $(addprefix --ignore=,$(BROWSER_TESTS))
	$(BIN)/python -m pytest $(BROWSER_TESTS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
