# The two commands a new user runs (see README.md):
#   make demo   install into .venv, start the local Kafka + Elasticsearch, run the demo pipeline
#   make test   install into .venv and run every test, integration tests on the real engines included
# .ci/run calls `make test`, so a lint or type error fails CI (`make lint` runs first).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lint bench explore stack-down clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "deskwatch needs Python 3.11, found " + sys.version' 
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,lint]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/deskwatch stack up
	$(BIN)/deskwatch demo

# The style guide's "ruff and mypy --strict clean", before any engine starts: a lint or type error
# fails the test command in seconds. mypy finds a module by its folder, but schemas/, producers/,
# processors/ and sinks/ install as deskwatch.schemas, ... (package-dir in pyproject.toml): checked
# where they are, every `deskwatch.schemas` import is unresolved. So mypy checks a tree of links laid
# out as installed, rebuilt from that mapping on every run; its errors name files by their path in
# the tree.
# tests/, bench/ and reliability/ are checked in the same run, each module under the name it is
# imported by. The tree links them beside deskwatch (as tests.*, bench.*, reliability.*: the names
# pytest's rootdir imports and `python -m bench` give them), and --explicit-package-bases names a
# module from the nearest MYPYPATH folder above it. Three folders are module roots of their own,
# their files importing each other as top-level modules: tests/processors/stage1 (stage1_build) and
# tests/processors/fingerprint (test_fast_paths), as pytest imports a test folder without an
# __init__.py; reliability/ for the fault scripts (faults_account, ...) and soak.py, which put their
# own folder on sys.path. Those scripts are checked from reliability/ itself, under those names, and left out
# of the tree's reliability/ (the rest of it, reliability.outcome, ...): a file seen under two
# module names is a mypy error.
LINTED := deskwatch producers processors sinks schemas tests bench reliability
TYPED  := $(VENV)/typed
TYPED_ROOTS := $(abspath $(TYPED)):$(abspath $(TYPED))/tests/processors/stage1:$(abspath $(TYPED))/tests/processors/fingerprint:$(CURDIR)/reliability
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	rm -rf $(TYPED) && mkdir -p $(TYPED)/deskwatch
	ln -s $(CURDIR)/deskwatch/* $(TYPED)/deskwatch/
	$(BIN)/python -c 'import os, tomllib; dirs = tomllib.load(open("pyproject.toml", "rb"))["tool"]["setuptools"]["package-dir"]; [os.symlink(os.path.abspath(d), os.path.join("$(TYPED)", *p.split("."))) for p, d in dirs.items() if p != "deskwatch"]'
	ln -s $(CURDIR)/tests $(CURDIR)/bench $(CURDIR)/reliability $(TYPED)/
	MYPYPATH=$(TYPED_ROOTS) $(BIN)/mypy --cache-dir $(VENV)/mypy-cache --explicit-package-bases \
	  --exclude '/reliability/(faults[^/]*|soak)\.py$$' \
	  $(TYPED)/deskwatch $(TYPED)/tests $(TYPED)/bench $(TYPED)/reliability reliability/faults*.py reliability/soak.py

# The two reduced campaigns run on private engines of their own (own homes and ports, copies of the
# shared stack's installs, hence after `stack up`) and spend most of their ~6 minutes waiting on live
# time and outages, not on CPU: they run as a second pytest beside the rest, their output printed
# after it, and either failing fails the command.
CAMPAIGNS := tests/reliability/test_soak.py tests/reliability/test_faults.py
test: $(STAMP) lint
	$(BIN)/deskwatch stack up
	@rm -rf $(VENV)/campaigns; mkdir -p $(VENV)/campaigns; \
	$(BIN)/python -m pytest -ra --durations=5 -p no:cacheprovider --basetemp=$(VENV)/campaigns/tmp \
	  $(CAMPAIGNS) > $(VENV)/campaigns/log 2>&1 & side=$$!; \
	echo "== the campaigns ($(CAMPAIGNS)) run beside the rest; their log: $(VENV)/campaigns/log"; \
	$(BIN)/python -m pytest -ra --durations=15 $(addprefix --ignore=,$(CAMPAIGNS)); main=$$?; \
	echo "== waiting for the campaigns ..."; wait $$side; campaigns=$$?; \
	echo "== the campaigns, run beside (exit $$campaigns):"; cat $(VENV)/campaigns/log; \
	test $$main -eq 0 && test $$campaigns -eq 0

# The bench extra: Quix Streams (a baseline) pins pydantic below the version deskwatch needs, so it
# goes in without its dependency resolution, after the rest of the extra (which lists what it imports).
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -c 'import tomllib; extra = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]; print("\n".join(extra))' > $(VENV)/bench-requirements.txt
	grep -v '^quixstreams' $(VENV)/bench-requirements.txt | $(BIN)/python -m pip install --quiet -c constraints.txt -r /dev/stdin
	$(BIN)/python -m pip install --quiet --no-deps $$(grep '^quixstreams' $(VENV)/bench-requirements.txt)
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

# New counterexamples for the property tests: random seeds, ROUNDS times (the test command is
# derandomized; tests/conftest.py says why). A failure prints its seed and a blob to reproduce it.
ROUNDS ?= 5
explore: $(STAMP)
	for i in $$(seq $(ROUNDS)); do \
	  DESKWATCH_HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q \
	    $$(grep -rl --include='test_*.py' '@given' tests) || exit 1; \
	done

stack-down:
	$(BIN)/deskwatch stack down
	# the secured engines the security tests start beside the plain ones
	DESKWATCH_STACK__HOME=/var/lib/deskwatch-secure $(BIN)/deskwatch stack down

clean: stack-down
	rm -rf $(VENV)
