"""The deployment files (Dockerfile, docker-compose.yml, deploy/kubernetes/) agree with the app.

Docker does not run on the development machines, so these files are checked here by reading
them: every variable they set is one the app reads (riposte/settings.py,
riposte/store/config.py, endpoints.yml, .env.example), no secret is written in them, the ports
are the app's defaults, the services run `riposte` sub-commands that exist with the options
given (`riposte rasa`, `riposte actions`, `riposte web`: what `riposte serve` starts), Rasa runs
several replicas behind sticky routing, every service has a health check or probes, every image
is pinned (by digest, or by tag with a written reason), the database role is not a superuser,
Redis asks for a password, the pods are locked down (read-only image, seccomp, no capability,
default-deny network policies) and the purge runs every day. The YAML checks always run;
`docker compose config` and `kubectl kustomize` run in their own tests, only where the tool is
installed.
"""

from __future__ import annotations

import base64
import re
import shlex
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from riposte.access import HOST_ENV as ACTIONS_HOST
from riposte.access import SECRET_ENV as ACTION_SECRET
from riposte.access import authorised, secret_from_env
from riposte.cli import build_parser
from riposte.services import SIGNAL_TOKEN_ENV, child_environment
from riposte.settings import Settings
from riposte.store.config import StoreConfig
from riposte.web import uploads as evidence_upload

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
KUBE_DIR = ROOT / "deploy" / "kubernetes"
SECRET_TEMPLATE = KUBE_DIR / "secret.example.yaml"

RIPOSTE_SERVICES = ("rasa", "actions", "web")
SIGNAL_SERVICES = ("signal-cli-rest-api", "signal-bridge")
DEPLOYMENTS = {"rasa": "riposte-rasa", "actions": "riposte-actions", "web": "riposte-web"}

# Values that must never be written in a deployment file: they come from .env or a Secret.
SECRET_VARIABLES = {
    "RIPOSTE_SECRET_KEY",
    "RIPOSTE_SERVICE_KEYS",
    "RIPOSTE_API_TOKEN",
    "TELEGRAM_TOKEN",
    "TELEGRAM_SECRET_TOKEN",
    SIGNAL_TOKEN_ENV,
    "POSTGRES_PASSWORD",
    "POSTGRES_ADMIN_PASSWORD",
    "REDIS_PASSWORD",
    ACTION_SECRET,
}
# Kubernetes: the pods that get their service key file (`riposte keys derive --service …`)
# from this key of the Secret, as RIPOSTE_SERVICE_KEYS, instead of the master key.
SERVICE_KEY_SECRETS = {"riposte-web": "RIPOSTE_WEB_KEYS", "riposte-rasa": "RIPOSTE_RASA_KEYS"}
MASTER_KEY_VARIABLES = ("RIPOSTE_SECRET_KEY", "RIPOSTE_PREVIOUS_KEYS")
# Secrets the postgres service receives under the names its image reads, from .env's names.
RENAMED_SECRETS = {
    ("postgres", "POSTGRES_PASSWORD"): "POSTGRES_ADMIN_PASSWORD",
    ("postgres", "RIPOSTE_DB_PASSWORD"): "POSTGRES_PASSWORD",
}
# URLs that may carry a password (PostgreSQL, managed Redis): a Secret on Kubernetes.
URL_VARIABLES = {"TRACKER_STORE_URL", "RIPOSTE_DATABASE_URL", "REDIS_URL"}
# Variables of the deployment itself, not of the app (documented in docs/exploitation.md).
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "POSTGRES_ADMIN_PASSWORD", "REDIS_PASSWORD"}
# The role Riposte connects as on Compose's PostgreSQL (deploy/postgres/init-riposte-role.sh).
POSTGRES_ROLE_SCRIPT = ROOT / "deploy" / "postgres" / "init-riposte-role.sh"
INIT_DIR = "/docker-entrypoint-initdb.d/"
# A value that looks like a real key or token (32 bytes in base64, long random strings).
KEY_LIKE = re.compile(r"[A-Za-z0-9_-]{43}=|[A-Za-z0-9_-]{32,}")


# ------------------------------------------------------------------------------- helpers


def _env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))


def _placeholders(*names: str) -> set[str]:
    """The ${VAR} that Rasa expands in endpoints.yml and credentials.yml (not in comments)."""
    found: set[str] = set()
    for name in names:
        for line in (ROOT / name).read_text("utf-8").splitlines():
            if not line.lstrip().startswith("#"):
                found |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", line))
    return found


DEFAULTS = Settings.from_env({})
ENV_EXAMPLE = _env_example()
ENDPOINT_VARIABLES = _placeholders("endpoints.yml")
# What `riposte serve` gives its children besides .env.example's variables (SANIC_HOST…) and
# the Signal bridge's token, which it generates (on a deployment: from .env or the Secret).
LAUNCHER_VARIABLES = set(child_environment(DEFAULTS, base={})) | {SIGNAL_TOKEN_ENV}
APP_VARIABLES = ENV_EXAMPLE | _placeholders("endpoints.yml", "credentials.yml") | LAUNCHER_VARIABLES


def _read_by_code() -> set[str]:
    """The variable names quoted in the modules that read the environment."""
    names: set[str] = set()
    modules = (
        "riposte/settings.py",
        "riposte/store/config.py",
        "riposte/signal_config.py",
        "riposte/access.py",
    )
    for module in modules:
        text = (ROOT / module).read_text("utf-8")
        names |= set(re.findall(r'"((?:RIPOSTE|TRACKER|ACTION|TELEGRAM|SIGNAL)_[A-Z0-9_]+)"', text))
    return names


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _manifest_files() -> list[Path]:
    return sorted(KUBE_DIR.glob("*.yaml"))


def _manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in _manifest_files():
        if path.name == "kustomization.yaml":
            continue
        documents += [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]
    return documents


def _kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _manifests() if d["kind"] == kind}


def _container(deployment: str) -> dict[str, Any]:
    containers = _kind("Deployment")[deployment]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment
    return containers[0]


def _config_map() -> dict[str, str]:
    return _kind("ConfigMap")["riposte-config"]["data"]


def _secret_template() -> dict[str, str]:
    return yaml.safe_load(SECRET_TEMPLATE.read_text("utf-8"))["stringData"]


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, from `env` (or the default)."""

    def replace(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2) or "", match.group(3) or ""
        if "?" in operator:
            assert name in env, f"{name} is required by docker-compose.yml"
            return env[name]
        return env.get(name) or default

    return _INTERPOLATION.sub(replace, value)


SAMPLE_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
SAMPLE_ACTION_SECRET = "sample-action-secret"
SAMPLE_DOTENV = {
    "POSTGRES_PASSWORD": "sample",
    "POSTGRES_ADMIN_PASSWORD": "admin-sample",
    "REDIS_PASSWORD": "redis-sample",
    "RIPOSTE_SECRET_KEY": SAMPLE_KEY,
    ACTION_SECRET: SAMPLE_ACTION_SECRET,
}


def _compose_environment(service: str) -> dict[str, str]:
    environment = _services()[service].get("environment") or {}
    assert isinstance(environment, dict), f"{service}: environment must be a mapping"
    return {k: _interpolate(str(v), SAMPLE_DOTENV) for k, v in environment.items()}


def _kube_environment(deployment: str) -> dict[str, str]:
    """The environment of a pod, with sample values in place of the Secret's."""
    container = _container(deployment)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(_kind("ConfigMap")[source["configMapRef"]["name"]]["data"])
    samples = {
        "RIPOSTE_SECRET_KEY": SAMPLE_KEY,
        "TRACKER_STORE_URL": "postgresql://riposte:sample@db:5432/riposte",
        "RIPOSTE_DATABASE_URL": "postgresql://riposte:sample@db:5432/riposte",
        "REDIS_URL": "redis://redis:6379/0",
        ACTION_SECRET: SAMPLE_ACTION_SECRET,
    }
    for item in container.get("env", []):
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        env[item["name"]] = samples.get(ref["key"], "") if ref else str(item["value"])
    return env


def _containers(tree: Any) -> list[dict[str, Any]]:
    """Every container of a manifest (Deployments, CronJobs…), at any depth."""
    found: list[dict[str, Any]] = []
    if isinstance(tree, dict):
        found += [c for c in tree.get("containers", []) if isinstance(c, dict)]
        for key, value in tree.items():
            if key != "containers":
                found += _containers(value)
    elif isinstance(tree, list):
        for value in tree:
            found += _containers(value)
    return found


def _commands() -> list[list[str]]:
    """The command of every Compose service and every Kubernetes container that has one."""
    commands = [s["command"] for s in _services().values() if "command" in s]
    for manifest in _manifests():
        commands += [c["command"] for c in _containers(manifest) if "command" in c]
    return commands


_SHELL_RIPOSTE = re.compile(r"(?:^|[;&|(]|\bdo|\bthen)\s*(riposte\s[^;&|)]*)")


def _riposte_invocations(command: list[str]) -> list[list[str]]:
    """The `riposte …` command lines a command runs: itself, or those in its `sh -c` script."""
    if command[0] == "riposte":
        return [command]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(m.group(1)) for m in _SHELL_RIPOSTE.finditer(command[2])]
    return []


def _port(value: Any) -> int:
    return int(str(value).rsplit(":", 1)[-1])


def _quantity_mib(value: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    match = re.fullmatch(r"([0-9.]+)(Mi|Gi|M|G)", str(value))
    assert match, f"unexpected memory quantity {value!r}"
    return float(match.group(1)) * units[match.group(2)]


# ------------------------------------------------------------------------------- compose


def test_compose_has_every_service_and_signal_is_a_profile() -> None:
    services = _services()
    assert set(RIPOSTE_SERVICES + ("postgres", "redis") + SIGNAL_SERVICES) <= set(services)
    for name, service in services.items():
        expected = ["signal"] if name in SIGNAL_SERVICES else None
        assert service.get("profiles") == expected, name
    assert _services()["signal-cli-rest-api"]["environment"]["MODE"] == "json-rpc"
    assert _services()["signal-bridge"]["command"] == ["riposte", "signal-bridge"]
    assert "deploy" not in services["signal-bridge"], "exactly one Signal bridge"


def test_compose_sets_only_variables_the_app_reads() -> None:
    for name in RIPOSTE_SERVICES + ("signal-bridge", "purge"):
        unknown = set(_compose_environment(name)) - APP_VARIABLES
        assert not unknown, f"{name} sets variables the app does not read: {sorted(unknown)}"
    referenced = {m.group(1) for m in _INTERPOLATION.finditer(COMPOSE_FILE.read_text("utf-8"))}
    unknown = referenced - ENV_EXAMPLE - COMPOSE_ONLY_VARIABLES - {SIGNAL_TOKEN_ENV}
    assert not unknown, f"docker-compose.yml reads variables .env.example lacks: {unknown}"


def test_compose_services_share_the_store_the_key_and_postgres() -> None:
    postgres = _compose_environment("postgres")
    for name in RIPOSTE_SERVICES:
        env = _compose_environment(name)
        for variable in ("RIPOSTE_SECRET_KEY", "RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR"):
            assert variable in env, f"{name} lacks {variable}"
        for variable in ("RIPOSTE_DATABASE_URL", "TRACKER_STORE_URL"):
            url = urllib.parse.urlsplit(env[variable])
            assert url.scheme.startswith("postgresql") and url.hostname == "postgres", variable
            assert url.path == "/" + postgres["POSTGRES_DB"]
            # The application role, not the image's superuser.
            assert url.username == postgres["RIPOSTE_DB_USER"] != postgres["POSTGRES_USER"]
            assert url.password == postgres["RIPOSTE_DB_PASSWORD"]
        mounts = {str(v).split(":")[1] for v in _services()[name].get("volumes", [])}
        assert env["RIPOSTE_DATA_DIR"] in mounts, f"{name}: RIPOSTE_DATA_DIR must be the volume"
        # The values are valid for the app itself.
        settings = Settings.from_env(env)
        StoreConfig.from_env(env)
        assert settings.action_endpoint_url == "http://actions:5055/webhook"
    rasa = _compose_environment("rasa")
    assert ENDPOINT_VARIABLES <= set(rasa), "rasa must set every ${VAR} of endpoints.yml"
    redis = urllib.parse.urlsplit(rasa["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port, redis.path) == ("redis", "redis", 6379, "/0")
    assert redis.password == _compose_environment("redis")["REDIS_PASSWORD"]


def test_compose_writes_no_secret() -> None:
    text = COMPOSE_FILE.read_text("utf-8")
    assert not KEY_LIKE.search(text), "a key-like literal in docker-compose.yml"
    for name, service in _services().items():
        for variable, value in (service.get("environment") or {}).items():
            value = str(value)
            source = RENAMED_SECRETS.get((name, variable), variable)
            if source in SECRET_VARIABLES:
                assert re.fullmatch(
                    rf"\$\{{{source}(:-|:\?[^}}]*)?\}}", value
                ), f"{name}.{variable} must come from .env (${{{source}…}}), got {value!r}"
            if variable in URL_VARIABLES:
                password = urllib.parse.urlsplit(_INTERPOLATION.sub("FROM-ENV", value)).password
                assert password in (None, "FROM-ENV"), f"{name}.{variable}: a literal password"
    assert _compose_environment("rasa")["RIPOSTE_API_TOKEN"] == "", "API off unless .env sets it"
    for name in ("actions", "web", "signal-bridge"):  # the token reaches Rasa only
        assert "RIPOSTE_API_TOKEN" not in _compose_environment(name)


def test_compose_ports_are_the_app_defaults_published_on_loopback() -> None:
    defaults = {
        "RIPOSTE_RASA_PORT": DEFAULTS.rasa_port,
        "RIPOSTE_ACTIONS_PORT": DEFAULTS.actions_port,
        "RIPOSTE_WEB_PORT": DEFAULTS.web_port,
    }
    for name in RIPOSTE_SERVICES:
        env = _compose_environment(name)
        assert {k: int(env[k]) for k in defaults} == defaults, name
        assert env["RIPOSTE_HOST"] == "0.0.0.0", f"{name} must listen inside the network"
    published = {n: s["ports"] for n, s in _services().items() if s.get("ports")}
    assert published == {
        "rasa": [f"127.0.0.1:{DEFAULTS.rasa_port}:{DEFAULTS.rasa_port}"],
        "web": [f"127.0.0.1:{DEFAULTS.web_port}:{DEFAULTS.web_port}"],
    }
    action_url = urllib.parse.urlsplit(_compose_environment("rasa")["ACTION_ENDPOINT_URL"])
    assert action_url.port == DEFAULTS.actions_port


def test_compose_services_run_what_riposte_serve_starts() -> None:
    services = _services()
    commands = {name: services[name]["command"] for name in RIPOSTE_SERVICES}
    assert commands == {name: ["riposte", name] for name in RIPOSTE_SERVICES}
    assert _compose_environment("actions")[ACTIONS_HOST] == "0.0.0.0"
    for name in RIPOSTE_SERVICES:  # the commands accept the services' settings
        Settings.from_env(_compose_environment(name))
    for name in ("rasa", "actions"):
        secret_from_env(_compose_environment(name))
    # The Signal bridge reaches Rasa by its service name.
    assert _compose_environment("signal-bridge")["RIPOSTE_HOST"] == "rasa"


def test_compose_gives_the_action_secret_to_rasa_and_the_action_server_only() -> None:
    for name in ("rasa", "actions"):
        value = _services()[name]["environment"][ACTION_SECRET]
        assert value.startswith(f"${{{ACTION_SECRET}:?"), f"{name}: required from .env"
        assert _compose_environment(name)[ACTION_SECRET] == SAMPLE_ACTION_SECRET
    for name in ("web", "signal-bridge"):
        assert ACTION_SECRET not in _compose_environment(name), name
    # Rasa's environment (the rasa command's child_environment) keeps it for endpoints.yml.
    rasa_env = child_environment(DEFAULTS, base=_compose_environment("rasa"))
    assert rasa_env[ACTION_SECRET] == SAMPLE_ACTION_SECRET


def test_compose_health_checks_restart_policies_and_order() -> None:
    services = _services()
    for name, service in services.items():
        assert service.get("restart") in ("unless-stopped", "always"), name
    for name in RIPOSTE_SERVICES + ("postgres", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    probes = {n: " ".join(services[n]["healthcheck"]["test"]) for n in RIPOSTE_SERVICES}
    assert f"127.0.0.1:{DEFAULTS.rasa_port}/'" in probes["rasa"]
    assert f"127.0.0.1:{DEFAULTS.actions_port}/health'" in probes["actions"]
    assert f"127.0.0.1:{DEFAULTS.web_port}/" in probes["web"]
    for name in RIPOSTE_SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["rasa"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["postgres"]["volumes"][0] == "postgres-data:/var/lib/postgresql/data"
    assert "--appendonly no" in " ".join(services["redis"]["command"]), "Redis holds locks only"


# ------------------------------------------------------------------------------- Kubernetes


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = yaml.safe_load((KUBE_DIR / "kustomization.yaml").read_text("utf-8"))
    assert kustomization["namespace"] == "riposte"
    expected = {p.name for p in _manifest_files()} - {"kustomization.yaml", SECRET_TEMPLATE.name}
    assert set(kustomization["resources"]) == expected
    assert _kind("Namespace").keys() == {"riposte"}
    for image in kustomization["images"]:
        assert image["newTag"] and image["newTag"] != "latest"


def test_kubernetes_only_rasa_reaches_the_action_server() -> None:
    policies = [
        p
        for p in _kind("NetworkPolicy").values()
        if p["spec"]["podSelector"].get("matchLabels")
        == {"app.kubernetes.io/name": "riposte-actions"}
    ]
    assert len(policies) == 1
    spec = policies[0]["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    rasa_pods = {"matchLabels": {"app.kubernetes.io/name": "riposte-rasa"}}
    assert rule["from"] == [{"podSelector": rasa_pods}]
    port = _container("riposte-actions")["ports"][0]["containerPort"]
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]


def test_kubernetes_rasa_has_replicas_and_sticky_routing() -> None:
    deployments = _kind("Deployment")
    assert deployments["riposte-rasa"]["spec"]["replicas"] >= 2
    assert deployments["riposte-actions"]["spec"]["replicas"] >= 2
    service = _kind("Service")["riposte-rasa"]
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    ingresses = _kind("Ingress")
    socket_routes = [
        (ingress, path)
        for ingress in ingresses.values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
        if path["path"].startswith("/socket.io")
    ]
    assert socket_routes, "no Ingress route for /socket.io/"
    for ingress, path in socket_routes:
        assert path["backend"]["service"]["name"] == "riposte-rasa"
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
        assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"]
    # The page connects to the Ingress host, which is also its only allowed origin.
    config = _config_map()
    hosts = {r["host"] for i in ingresses.values() for r in i["spec"]["rules"]}
    assert config["RIPOSTE_SOCKET_URL"] == config["RIPOSTE_CORS_ORIGINS"]
    for variable in ("RIPOSTE_SOCKET_URL", "RIPOSTE_PUBLIC_URL"):
        url = urllib.parse.urlsplit(config[variable])
        assert url.scheme == "https" and url.hostname in hosts, variable
    # Uploads of 10 MB go through the page's Ingress.
    size = ingresses["riposte-web"]["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/proxy-body-size"
    ]
    assert re.fullmatch(r"[0-9]+m", size) and int(size[:-1]) * 2**20 > evidence_upload.MAX_BYTES


def test_kubernetes_probes_ports_and_resources() -> None:
    paths = {"rasa": "/", "actions": "/health", "web": "/config.json"}
    ports = {"rasa": DEFAULTS.rasa_port, "actions": DEFAULTS.actions_port, "web": DEFAULTS.web_port}
    for short, deployment in DEPLOYMENTS.items():
        container = _container(deployment)
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] == paths[short], (deployment, probe)
            assert named.get(get["port"], get["port"]) == ports[short], (deployment, probe)
        assert _quantity_mib(container["resources"]["requests"]["memory"]) > 0, deployment
        service = _kind("Service")[deployment]
        assert [p["port"] for p in service["spec"]["ports"]] == [ports[short]]
        labels = _kind("Deployment")[deployment]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items(), deployment
    rasa = _container("riposte-rasa")
    assert _quantity_mib(rasa["resources"]["requests"]["memory"]) >= 2.5 * 1024
    assert "startupProbe" in rasa, "Rasa takes about a minute to load"
    config = _config_map()
    assert int(config["RIPOSTE_RASA_PORT"]) == DEFAULTS.rasa_port
    assert int(config["RIPOSTE_ACTIONS_PORT"]) == DEFAULTS.actions_port
    assert int(config["RIPOSTE_WEB_PORT"]) == DEFAULTS.web_port
    action_url = urllib.parse.urlsplit(config["ACTION_ENDPOINT_URL"])
    assert action_url.hostname in _kind("Service") and action_url.port == DEFAULTS.actions_port


def test_kubernetes_pods_use_only_variables_the_app_reads_and_valid_values() -> None:
    assert set(_config_map()) <= APP_VARIABLES, sorted(set(_config_map()) - APP_VARIABLES)
    for deployment in DEPLOYMENTS.values():
        env = _kube_environment(deployment)
        assert set(env) <= APP_VARIABLES, sorted(set(env) - APP_VARIABLES)
        key = "RIPOSTE_SERVICE_KEYS" if deployment in SERVICE_KEY_SECRETS else "RIPOSTE_SECRET_KEY"
        for variable in (key, "RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR"):
            assert variable in env, f"{deployment} lacks {variable}"
        Settings.from_env(env)
        StoreConfig.from_env(env)
        spec = _kind("Deployment")[deployment]["spec"]["template"]["spec"]
        # Service links would inject RIPOSTE_RASA_PORT=tcp://… (the Service riposte-rasa).
        assert spec["enableServiceLinks"] is False, deployment
        assert spec["securityContext"]["runAsNonRoot"] is True, deployment
        mounts = {m["mountPath"]: m["name"] for m in _container(deployment)["volumeMounts"]}
        volume = next(v for v in spec["volumes"] if v["name"] == mounts[env["RIPOSTE_DATA_DIR"]])
        claim = _kind("PersistentVolumeClaim")[volume["persistentVolumeClaim"]["claimName"]]
        assert "ReadWriteMany" in claim["spec"]["accessModes"], "every replica shares the files"
    assert ENDPOINT_VARIABLES <= set(_kube_environment("riposte-rasa"))


def test_kubernetes_gives_the_action_secret_to_rasa_and_the_action_server_only() -> None:
    for deployment in ("riposte-rasa", "riposte-actions"):
        (item,) = [i for i in _container(deployment)["env"] if i["name"] == ACTION_SECRET]
        ref = item["valueFrom"]["secretKeyRef"]
        assert ref["key"] == ACTION_SECRET and not ref.get("optional"), deployment
    assert ACTION_SECRET not in _kube_environment("riposte-web")
    assert ACTION_SECRET in _secret_template()
    assert _kube_environment("riposte-actions")[ACTIONS_HOST] == "0.0.0.0"  # the pod IP
    assert ACTIONS_HOST not in _config_map()  # the other pods have no action server


def test_rasa_sends_the_secret_the_action_server_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://actions:5055/webhook")
    monkeypatch.setenv("TRACKER_STORE_URL", "sqlite://")
    monkeypatch.setenv(ACTION_SECRET, SAMPLE_ACTION_SECRET)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    assert config is not None and config.url == "http://actions:5055/webhook"
    assert authorised(config.headers["Authorization"], SAMPLE_ACTION_SECRET)
    assert ACTION_SECRET in ENDPOINT_VARIABLES  # Rasa refuses to start without it


def test_kubernetes_secrets_come_from_the_secret_and_the_template_is_empty() -> None:
    template = _secret_template()
    assert template and all(value == "" for value in template.values()), "template values"
    assert set(template) <= APP_VARIABLES | set(SERVICE_KEY_SECRETS.values())
    assert not set(_config_map()) & (SECRET_VARIABLES | URL_VARIABLES)
    for deployment in DEPLOYMENTS.values():
        for item in _container(deployment).get("env", []):
            if item["name"] in SECRET_VARIABLES | URL_VARIABLES:
                ref = item["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "riposte-secrets" and ref["key"] in template, item
    for path in _manifest_files():
        assert not KEY_LIKE.search(path.read_text("utf-8")), f"a key-like literal in {path.name}"


def test_kubernetes_web_and_rasa_pods_get_their_service_keys_not_the_master_key() -> None:
    """The page server and Rasa hold only the keys derived for their service; the action
    server and the purge keep the master key (they make links, rekey, read everything)."""
    template = _secret_template()
    for deployment, secret_key in SERVICE_KEY_SECRETS.items():
        env = _container(deployment)["env"]
        names = [item["name"] for item in env]
        for variable in MASTER_KEY_VARIABLES:
            assert variable not in names, f"{deployment} gets the master key ({variable})"
        (item,) = [i for i in env if i["name"] == "RIPOSTE_SERVICE_KEYS"]
        ref = item["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "riposte-secrets", "key": secret_key}, deployment
        assert secret_key in template
    for deployment in ("riposte-actions",):
        assert "RIPOSTE_SERVICE_KEYS" not in _kube_environment(deployment)
        assert "RIPOSTE_SECRET_KEY" in _kube_environment(deployment)


def test_every_variable_set_is_read_by_the_code() -> None:
    """A variable renamed in riposte/settings.py or riposte/store/config.py breaks this test."""
    read = _read_by_code() | ENDPOINT_VARIABLES | LAUNCHER_VARIABLES
    assert {"RIPOSTE_SECRET_KEY", "RIPOSTE_DATA_DIR", "RIPOSTE_RASA_PORT"} <= read  # parser works
    for name in RIPOSTE_SERVICES + ("signal-bridge",):
        unread = set(_compose_environment(name)) - read
        assert not unread, f"{name} sets variables no code reads: {sorted(unread)}"
    for deployment in DEPLOYMENTS.values():
        unread = set(_kube_environment(deployment)) - read
        assert not unread, f"{deployment} sets variables no code reads: {sorted(unread)}"


def test_kubernetes_commands_are_those_of_compose() -> None:
    services = _services()
    for short, deployment in DEPLOYMENTS.items():
        assert _container(deployment)["command"] == services[short]["command"], short


# ------------------------------------------------------------------------------- both


def test_every_riposte_command_the_files_run_exists_with_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each `riposte …` of the files parses with `riposte`'s own parser (a renamed command or
    option breaks this test); Riposte's images run nothing else (no inline Python)."""
    parser = build_parser()
    invocations: list[list[str]] = []
    for command in _commands():
        runs = _riposte_invocations(command)
        if not runs:
            assert "riposte" not in " ".join(command), f"riposte run another way: {command}"
        invocations += runs
    for argv in invocations:
        try:
            args = parser.parse_args(argv[1:])
        except SystemExit:
            pytest.fail(f"{' '.join(argv)}: {capsys.readouterr().err.strip()}")
        assert callable(getattr(args, "func", None)), argv
    run = {argv[1] for argv in invocations}
    assert run == {"rasa", "actions", "web", "purge", "signal-bridge"}, run


# Images referenced by a tag rather than a digest, each with the reason. Every other image must
# be pinned as name@sha256:<64 hex>. Remove an entry once its digest is written in the file.
TAG_ONLY_IMAGES = {
    "postgres:15": "digest not resolvable from the development machines (no registry access); "
    "the operator pins it before production (docker-compose.yml's header)",
    "redis:7": "digest not resolvable from the development machines (no registry access); "
    "the operator pins it before production (docker-compose.yml's header)",
    "bbernhard/signal-cli-rest-api:0.94": "digest not resolvable from the development "
    "machines (no registry access); the operator pins it before production",
    "python:3.10-slim-bookworm": "Dockerfile base; digest not resolvable from the development "
    "machines (no registry access); the operator pins it before production",
    "riposte:0.1.0": "built from this repository by `docker build` (no digest before the "
    "build); on Kubernetes, kustomization.yaml's images entry takes the pushed digest",
}
DIGEST = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")


def _images() -> list[str]:
    images = [s["image"] for s in _services().values() if "image" in s]
    for deployment in _kind("Deployment").values():
        images += [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    for job in _kind("CronJob").values():
        template = job["spec"]["jobTemplate"]["spec"]["template"]
        images += [c["image"] for c in template["spec"]["containers"]]
    return images


def test_images_are_pinned_by_digest_or_by_tag_with_a_reason() -> None:
    images = _images()
    dockerfile = DOCKERFILE.read_text("utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, re.M | re.I))
    for image in images + [b for b in bases if b not in stages]:
        if DIGEST.fullmatch(image):
            continue
        assert image in TAG_ONLY_IMAGES, f"{image}: pin it by digest (name@sha256:…)"
        assert len(TAG_ONLY_IMAGES[image]) > 40, f"{image}: say why it is not pinned"
        name, _, tag = image.rpartition(":")
        assert name and re.match(r"[0-9]", tag) and tag != "latest", image
    riposte = {i for i in images if i.split(":")[0].split("@")[0] == "riposte"}
    assert len(riposte) == 1, f"one Riposte image everywhere: {riposte}"
    assert {s["image"] for n, s in _services().items() if n in RIPOSTE_SERVICES} == riposte
    assert bases[0].startswith("python:3.10") and "slim" in bases[0]


def test_dockerfile_installs_from_the_lock_runs_unprivileged_and_keeps_secrets_out() -> None:
    dockerfile = DOCKERFILE.read_text("utf-8")
    assert "scripts/system-deps.sh" in dockerfile, "WeasyPrint's system packages"
    assert re.search(r"^RUN pip install -r \S*requirements\.lock", dockerfile, re.M)
    assert "pip install --no-deps --no-build-isolation -e ." in dockerfile
    assert "rasa train" in dockerfile and "--fixed-model-name riposte" in dockerfile
    model = re.search(r"^COPY --from=train \S+ (\S+)$", dockerfile, re.M)
    assert model, "the trained model is copied into the image"
    assert _compose_environment("rasa")["RIPOSTE_MODEL"] == model.group(1)
    assert _config_map()["RIPOSTE_MODEL"] == model.group(1)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and not users[-1].startswith(("root", "0")), "the image must not run as root"
    for line in re.findall(r"^(?:ENV|ARG)\s+.*(?:\n\s+.*)*", dockerfile, re.M):
        assert not any(name in line for name in SECRET_VARIABLES), line
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    for path in (".env", "var", "models", ".venv", ".git"):
        assert path in ignored, f".dockerignore must exclude {path}"


# ------------------------------------------------------------------------------- hardening


def test_riposte_services_start_through_the_riposte_command() -> None:
    """What the services create (credentials.yml…) is owner-only: `riposte` sets the umask 077
    before any sub-command, and Rasa and the action server inherit it through exec
    (tests/core/test_service_commands.py)."""
    services = _services()
    for name in RIPOSTE_SERVICES:
        assert services[name]["command"][0] == "riposte", name
    for deployment in DEPLOYMENTS.values():
        assert _container(deployment)["command"][0] == "riposte", deployment


def test_compose_riposte_services_drop_every_privilege() -> None:
    for name, service in _services().items():
        if service.get("image") == _services()["rasa"]["image"]:
            assert service["cap_drop"] == ["ALL"], name
            assert service["security_opt"] == ["no-new-privileges:true"], name


def test_compose_database_role_is_not_the_superuser() -> None:
    postgres = _services()["postgres"]
    env = _compose_environment("postgres")
    assert env["POSTGRES_USER"] == "postgres" and env["RIPOSTE_DB_USER"] == "riposte"
    assert env["POSTGRES_PASSWORD"] != env["RIPOSTE_DB_PASSWORD"], "two distinct passwords"
    mounts = {m.split(":")[1]: m.split(":")[0] for m in postgres["volumes"][1:]}
    assert mounts, "the role script is mounted in the image's init folder"
    (target, source), *_ = mounts.items()
    assert target.startswith(INIT_DIR) and target.endswith(".sh")
    assert (ROOT / source).resolve() == POSTGRES_ROLE_SCRIPT
    assert POSTGRES_ROLE_SCRIPT.stat().st_mode & 0o111, "the image runs executable scripts"
    script = POSTGRES_ROLE_SCRIPT.read_text("utf-8")
    create = re.search(r"CREATE ROLE (.*?);", script, re.S)
    assert create, "the script creates the role"
    for attribute in ("LOGIN", "NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION"):
        assert attribute in create.group(1).split(), attribute
    assert 'ALTER DATABASE :"database" OWNER TO :"role"' in script
    assert "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC" in script


def test_compose_redis_requires_a_password() -> None:
    redis = _services()["redis"]
    command = " ".join(redis["command"])
    assert '--requirepass "$$REDIS_PASSWORD"' in command, "the password from the environment"
    assert "REDIS_PASSWORD" not in command.replace("$$REDIS_PASSWORD", ""), command
    assert _compose_environment("redis")["REDIS_PASSWORD"] == SAMPLE_DOTENV["REDIS_PASSWORD"]
    health = " ".join(redis["healthcheck"]["test"])
    assert "REDISCLI_AUTH=" in health and "grep -q PONG" in health, "NOAUTH is not healthy"


def test_compose_purges_every_day() -> None:
    purge = _services()["purge"]
    command = purge["command"]
    assert command[:2] == ["sh", "-c"]
    loop = command[2]
    assert loop.startswith("while true; do riposte purge ") and "sleep 86400" in loop
    assert "||" in loop, "a failed run does not stop the schedule"
    assert purge["image"] == _services()["rasa"]["image"]
    env = _compose_environment("purge")
    for variable in ("RIPOSTE_SECRET_KEY", "RIPOSTE_DATABASE_URL", "TRACKER_STORE_URL"):
        assert env[variable] == _compose_environment("rasa")[variable], variable
    mounts = {str(v).split(":")[1] for v in purge["volumes"]}
    assert env["RIPOSTE_DATA_DIR"] in mounts, "the files of the erased cases are deleted too"
    assert purge["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ports" not in purge


def _pod_specs() -> dict[str, dict[str, Any]]:
    specs = {n: d["spec"]["template"]["spec"] for n, d in _kind("Deployment").items()}
    for name, job in _kind("CronJob").items():
        specs[name] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


def test_kubernetes_pods_are_locked_down() -> None:
    specs = _pod_specs()
    assert set(DEPLOYMENTS.values()) | {"riposte-purge"} <= set(specs)
    for name, spec in specs.items():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            for writable in ("/tmp", "/home/riposte"):  # tempfile, caches in $HOME
                assert "emptyDir" in volumes[mounts[writable]], (name, writable)
    # Rasa writes var/credentials.yml (Telegram) under RIPOSTE_VAR_DIR.
    rasa = {m["mountPath"]: m["name"] for m in _container("riposte-rasa")["volumeMounts"]}
    var_dir = _config_map()["RIPOSTE_VAR_DIR"]
    rasa_volumes = {v["name"]: v for v in specs["riposte-rasa"]["volumes"]}
    assert "emptyDir" in rasa_volumes[rasa[var_dir]]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    assert set(selector) <= {"matchLabels", "matchExpressions"}, selector
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def test_kubernetes_network_policies_deny_by_default() -> None:
    policies = _kind("NetworkPolicy")
    deny = [
        p
        for p in policies.values()
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert len(deny) == 1, "one default-deny policy for the whole namespace"
    ingress_controller = {"kubernetes.io/metadata.name": "ingress-nginx"}
    ports = {"riposte-rasa": DEFAULTS.rasa_port, "riposte-web": DEFAULTS.web_port}
    for pod in _pod_specs():
        labels = {"app.kubernetes.io/name": pod}
        inbound = [
            rule
            for p in policies.values()
            if _selects(p, labels) and p is not deny[0]
            for rule in p["spec"].get("ingress", [])
        ]
        if pod in ports:  # only the Ingress controller, only the app's port
            assert inbound == [
                {
                    "from": [{"namespaceSelector": {"matchLabels": ingress_controller}}],
                    "ports": [{"protocol": "TCP", "port": ports[pod]}],
                }
            ], pod
        elif pod != "riposte-actions":  # actions: test_kubernetes_only_rasa_reaches_…
            assert inbound == [], f"{pod} receives no connection"
        outbound = [
            rule
            for p in policies.values()
            if _selects(p, labels)
            for rule in p["spec"].get("egress", [])
        ]
        allowed = {port["port"] for rule in outbound for port in rule["ports"]}
        assert {53, 5432} <= allowed, pod  # DNS and the database
        expected = {53, 5432, 6379} | (
            {443, DEFAULTS.actions_port} if pod == "riposte-rasa" else set()
        )
        assert allowed == expected, pod
        for rule in outbound:
            for peer in rule["to"]:
                if "ipBlock" in peer:  # outside the cluster: never a cluster port
                    assert {p["port"] for p in rule["ports"]} <= {443, 5432, 6379}, rule


def test_kubernetes_purges_every_day() -> None:
    job = _kind("CronJob")["riposte-purge"]
    spec = job["spec"]
    minute, hour, day, month, weekday = spec["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday) == ("*", "*", "*")
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["riposte", "purge"]
    assert container["image"] == _container("riposte-rasa")["image"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    env = {
        item["name"]: item["valueFrom"]["secretKeyRef"]["key"]
        for item in container["env"]
        if "valueFrom" in item
    }
    for variable in ("RIPOSTE_SECRET_KEY", "RIPOSTE_DATABASE_URL", "TRACKER_STORE_URL"):
        assert env.get(variable) == variable
    assert set(env) <= set(_secret_template())
    assert [s["configMapRef"]["name"] for s in container["envFrom"]] == ["riposte-config"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volume = next(
        v for v in pod["volumes"] if v["name"] == mounts[_config_map()["RIPOSTE_DATA_DIR"]]
    )
    assert volume["persistentVolumeClaim"]["claimName"] == "riposte-data"
    assert pod["enableServiceLinks"] is False


def test_rasa_root_which_tells_its_version_is_not_exposed_by_the_ingress() -> None:
    """Rasa's `GET /` answers "Hello from Rasa: 3.6.21": only the channels' paths go out."""
    for ingress in _kind("Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                if path["backend"]["service"]["name"] == "riposte-rasa":
                    assert path["path"] in ("/socket.io/", "/webhooks/telegram/"), path


# ------------------------------------------------------------------------------- the tools


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return result.returncode == 0


@pytest.mark.skipif(
    not _docker_compose_available(),
    reason="docker with the compose plugin is not installed: `docker compose config` not run "
    "(the YAML checks above ran)",
)
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in SAMPLE_DOTENV.items()))
    for profile in ([], ["--profile", "signal"]):
        result = subprocess.run(
            ["docker", "compose", "--env-file", str(env_file), *profile, "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    shutil.which("kubectl") is None,
    reason="kubectl is not installed: `kubectl kustomize` not run (the YAML checks above ran)",
)
def test_kubectl_kustomize_renders_the_manifests() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(KUBE_DIR)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    kinds = sorted(d["kind"] for d in rendered)
    assert kinds.count("Deployment") == 3 and "Secret" not in kinds
    for document in rendered:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "riposte", document["metadata"]["name"]
        if document["kind"] == "Deployment":
            for container in document["spec"]["template"]["spec"]["containers"]:
                assert "/" in container["image"], "the image is renamed to the registry's"
