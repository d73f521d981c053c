# curate — two commands on a fresh machine: `make demo` and `make test`.
# TORCH_SPEC picks the torch wheel (CPU by default); GPU users override it, e.g.
#   make test TORCH_SPEC="torch==2.13.0 --index-url <your CUDA wheel index>"
PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.curate-installed
# Ultralytics needs torchvision, which does not run beside the +cpu torch wheel: its tests get
# their own venv with the default torch/torchvision builds (requirements-integrations.txt).
IVENV      ?= .venv-integrations
ISTAMP     := $(IVENV)/.curate-installed

.PHONY: demo test test-integrations test-packaging lint bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, from TORCH_SPEC, so the package's "torch>=2.1" installs nothing more
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev,highs,engine]"
	touch $(STAMP)

# Headless Chromium for the report browser test (Debian package; needs root + apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "warning: chromium missing and apt-get unavailable; browser tests will be skipped"; fi; }

demo: $(STAMP)
	$(PY) -m curate.demo

test: $(STAMP) browser
	$(VENV)/bin/ruff check curate tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest -q --durations=15
	$(MAKE) test-integrations

# The ultralytics end-to-end tests in $(IVENV): torch/torchvision/ultralytics pinned by
# requirements-integrations.txt (about 7 GB with their CUDA libraries; they run on CPU), then
# curate[dev] with the same file as constraints so that nothing replaces those pins.
# Measured here: install 1 min 55 s (local wheel mirror), tests 18 s.
$(ISTAMP): pyproject.toml requirements-integrations.txt
	$(PYTHON) -m venv $(IVENV)
	echo '*' > $(IVENV)/.gitignore
	$(IVENV)/bin/python -m pip install --quiet --upgrade pip
	$(IVENV)/bin/python -m pip install --quiet -r requirements-integrations.txt
	$(IVENV)/bin/python -m pip install --quiet -c requirements-integrations.txt -e ".[dev]"
	touch $(ISTAMP)

test-integrations: $(ISTAMP)
	mkdir -p $(IVENV)/yolo-config
	YOLO_OFFLINE=1 YOLO_CONFIG_DIR=$(CURDIR)/$(IVENV)/yolo-config \
	  $(IVENV)/bin/python -m pytest -q -p no:cacheprovider -m integrations \
	  tests/test_integrations_ultralytics.py

# Only the installed-wheel check (part of `make test`): build the wheel, install it in a fresh
# virtualenv (torch, then the wheel and its dependencies: 1-3 minutes), run curate --version,
# stats and report.
test-packaging: $(STAMP)
	$(PY) -m pytest -q -m packaging tests/test_packaging.py

lint: $(STAMP)
	$(VENV)/bin/ruff check curate tests benchmarks
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(IVENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
