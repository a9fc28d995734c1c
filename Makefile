# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: setup setup-test run test lint typecheck bench

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test

run: setup
	.venv/bin/conveyor serve --data ./.conveyor --listen 127.0.0.1:5000

test: setup-test
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/pytest -q -p no:cacheprovider

bench: setup-test
	.venv/bin/python -m bench.run
