# femiec: `make demo` and `make test` set everything up on a fresh Debian/Ubuntu machine first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
NP ?= 2
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_btl := self,vader
export OMPI_MCA_rmaps_base_oversubscribe := 1
export FEMIEC_NUMBERS_DIR := $(CURDIR)/.pytest-numbers
MPIRUN := mpirun -n $(NP)
# a test that outlives FEMIEC_TEST_TIMEOUT (tests/conftest.py) leaves its name and stack here
SHOW_WATCHDOG := grep -l Timeout $(FEMIEC_NUMBERS_DIR)/watchdog-rank*.log 2>/dev/null | xargs -r tail -n 40
PYTEST_MPI := $(MPIRUN) scripts/mpi_pytest.sh $(PY) -m pytest -p no:cacheprovider --color=no -m mpi -q

.PHONY: setup demo demo-electrode demo-impedance test test-serial test-mpi compare-baseline bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/femiec run demos/nmc_conduction/case.toml --out demo-out
	$(PY) scripts/check_paraview.py demo-out

demo-electrode: setup
	$(MPIRUN) $(VENV)/bin/femiec run demos/nmc_electrode/case.toml --out demo-out/nmc_electrode
	$(PY) scripts/check_paraview.py demo-out/nmc_electrode

# impedance of an NMC crop at 50% state of charge (32^3 until the 64^3 spectrum has a cheaper solver; 2 ranks),
# the blocking cell of the 64^3 crop's pores and their homogenize tortuosity; compare.py prints the figures
demo-impedance: setup
	$(MPIRUN) $(VENV)/bin/femiec run demos/nmc_impedance/case.toml --out demo-out/nmc_impedance/electrode
	$(MPIRUN) $(VENV)/bin/femiec run demos/nmc_impedance/blocking.toml --out demo-out/nmc_impedance/blocking
	$(MPIRUN) $(VENV)/bin/femiec run demos/nmc_impedance/tortuosity.toml --out demo-out/nmc_impedance/tortuosity
	$(PY) demos/nmc_impedance/compare.py demo-out/nmc_impedance

test: setup
	@rm -rf $(FEMIEC_NUMBERS_DIR)
	$(PY) -m pytest --color=no tests || { $(SHOW_WATCHDOG); exit 1; }
	$(PYTEST_MPI) tests || { cat $(FEMIEC_NUMBERS_DIR)/pytest-rank*.log | tail -50; $(SHOW_WATCHDOG); exit 1; }
	$(PY) scripts/compare_numbers.py $(FEMIEC_NUMBERS_DIR)

# every number of the serial run against the baseline kept before the model-lifecycle restructuring
compare-baseline:
	$(PY) scripts/compare_numbers.py --baseline tests/baseline/numbers-np1.json $(FEMIEC_NUMBERS_DIR)

test-serial: setup
	$(PY) -m pytest --color=no tests

test-mpi: setup
	$(PYTEST_MPI) tests

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf demo-out out .pytest-numbers .pytest_cache
