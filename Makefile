# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 5000
FLASK = $(VENV)/bin/flask --app wsgi

.PHONY: run test check install migrate seed clean translations constraints

# message catalogues: the .po files are the source, the .mo files are compiled here (not committed)
CATALOGUES = $(wildcard translations/*/LC_MESSAGES/messages.po)

# constraints.txt pins every package (and what they pull in) at the versions the suite passed with
$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt -r requirements-dev.txt -c constraints.txt
	touch $@

translations/.compiled: $(CATALOGUES) | $(VENV)/.installed
	$(VENV)/bin/python -m app.i18n.catalogue compile
	touch $@

install: $(VENV)/.installed translations/.compiled

# after changing texts in the code or templates: extract them, merge them into both catalogues, then
# translate the new zh_CN entries (docs/i18n.md); the test suite fails while one is missing
translations: install
	$(VENV)/bin/python -m app.i18n.catalogue update

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

run: seed
	@echo ""
	@echo "  ParkingOS is running at http://127.0.0.1:$(PORT)/"
	@echo "  Demo accounts (password parkingos-demo): admin, city1, group1, park1, city2"
	@echo "  Handheld accounts (device API only): collector1, inspector1"
	@echo ""
	@# the task worker (huey consumer) runs beside the web server and stops with it
	@$(VENV)/bin/huey_consumer app.worker.huey --workers 2 --logfile instance/worker.log & \
	WORKER=$$!; trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - wsgi:app

test: install
	$(VENV)/bin/python -m pytest -q

# the guardrails CI runs before the suites: lint, types, the direction of the imports
check: install
	$(VENV)/bin/ruff check app pos_api bench config.py wsgi.py
	$(VENV)/bin/python .ci/mypy_baseline.py
	$(VENV)/bin/lint-imports

# after changing requirements*.txt: resolve them afresh in a throw-away venv and pin the result
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install -q -r requirements.txt -r requirements-dev.txt
	( head -n 2 constraints.txt; .venv-constraints/bin/pip freeze --exclude-editable ) > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) instance .pytest_cache
