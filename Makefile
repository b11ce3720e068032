# Polku: two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYSTAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-10)
NODESTAMP := node_modules/.installed-$(shell cat package.json package-lock.json | sha1sum | cut -c1-10)
SAMSTAMP := .venv-sam/.installed-1.170.0

.PHONY: setup test demo local lint bench clean check-java chromium

$(PYSTAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[recommend,dev]"
	touch $@

$(NODESTAMP): package.json package-lock.json
	rm -f node_modules/.installed-*
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# SAM CLI lives in its own venv: its pins must not fight the project's.
$(SAMSTAMP):
	$(PYTHON) -m venv .venv-sam
	.venv-sam/bin/pip install -q --upgrade pip
	.venv-sam/bin/pip install -q aws-sam-cli==1.170.0
	touch $@

check-java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || \
	  { echo "Java 17 or newer is required (DynamoDB Local). Install e.g. openjdk-17-jre-headless."; exit 1; }

chromium:
	@bash infra/scripts/install-chromium.sh

setup: $(PYSTAMP) $(NODESTAMP) $(SAMSTAMP) check-java chromium

test: setup
	$(PY) -m pytest -q

demo: $(PYSTAMP) $(NODESTAMP) check-java
	$(PY) -m polku.demo

local: $(PYSTAMP)
	$(VENV)/bin/polku local

# Every linter the project has; the first that fails stops make with its exit status.
lint: $(PYSTAMP) $(NODESTAMP)
	$(VENV)/bin/ruff check src functions tests benchmarks
	$(VENV)/bin/polku journeys lint
	$(VENV)/bin/polku templates lint
	$(VENV)/bin/polku segments lint
	$(VENV)/bin/polku campaigns lint

bench: $(PYSTAMP) $(NODESTAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-sam node_modules .pytest_cache .aws-sam out
