# Two commands on a fresh machine with only python3 and make:
#   make demo   - create .venv, install the project, train XOR, write pictures and pages into out/
#   make test   - create .venv, install the project with its test tools, run ruff, mypy,
#                 lint-imports, pytest (the tests run the notebooks in notebooks/ and the
#                 examples in README.md and docs/ too)
#   make notebooks - create .venv, install the project with Jupyter, and start JupyterLab at
#                 the repository root, in notebooks/ (Ctrl-C stops it; JUPYTER_OPTIONS="..."
#                 passes options, e.g. --port=8890 or --no-browser); make notebook-venv
#                 only installs (for VS Code)
#   make bench  - install micrograd and torch too, time every engine (benchmarks/), 5-9 min,
#                 and write the table into docs/performance.md
#   make fuzz   - install torch too, compare the engine with PyTorch float64 on 100,000 random
#                 expressions, mpmath judging each disagreement (tests/fuzz_torch.py), ~1 min
# All are idempotent: the install steps re-run only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test notebooks notebook-venv bench fuzz lint venv clean

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The test extra holds the notebooks extra (the tests drive JupyterLab and Notebook 7).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-notebooks $(VENV)/.installed

$(VENV)/.installed-notebooks: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebooks]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

# The fuzz needs the test tools (mpmath comes with sympy) and torch (the bench extra pins it).
$(VENV)/.installed-fuzz: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-bench $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/tinygrad-xor train --plot out --html out/training.html
	$(BIN)/tinygrad-xor manual --compare --plot out/manual-compare.png
	$(BIN)/tinygrad-xor graph --sample 1 --out out/graph.svg --html out/backprop.html

# lint-imports: the layer contracts in pyproject.toml ([tool.importlinter]).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# pytest runs tests/, where tests/test_notebooks.py executes every notebooks/*.ipynb in a
# Jupyter kernel, and (through Sybil) the ```python blocks of README.md and docs/*.md.
# ruff's own file search skips notebooks/ (pyproject), so it is named here.
test: lint
	$(BIN)/ruff check notebooks
	$(BIN)/ruff format --check notebooks
	$(BIN)/pytest

# What VS Code (or any Jupyter) needs to run the notebooks, without starting a server.
notebook-venv: $(VENV)/.installed-notebooks

# The root is the repository, so the notebooks' links into docs/ open; the browser starts
# in notebooks/.
JUPYTER_OPTIONS ?=
notebooks: notebook-venv
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks \
		$(JUPYTER_OPTIONS)

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run --write docs/performance.md

fuzz: $(VENV)/.installed-fuzz
	$(BIN)/python tests/fuzz_torch.py --count 100000 --seed 0

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
