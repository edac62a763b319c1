"""Deployment files: docker-compose.yml as Compose reads it, and a Dockerfile that installs
vnnews the way the Makefile does. No Docker engine runs here: ``docker-compose config`` (Debian's
docker-compose package; `.ci/run` installs it) validates and resolves the file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("docker-compose is required in CI (.ci/run installs it)")
        pytest.skip("docker-compose not installed (apt-get install docker-compose)")
    return found


def _resolved(compose: str) -> dict[str, Any]:
    """``docker-compose config`` as data: its YAML read by the Python docker-compose runs on
    (Debian's package depends on PyYAML; vnnews does not)."""
    out = subprocess.run(
        [compose, "config"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    shebang = Path(compose).read_text(errors="replace").splitlines()[0]
    python = shebang.removeprefix("#!").split()[0] if shebang.startswith("#!") else "python3"
    loaded = subprocess.run(
        [python, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
        input=out, capture_output=True, text=True, check=True,
    )  # fmt: skip
    data: dict[str, Any] = json.loads(loaded.stdout)
    return data


def _started(config: dict[str, Any], profile: str | None) -> set[str]:
    """The services `docker compose [--profile P] up` starts: those without profiles, and those
    of the profile (Compose's rule)."""
    return {
        name
        for name, svc in config["services"].items()
        if not svc.get("profiles") or profile in svc["profiles"]
    }


def test_compose_file_is_valid_and_the_postgres_profile_replaces_the_sqlite_daemon() -> None:
    compose = _compose()
    check = subprocess.run([compose, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    config = _resolved(compose)
    assert _started(config, "postgres") == {"postgres", "vnnews-pg"}
    assert _started(config, "sqlite") == {"vnnews", "datasette"}
    # every named volume a service uses is declared
    declared = set(config.get("volumes") or {})
    for svc in config["services"].values():
        for volume in svc.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            kind = volume.get("type") if isinstance(volume, dict) else None
            if kind == "volume" or (kind is None and not source.startswith((".", "/"))):
                assert source in declared, source
    # Datasette: the SQLite archive, on localhost only
    datasette = config["services"]["datasette"]
    ports = datasette["ports"]
    assert all(str(p.get("host_ip", "")) == "127.0.0.1" for p in ports if isinstance(p, dict))
    assert "/data/vnnews.db" in " ".join(datasette["command"])
    assert "--metadata /project/datasette.yml" in " ".join(datasette["command"])
    # the daemons share the archive they are meant to
    assert config["services"]["vnnews"]["environment"]["VNNEWS_DB"] == "sqlite:////data/vnnews.db"
    assert "postgres:5432" in config["services"]["vnnews-pg"]["environment"]["VNNEWS_DB"]


def _pip_steps(text: str) -> tuple[bool, set[str]]:
    """(pip upgraded first?, the project specs installed, like '.[postgres]') in a file."""
    upgraded = bool(re.search(r"pip install [^\n]*--upgrade pip", text))
    specs = set(re.findall(r"pip install [^\n]*?'(?:-e )?(\.\[[a-z,]+\])'", text))
    specs |= {m for m in re.findall(r"pip install [^\n]*?-e '(\.\[[a-z,]+\])'", text)}
    return upgraded, specs


def test_the_dockerfile_installs_like_the_makefile_and_checks_health() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # the production install target ($(STAMP)), not the dev one
    stamp = makefile.split("$(STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    venv = makefile.split("$(BIN)/python:", 1)[1].split("\n\n", 1)[0]
    make_upgraded, make_specs = _pip_steps(venv + stamp)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    docker_upgraded, docker_specs = _pip_steps(dockerfile)
    assert make_specs == {".[postgres]"}
    assert (docker_upgraded, docker_specs) == (make_upgraded, make_specs)
    assert re.search(r'^HEALTHCHECK .*CMD \["vnnews", "health"\]$', dockerfile, re.M)
    assert re.search(r'^CMD \["vnnews", "run"\]$', dockerfile, re.M)
    assert "python:3.11" in dockerfile  # the Python the project is written for
