"""The deployment files say what deploy/README.md promises. No container engine runs on CI, so
the Dockerfile's structure is checked instead of building it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

DEPLOY = Path(__file__).parents[2] / "deploy"


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_dockerfile_is_multi_stage_on_a_pinned_slim_python() -> None:
    steps = dockerfile()
    args = dict(a.split("=", 1) for w, a in steps if w == "ARG" and "=" in a)
    bases = [a.split()[0] for w, a in steps if w == "FROM"]
    assert len(bases) >= 2, "build and runtime stages"
    for base in bases:
        image = args.get(base.strip("${}"), base)
        # An exact release tag (python:3.11.14-slim...) or a digest: never "latest" or "3".
        assert re.fullmatch(r"python:3\.11\.\d+-slim[-\w]*(@sha256:[0-9a-f]{64})?", image), image
    assert any(w == "COPY" and a.startswith("--from=build") for w, a in final_stage())


def test_runtime_runs_as_non_root_with_data_volume_and_healthcheck() -> None:
    steps = final_stage()
    users = [a for w, a in steps if w == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(w == "VOLUME" and "/data" in a for w, a in steps)
    env = " ".join(a for w, a in steps if w == "ENV")
    assert "PAPERBOY_DB=/data/paperboy.db" in env
    (check,) = [a for w, a in steps if w == "HEALTHCHECK"]
    assert "/healthz" in check and "--timeout=" in check
    assert "PAPERBOY_METRICS_PORT" in env
    entry = [a for w, a in steps if w in ("ENTRYPOINT", "CMD")]
    assert entry == ['["paperboy"]', '["run"]']


def test_compose_uses_env_file_and_the_data_volume() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "env_file: ../.env" in compose
    assert re.search(r"^\s+- paperboy-data:/data$", compose, re.M)
    assert "dockerfile: deploy/Dockerfile" in compose
    assert '"127.0.0.1:9108:9108"' in compose


def test_systemd_unit_is_hardened_and_stops_on_config_errors() -> None:
    unit = (DEPLOY / "paperboy.service").read_text()
    settings = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, value)
    assert settings["RestartPreventExitStatus"] == "2"
    assert settings["Restart"] == "on-failure"
    assert int(settings["StartLimitBurst"]) > 0 and int(settings["StartLimitIntervalSec"]) > 0
    assert settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "true"
    assert settings["ReadWritePaths"] == "/var/lib/paperboy"
    assert settings["Environment"].startswith("PAPERBOY_DB=/var/lib/paperboy/")
    assert shlex.split(settings["ExecStart"])[1] == "run"
    assert settings["User"] != "root"


def test_deploy_readme_covers_each_file() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name in ("compose.yaml", "Dockerfile", "paperboy.service", "/healthz", "paperboy doctor"):
        assert name in readme
