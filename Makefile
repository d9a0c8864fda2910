# kg: two commands do all set-up on a fresh machine.
#   make demo   venv, kg, a local Neo4j, the Chechnya case loaded, a short tour
#   make test   the same set-up, then every test against a throwaway Neo4j of its own
#   make lint   ruff (lint and format check) on the tree, mypy on kg/ (config: pyproject.toml)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
KG     := $(BIN)/kg
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install schema docs fuzz bench help neo4j-lock

help:
	@echo "make demo    set up, start Neo4j, load data/chechnya-2017, print a tour"
	@echo "make test    set up and run every test against a throwaway Neo4j"
	@echo "make lint    ruff check, ruff format --check and mypy (what CI runs before the tests)"
	@echo "make schema  regenerate schema/records.schema.json from the models"
	@echo "make neo4j-lock  re-pin kg/resources/neo4j-jars.json from Maven's resolution (needs mvn)"

# The editable install maps kg._schema etc. to top-level folders, so setuptools installs a
# finder and says so ("Editable installation ... folders with the same name"): information,
# not trouble, and not shown (PYTHONWARNINGS is setuptools' documented switch for its notes).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[test,ftm,xlsx,server,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@$(KG) db start
	@$(KG) load data/chechnya-2017
	@bash scripts/tour.sh $(KG)
	@$(KG) export html --case chechnya-2017 --out out/chechnya-2017.html --title "Chechnya 2017: abductions, claims and denials" >/dev/null
	@echo; echo "The Chechnya graph, as a page that opens offline: $(CURDIR)/out/chechnya-2017.html"

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Style and types, as CI runs them (.ci/run). To fix what the tools can:
#   .venv/bin/ruff check --fix . && .venv/bin/ruff format .
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/python -m kg.schema_gen > schema/records.schema.json

docs: $(STAMP)
	$(BIN)/python -c "from kg.queries import Library, docs_markdown; print(docs_markdown(Library.load()), end='')" > docs/queries.md
	$(BIN)/python -m kg.clidoc > docs/cli.md

# Maintainers: after changing NEO4J_VERSION or kg/resources/neo4j-pom.xml, re-pin the jars
# kg fetches (group, artifact, version, sha256, size) from Maven's resolution. Needs mvn.
neo4j-lock: $(STAMP)
	$(BIN)/python -m kg.maven lock

# A long generated bad-input run; rewrites the table in docs/reliability.md.
fuzz: $(STAMP)
	KG_FUZZ_EXAMPLES=3000 $(BIN)/python -m pytest -q tests/test_fuzz.py
	$(BIN)/python scripts/reliability_doc.py

# Benchmarks (not tests): side by side on a throwaway Neo4j; writes docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py
