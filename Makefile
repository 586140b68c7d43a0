# cryolearn: the two commands a new user runs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install install-test demo demo-bedtopo demo-climate figures test test-unit test-slurm lint docs docs-serve bench report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# numpy goes first: it is needed at build time by some of our dependencies.
# torch is pinned first so that pip takes the CPU wheel instead of pulling CUDA packages.
# somoclu ships only a source archive that imports numpy while it builds and tries CUDA
# when it finds nvcc: build it against our numpy, for the CPU (OpenMP) kernel.
TORCH_PIN ?= torch==2.13.0
SOMOCLU ?= somoclu>=1.7.5
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "numpy>=1.26" setuptools wheel
	$(BIN)/python -m pip install --quiet "$(TORCH_PIN)"
	CUDAHOME=/nonexistent $(BIN)/python -m pip install --quiet --no-build-isolation "$(SOMOCLU)"
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## demo: run the whole workflow on the synthetic demo world, then build the report
demo: install
	$(BIN)/snakemake --profile profiles/default --cores $(CORES)
	$(BIN)/snakemake --profile profiles/default --cores 1 --report results/report.html

## demo-bedtopo: only the bed-topography part of the demo (DeepTopoNet and its baselines)
demo-bedtopo: install
	$(BIN)/snakemake --profile profiles/default --cores $(CORES) bedtopo

## figures: every figure of the crevasse pipeline (results/figures), and only what they need
figures: install
	$(BIN)/snakemake --profile profiles/default --cores $(CORES) figures

## demo-climate: cluster the synthetic climate year with DSC, its variants and baselines
demo-climate: install
	$(BIN)/snakemake --profile profiles/default --cores $(CORES) climate

## test: the test suite (unit tests and Snakemake integration tests on config/test.yaml)
test: install-test
	$(BIN)/python -m pytest -q

## test-unit: the unit tests alone, without the Snakemake integration runs (about 2 minutes)
test-unit: install-test
	$(BIN)/python -m pytest -q -m "not integration and not slurm"

## test-slurm: config/test.yaml through profiles/slurm on a live single-node Slurm that
## tests/slurm/start.sh starts (root; tests/slurm/install.sh installs slurm-wlm and munge)
test-slurm: install-test
	$(BIN)/python -m pytest -q -m slurm tests/test_slurm_live.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/snakemake --lint --cores 1

## docs: build the documentation site (docs/, mkdocs.yml) into site/, failing on any warning
docs: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## docs-serve: the site on http://127.0.0.1:8000, rebuilt as you edit
docs-serve: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve -a 127.0.0.1:8000

bench: install
	$(BIN)/python bench/forward_model.py
	$(BIN)/python bench/autoencoder.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/som.py
	$(BIN)/python bench/bedtopo.py
	$(BIN)/python bench/climate.py
	$(BIN)/python bench/jacobian.py
	$(BIN)/python bench/world.py

clean:
	rm -rf results logs benchmarks .snakemake resources/demo site
