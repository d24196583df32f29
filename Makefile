# leonet: `make demo` runs the main job, `make test` the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	# Compile the numba kernels into their on-disk cache now, so the first job does not.
	$(PY) -c "from leonet.coverage.visibility import warm_kernels; warm_kernels()"
	$(PY) -c "from leonet.network.shortest import warm_kernels; warm_kernels()"
	# Parse the shipped country borders once into the user cache (WKB), as every job reads them.
	$(PY) -c "from leonet.ground.borders import load_countries; load_countries()"
	touch $(STAMP)

venv: $(STAMP)

# The demo writes outside the source tree (set DEMO_OUT to choose where).
DEMO_OUT ?= $(HOME)/leonet-demo

demo: $(STAMP)
	$(VENV)/bin/leonet demo -o $(DEMO_OUT)

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	cd src && ../$(VENV)/bin/lint-imports ../pyproject.toml
	$(PY) -m pytest -q -n auto --dist loadfile

bench: $(STAMP)
	$(PY) bench/propagation.py
	$(PY) bench/coverage.py --res5
	$(PY) bench/demo.py
	$(PY) bench/routing.py

clean:
	rm -rf $(VENV) out .pytest_cache
