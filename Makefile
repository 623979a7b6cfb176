# The two commands of the README:
#   make demo   set everything up, then run the main job
#   make test   set everything up, then run the test suite
# MNIST / Fashion-MNIST: $RECIRC_ANALOG_DATA when set, else ../shared/data beside the checkout.
DATA_DIR ?= $(or $(RECIRC_ANALOG_DATA),../shared/data)

.PHONY: setup demo test test-slow netlists bench clean

setup:
	@bash scripts/bootstrap.sh

demo: setup
	.venv/bin/recirc-analog demo --out runs/demo --data-dir $(DATA_DIR)

test: setup
	.venv/bin/python -m pytest

test-slow: setup
	.venv/bin/python -m pytest -m slow

netlists: setup
	.venv/bin/python -m recirc_analog.netlist_writers.examples netlists

clean:
	rm -rf .venv runs .pytest_cache
