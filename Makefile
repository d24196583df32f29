# leonet: `make demo` runs the main job, `make test` the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench venv web clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	# Compile the numba kernels into their on-disk cache now, so the first job does not.
	$(PY) -c "from leonet.coverage.visibility import warm_kernels; warm_kernels()"
	$(PY) -c "from leonet.network.shortest import warm_kernels; warm_kernels()"
	$(PY) -c "from leonet.network.links import warm_kernels as links; from leonet.export.text import warm_kernels as text; links(); text()"
	$(PY) -c "from leonet.orbits.sgp4c import warm_kernels; warm_kernels()"
	# Parse the shipped country borders once into the user cache (WKB), as every job reads them.
	$(PY) -c "from leonet.ground.borders import load_countries; load_countries()"
	# matplotlib lists the system's fonts into its cache on first use (seconds): once, here.
	$(PY) -c "from leonet.reports.regional import warm_report; warm_report()"
	touch $(STAMP)

# The dashboard's bundle (leonet serve): npm packages pinned in package-lock.json, bundled by
# esbuild into src/leonet/web/static (gitignored). Nothing is fetched by the page at run time.
WEB_DIR := src/leonet/web/frontend
WEB := src/leonet/web/static/.built

$(WEB): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json $(WEB_DIR)/build.mjs $(WEB_DIR)/index.html $(WEB_DIR)/style.css $(wildcard $(WEB_DIR)/src/*.js)
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error && node build.mjs

web: $(WEB)

venv: $(STAMP) $(WEB)

# The demo writes outside the source tree (set DEMO_OUT to choose where).
DEMO_OUT ?= $(HOME)/leonet-demo

demo: $(STAMP) $(WEB)
	$(VENV)/bin/leonet demo -o $(DEMO_OUT)

# CesiumJS's own CZML loader, run in Node by tests/export/test_czml.py (pinned in
# scripts/cesium/package-lock.json): the CZML of `leonet export czml` is checked by a real viewer's code.
CESIUM := scripts/cesium/node_modules/.package-lock.json

$(CESIUM): scripts/cesium/package.json scripts/cesium/package-lock.json
	cd scripts/cesium && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.package-lock.json

test: $(STAMP) $(WEB) $(CESIUM)
	$(VENV)/bin/ruff check src tests bench scripts
	cd src && ../$(VENV)/bin/lint-imports ../pyproject.toml
	$(PY) -m pytest -q -n auto --dist loadfile

bench: $(STAMP) $(WEB)
	$(PY) bench/propagation.py
	$(PY) bench/global_coverage.py --res5
	$(PY) bench/demo.py
	$(PY) bench/routing.py
	$(PY) bench/dashboard.py

clean:
	rm -rf $(VENV) out .pytest_cache $(WEB_DIR)/node_modules src/leonet/web/static scripts/cesium/node_modules
