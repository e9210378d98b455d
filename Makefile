# Quickstart: `make demo` and `make test`. Both create .venv and install sertk and every plugin.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.sertk-installed

.PHONY: install browser demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install --quiet -e ".[test,export,distributed]" $(addprefix -e ./,$(PLUGINS))
	$(MAKE) --no-print-directory browser
	touch $(STAMP)

# Headless Chromium checks report.html; optional (without it that check says so and is skipped).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; } || \
	  echo "note: chromium not installed (needs root and apt-get); the report.html browser check will be skipped"

demo: install
	$(BIN)/sertk run recipes/demo.yaml

test: install
	$(BIN)/python -m pytest

bench: install
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs
