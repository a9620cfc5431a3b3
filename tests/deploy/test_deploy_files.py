"""The deployment files: the compose file parsed and validated, the Dockerfile and the unit."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import yaml

from domain.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTING_NAMES = {field.alias for field in Settings.model_fields.values()}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _env_names(service: dict[str, Any]) -> set[str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return {item.split("=", 1)[0] for item in env}
    return set(env)


def test_compose_has_the_bot_postgresql_and_a_one_shot_migration() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "migrate", "bot"}
    db, migrate, bot = services["db"], services["migrate"], services["bot"]
    assert db["image"].startswith("postgres:")
    # A named volume holds the database, declared at the top level.
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert db["volumes"][0].split(":")[1] == "/var/lib/postgresql/data"
    # Health checks on the database and on the bot (its /healthz).
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any("/healthz" in part for part in bot["healthcheck"]["test"])
    # Migrations run once, after the database is healthy; the bot waits for them.
    assert migrate["command"] == ["chibo", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["command"] == ["chibo", "run"]
    assert migrate["build"]["dockerfile"] == "deploy/Dockerfile"
    assert bot["image"] == migrate["image"]


def test_compose_environment_names_are_settings() -> None:
    services = _compose()["services"]
    for name in ("migrate", "bot"):
        names = _env_names(services[name])
        assert names, name
        assert names <= SETTING_NAMES, names - SETTING_NAMES
        assert {"DATABASE_URL", "TELEGRAM_BOT_TOKEN"} <= names
    # The bot talks to the db service, with the credentials the db service was given.
    url = services["bot"]["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://chibo:") and "@db:5432/chibo" in url
    assert services["db"]["environment"]["POSTGRES_USER"] == "chibo"
    # The health check reaches the port the bot serves /healthz on.
    port = services["bot"]["environment"]["CHIBO_HEALTH_PORT"]
    assert f":{port}/healthz" in " ".join(services["bot"]["healthcheck"]["test"])


def test_the_env_file_example_names_only_settings() -> None:
    lines = (DEPLOY / "chibo.env.example").read_text(encoding="utf-8").splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert names - {"POSTGRES_PASSWORD"} <= SETTING_NAMES, names - SETTING_NAMES
    assert "TELEGRAM_BOT_TOKEN" in names


def test_dockerfile_is_pinned_small_and_unprivileged() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert bases and all(b == "python:3.11-slim" for b in bases), bases
    assert "pip install ." in text  # the package build compiles the catalogs (setup.py)
    assert "messages.mo" in text  # … and the build fails if they are missing
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user and user[-1] not in {"root", "0"}
    assert "MALLOC_ARENA_MAX=2" in text  # two heap arenas (README, "Benchmarks")
    env_names = set(re.findall(r"\b((?:CHIBO|TELEGRAM)_[A-Z_]+|DATABASE_URL)=", text))
    assert env_names <= SETTING_NAMES, env_names - SETTING_NAMES
    for folder in ("bot", "domain", "services", "documents", "handlers", "storage", "locales"):
        assert f"COPY {folder} " in text, folder


def test_systemd_unit_migrates_before_it_runs() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "chibo.service", encoding="utf-8")
    service = unit["Service"]
    assert service["User"] == "chibo"
    assert service["ExecStartPre"].endswith("chibo db upgrade")
    assert service["ExecStart"].endswith("chibo run")
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == "/etc/chibo/chibo.env"
    assert service["Environment"] == "MALLOC_ARENA_MAX=2"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
