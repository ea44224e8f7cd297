"""The deployment files agree with each other and with what reads them (no cluster, no network needed).

- deploy/k8s/: every manifest is valid against the Kubernetes API's schemas, with
  kubernetes-validate (requirements.txt), whose schemas ship inside the package: strict, so an
  unknown or misspelt field fails too;
- deploy/Dockerfile: every COPY source is in the repository (or is what `make train` makes, named
  in the Dockerfile's comments) and is let into the build context by deploy/Dockerfile.dockerignore,
  which lets in nothing else.
The rendered nginx configuration is checked with `nginx -t` in tests/e2e/test_deploy_files.py.
"""

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, List, Set, Tuple

import kubernetes_validate
import pytest
import yaml

from core.model_integrity import digest_file
from server.settings import DEFAULTS, ROOT

K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"  # BuildKit reads <Dockerfile>.dockerignore
# The Kubernetes version whose API schemas the manifests are checked against: the newest that the
# pinned kubernetes-validate ships (each of its releases ships the schemas up to its own version).
KUBERNETES_VERSION = "1.28"
NOT_KUBERNETES_OBJECTS = {"kustomization.yaml"}  # kustomize's own file, read by `kubectl apply -k`


def test_the_kubernetes_pod_gets_every_variable_endpoints_production_needs():
    def variables(path):  # ${NAME} outside comments
        return set(re.findall(r"\$\{(\w+)\}", "\n".join(line.split("#")[0] for line in path.read_text().splitlines())))

    needed = variables(ROOT / "endpoints.production.yml") | variables(ROOT / "credentials.yml")
    k8s = ROOT / "deploy" / "k8s"
    config = yaml.safe_load((k8s / "configmap.yaml").read_text())["data"]
    deployment = yaml.safe_load((k8s / "deployment.yaml").read_text())
    rasa = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "rasa")
    from_secret = {item["name"] for item in rasa["env"]}
    secret_keys = set(yaml.safe_load((k8s / "secret.example.yaml").read_text())["stringData"])
    assert needed <= set(config) | from_secret, needed - set(config) - from_secret
    assert from_secret <= secret_keys
    assert not {"TRACKER_STORE_PASSWORD", "REDIS_PASSWORD", "RASA_JWT_SECRET"} & set(
        config
    )  # secrets only in the Secret
    actions = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "actions")
    assert {"name": "SANIC_HOST", "value": "127.0.0.1"} in actions["env"] and "ports" not in actions
    for container in (rasa, actions):
        assert (
            container["securityContext"]["readOnlyRootFilesystem"]
            and not container["securityContext"]["allowPrivilegeEscalation"]
        )
    paths = [
        p["path"]
        for doc in yaml.safe_load_all((k8s / "ingress.yaml").read_text())
        if doc
        for rule in doc["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]
    assert sorted(paths) == sorted(
        [
            "/webhooks/rest/webhook",
            "/webhooks/facebook/webhook",
            "/webhooks/instagram/webhook",
            "/webhooks/twitter/webhook",
            "/socket.io/",
        ]
    )
    if shutil.which("kubectl"):
        built = subprocess.run(["kubectl", "kustomize", str(k8s)], capture_output=True, text=True, timeout=60)
        assert built.returncode == 0, built.stderr


# ---------------------------------------------------------------- Kubernetes manifests


def manifests() -> List[Any]:
    """Every Kubernetes object in deploy/k8s/, as a test parameter (file name, object) named after both."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name not in NOT_KUBERNETES_OBJECTS:
            for doc in yaml.safe_load_all(path.read_text()):
                if doc:
                    name = f"{path.name} {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
                    found.append(pytest.param(path.name, doc, id=name))
    return found


@pytest.fixture
def no_network(monkeypatch):
    """The schemas must come from the package: any connection attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the Kubernetes schemas must not be fetched over the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_kubernetes_validate_ships_the_schemas_of_the_version_checked():
    assert kubernetes_validate.latest_version().startswith(KUBERNETES_VERSION + ".")


@pytest.mark.parametrize("name, manifest", manifests())
def test_each_kubernetes_manifest_is_valid_against_the_api_schemas(name, manifest, no_network):
    kind = f"{manifest['kind']} {manifest['metadata']['name']}"
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top level)"
        pytest.fail(f"deploy/k8s/{name}: {kind}: {where}: {error.message}")
    except kubernetes_validate.SchemaNotFoundError as error:
        pytest.fail(f"deploy/k8s/{name}: {kind}: {error.message}")


def test_every_manifest_is_read_and_the_kustomization_names_each_one():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    files = {path.name for path in K8S.glob("*.yaml")} - NOT_KUBERNETES_OBJECTS
    assert listed <= files, f"kustomization.yaml names missing files: {sorted(listed - files)}"
    # The example Secret is the only one left out: the real Secret comes from the secret store.
    assert files - listed == {"secret.example.yaml"}, sorted(files - listed)
    assert {len(list(K8S.glob(pattern))) for pattern in ("*.yml", "*.json")} == {0}, "manifests are *.yaml"
    images = {image["name"] for image in kustomization["images"]}
    deployment = yaml.safe_load((K8S / "deployment.yaml").read_text())
    assert {c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]} == images


@pytest.mark.parametrize(
    "broken, complaint",
    [
        (lambda d: d["spec"].update(strategy={"type": "RollingUpdate", "rollingUpdate": []}), "[]"),
        (lambda d: d["spec"]["template"]["spec"]["containers"][0].update(ports=[{"containerPort": "5005"}]), "5005"),
        (lambda d: d["spec"]["template"]["spec"].update(securityContxt={}), "securityContxt"),
        (lambda d: d["spec"].pop("selector"), "selector"),
    ],
    ids=["a list for an object", "a number as a string", "a misspelt field", "a required field missing"],
)
def test_the_schema_check_catches_a_broken_manifest(broken, complaint, no_network):
    deployment = yaml.safe_load((K8S / "deployment.yaml").read_text())
    broken(deployment)
    with pytest.raises(kubernetes_validate.ValidationError) as error:
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    assert complaint in str(error.value.message)


# ---------------------------------------------------------------- Dockerfile and its .dockerignore


def dockerfile_instructions(text: str) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    instructions, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continued instruction, as Docker does
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def copy_sources(text: str) -> List[str]:
    """The build-context paths COPY and ADD instructions read (not those copied from another stage)."""
    sources = []
    for keyword, arguments in dockerfile_instructions(text):
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(arguments) if arguments.startswith("[") else arguments.split()
        flags = [word for word in words if word.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        paths = [word for word in words if not word.startswith("--")]
        assert len(paths) >= 2, f"COPY without a destination: {arguments}"
        sources += paths[:-1]
    return sources


def dockerfile_comments(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines() if line.strip().startswith("#"))


def tracked_files() -> Set[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return {name for name in listed.stdout.decode().split("\0") if name}


def pattern_regex(pattern: str) -> "re.Pattern[str]":
    """A .dockerignore pattern as Docker's pattern matcher reads it (Go's filepath.Match, plus `**`)."""
    pattern = pattern.strip("/")
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(f"^{regex}$")


def dockerignore_rules(text: str) -> List[Tuple[bool, "re.Pattern[str]"]]:
    """(lets in, pattern) for each line; the last pattern that matches a path or one of its parents decides."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            allowed = line.startswith("!")
            rules.append((allowed, pattern_regex(line.lstrip("!").strip())))
    return rules


def in_build_context(path: str, rules: List[Tuple[bool, "re.Pattern[str]"]]) -> bool:
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    allowed = True
    for lets_in, pattern in rules:
        if any(pattern.match(candidate) for candidate in candidates):
            allowed = lets_in
    return allowed


def build_artefacts() -> Set[str]:
    """What `make train` makes and is not in the repository: the model and its recorded sha256."""
    model = Path(DEFAULTS["RASA_MODEL"])
    return {model.as_posix(), digest_file(model).as_posix()}


def named_in(comments: str, source: str) -> bool:
    """The comments name the artefact: its path, or the model's path and the rest ("... and its .sha256")."""
    model = DEFAULTS["RASA_MODEL"]
    return source in comments or (source.startswith(model) and model in comments and source[len(model) :] in comments)


def test_the_dockerignore_reading_matches_dockers():
    rules = dockerignore_rules("**\n!core/\n!models/a.tar.gz\n**/__pycache__\n*.md\n")
    assert in_build_context("core/x.py", rules) and in_build_context("core/sub/y.py", rules)
    assert not in_build_context("tests/x.py", rules) and not in_build_context(".venv/bin/python", rules)
    assert in_build_context("models/a.tar.gz", rules) and not in_build_context("models/b.tar.gz", rules)
    assert not in_build_context("core/__pycache__/x.pyc", rules)
    assert not in_build_context("README.md", rules) and in_build_context("core/README.md", rules)


def dockerfile_problems(dockerfile: str, dockerignore: str, tracked: Set[str]) -> List[str]:
    """What is wrong with the COPY sources of a Dockerfile, given its .dockerignore and the repository's files."""
    sources, comments = copy_sources(dockerfile), dockerfile_comments(dockerfile)
    if not sources:
        return ["no COPY"]
    artefacts, rules = build_artefacts(), dockerignore_rules(dockerignore)
    problems = []
    for source in sources:
        path = source.rstrip("/")
        if source.endswith("/"):
            files = sorted(name for name in tracked if name.startswith(path + "/"))
            if not files:
                problems.append(f"{source}: no such directory in the repository")
        elif path in tracked:
            files = [path]
        elif path in artefacts:
            files = [path]
            if not named_in(comments, path):
                problems.append(f"{source}: a build artefact, but the Dockerfile's comments do not say what makes it")
        else:
            problems.append(f"{source}: not in the repository, nor made by `make train`")
            continue
        refused = [name for name in files if not in_build_context(name, rules)]
        if refused:
            problems.append(f"{source}: kept out of the build by the .dockerignore: {', '.join(refused[:5])}")
    return problems


def test_every_dockerfile_copy_source_exists_and_is_in_the_build_context():
    problems = dockerfile_problems(DOCKERFILE.read_text(), DOCKERIGNORE.read_text(), tracked_files())
    assert not problems, "deploy/Dockerfile:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "change, problem",
    [
        (("COPY --chown=root:root core/ core/", "COPY --chown=root:root core/ nowhere/ core/"), "nowhere/: no such"),
        (("config.yml domain.yml", "config.yml domian.yml"), "domian.yml: not in the repository"),
        (("# models/assistant.tar.gz and its .sha256", ""), "models/assistant.tar.gz: a build artefact, but the"),
        (("!domain.yml\n", ""), "domain.yml: kept out of the build"),
        (
            ("**/*.pyc", "**/*.pyc\ncore/catalogue.py"),
            "core/: kept out of the build by the .dockerignore: core/catalogue.py",
        ),
    ],
    ids=["a missing directory", "a misspelt file", "an artefact nobody makes", "a file not let in", "a file left out"],
)
def test_the_dockerfile_check_catches_a_mistake(change, problem):
    dockerfile, dockerignore = DOCKERFILE.read_text(), DOCKERIGNORE.read_text()
    old, new = change
    if old in dockerfile:
        dockerfile = dockerfile.replace(old, new)
    else:
        assert old in dockerignore, old
        dockerignore = dockerignore.replace(old, new)
    problems = dockerfile_problems(dockerfile, dockerignore, tracked_files())
    assert any(problem in found for found in problems), problems


def test_the_dockerignore_lets_in_only_what_the_dockerfile_copies():
    copied = {source.rstrip("/") for source in copy_sources(DOCKERFILE.read_text())}
    let_in = {
        line.strip()[1:].strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip().startswith("!")
    }
    assert let_in == copied, {
        "let in, never copied": sorted(let_in - copied),
        "copied, not let in": sorted(copied - let_in),
    }
    assert dockerignore_rules(DOCKERIGNORE.read_text())[0][1].pattern == pattern_regex("**").pattern, "start from **"


# ---------------------------------------------------------------- the Ingress's refusals


def k8s_objects() -> List[Any]:
    return [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        if path.name not in NOT_KUBERNETES_OBJECTS
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def find(kind: str, name: str) -> Any:
    found = [doc for doc in k8s_objects() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} in deploy/k8s/"
    return found[0]


def test_every_ingress_sends_its_refusals_to_the_refusal_server():
    """ingress-nginx answers 429, 413 and 502/503/504 with the default backend's answer: the
    assistant's reply (server/refusals.py), as nginx.conf.template does with refused.json."""
    from channels.refusal import REFUSED_STATUSES
    from server.refusals import HEALTH_PATH

    ingresses = [doc for doc in k8s_objects() if doc["kind"] == "Ingress"]
    assert len(ingresses) == 3
    backends = set()
    for ingress in ingresses:
        annotations = ingress["metadata"]["annotations"]
        codes = {int(code) for code in annotations["nginx.ingress.kubernetes.io/custom-http-errors"].split(",")}
        assert {413, 429, 502, 503, 504} <= codes <= set(REFUSED_STATUSES), ingress["metadata"]["name"]
        assert 400 not in codes  # the pods' own 400s (REST, socket.io) go to the client as they are
        backends.add(annotations["nginx.ingress.kubernetes.io/default-backend"])
    assert backends == {"wmp-assistant-refusals"}
    service = find("Service", "wmp-assistant-refusals")
    deployment = find("Deployment", "wmp-assistant-refusals")
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    # The assistant's pods are not selected: the refusals answer when every one of them is down.
    assistant = find("Deployment", "wmp-assistant")["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= assistant.items()
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "wmp-assistant" and container["args"] == ["refusals"]
    (port,) = container["ports"]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH_PATH, "port": port["name"]}
    assert container["securityContext"]["readOnlyRootFilesystem"]
    assert not container["securityContext"]["allowPrivilegeEscalation"]
    # The entrypoint starts it on the container's port.
    entrypoint = (ROOT / "deploy" / "entrypoint.sh").read_text()
    assert re.search(
        r'^\s*refusals\) exec python -m server\.refusals --port "\$\{REFUSALS_PORT:-(\d+)\}"', entrypoint, re.M
    )
    assert re.search(r"REFUSALS_PORT:-(\d+)", entrypoint).group(1) == str(port["containerPort"])
    # Only the Ingress controller reaches it, on that port.
    policy = find("NetworkPolicy", "wmp-assistant-refusals")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": port["containerPort"]}]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
