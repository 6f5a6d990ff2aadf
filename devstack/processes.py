"""The processes of a fleet: each one's command, environment and URLs.

Every child gets the settings of ARCHITECTURE.md under their plain names, built here and nowhere
else, so that what a service sees under `webrana up` is what it sees under compose or k8s."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from devstack.credentials import FleetCredentials
from devstack.databases import with_redis_db
from devstack.fleet import (
    HOST,
    HTTP_SANDBOXES,
    SENTRY,
    SERVICE_PORTS,
    SMTP,
    Ports,
    Service,
    sentry_dsn,
    uvicorn_argv,
    worker_argv,
)
from devstack.home import REPO_ROOT, Home
from devstack.supervisor import ProcessSpec

# Inherited names that must not leak into a child as they are: DATABASE_URL/REDIS_URL name the
# *server* for `webrana up`, each service gets its own database under the same names.
_NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "WEBRANA_HOME", "WEBRANA_PORT_OFFSET")


@dataclass(frozen=True)
class FleetEnvironment:
    home: Home
    ports: Ports
    credentials: FleetCredentials
    database_urls: Mapping[str, str]  # service -> URL of its own database
    redis_url: str  # the server; each service gets its own database number on it
    log_level: str = "INFO"

    def base(self, *python_paths: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env["PYTHONPATH"] = os.pathsep.join(
            [*python_paths, str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        env["PYTHONUNBUFFERED"] = "1"  # log lines reach the prefixer as they are written
        # A developer's HTTP(S)_PROXY must not capture calls between local processes.
        no_proxy = [HOST, "localhost", *filter(None, [os.environ.get("NO_PROXY")])]
        env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy)
        env["ENVIRONMENT"] = "development"
        env["LOG_LEVEL"] = self.log_level
        return env

    def service_urls(self) -> dict[str, str]:
        return {
            f"{name.upper()}_URL": self.ports.service_url(name)
            for name in SERVICE_PORTS
            if name != "gateway"
        }

    def for_service(self, service: Service) -> dict[str, str]:
        env = self.base(str(service.root))
        env |= self.service_urls()
        env |= {
            "PORT": str(self.ports.service(service.name)),
            "REDIS_URL": with_redis_db(self.redis_url, service.redis_db),
            "JWKS_URL": f"{self.ports.service_url('auth')}/.well-known/jwks.json",
            "JWT_KEYS_DIR": str(self.home.jwt_keys),
            "INTERNAL_API_KEYS": self.credentials.accepted_by(service.name),
            "INTERNAL_API_KEY": self.credentials.internal_api_keys[service.name],
            "PUBLIC_BASE_URL": self.ports.service_url("gateway"),
        }
        if service.name in self.database_urls:
            env["DATABASE_URL"] = self.database_urls[service.name]
        if SENTRY.available:
            env["SENTRY_DSN"] = sentry_dsn(self.ports, self.credentials.sentry_public_key)
            env["SENTRY_ENVIRONMENT"] = "development"
        for sandbox in HTTP_SANDBOXES:
            if sandbox.available and sandbox.service_env is not None:
                env |= sandbox.service_env(f"http://{HOST}:{self.ports.sandbox(sandbox.name)}")
        if SMTP.available:
            # The sink speaks plain SMTP and accepts any login.
            env |= {
                "SMTP_HOST": HOST,
                "SMTP_PORT": str(self.ports.sandbox("smtp")),
                "SMTP_STARTTLS": "false",
            }
        return env


def service_processes(service: Service, fleet: FleetEnvironment) -> list[ProcessSpec]:
    port = fleet.ports.service(service.name)
    url = fleet.ports.service_url(service.name)
    env = fleet.for_service(service)
    specs = [
        ProcessSpec(
            name=service.name,
            argv=uvicorn_argv(f"{service.package}.app:create_app", port, fleet.log_level),
            env=env,
            cwd=service.root,
            kind="service",
            port=port,
            url=url,
            docs_url=f"{url}/docs",
            ready_url=f"{url}/ready",
            health_url=f"{url}/health",
        )
    ]
    if service.has_worker:
        specs.append(
            ProcessSpec(
                name=f"{service.name}-worker",
                argv=worker_argv(service),
                env=env,
                cwd=service.root,
                kind="worker",
            )
        )
    return specs


def smtp_argv(ports: Ports) -> list[str]:
    return [
        sys.executable, "-m", "devstack.sandbox.smtp",
        "--smtp-port", str(ports.sandbox("smtp")),
        "--http-port", str(ports.sandbox("smtp-http")),
    ]  # fmt: skip


def sandbox_processes(fleet: FleetEnvironment) -> list[ProcessSpec]:
    ports = fleet.ports
    env = fleet.base()
    specs: list[ProcessSpec] = []
    if SMTP.available:
        http = f"http://{HOST}:{ports.sandbox('smtp-http')}"
        specs.append(
            ProcessSpec(
                name="smtp",
                argv=smtp_argv(ports),
                env=env,
                cwd=REPO_ROOT,
                kind="sandbox",
                port=ports.sandbox("smtp"),
                url=f"smtp://{HOST}:{ports.sandbox('smtp')}",
                docs_url=f"{http}/messages",
                ready_url=f"{http}/health",
                health_url=f"{http}/health",
            )
        )
    for sandbox in HTTP_SANDBOXES:
        if not sandbox.available:
            continue
        port = ports.sandbox(sandbox.name)
        url = f"http://{HOST}:{port}"
        specs.append(
            ProcessSpec(
                name=sandbox.name,
                argv=uvicorn_argv(f"devstack.sandbox.{sandbox.module}:create_app", port, "warning"),
                # Links a stand-in hands out (Tripay's checkout/QR URLs) follow the port offset.
                env=env | {f"{sandbox.name.upper()}_SANDBOX_PUBLIC_URL": url},
                cwd=REPO_ROOT,
                kind="sandbox",
                port=port,
                url=url,
                docs_url=f"{url}{sandbox.docs_path}",
                ready_url=f"{url}/health",
                health_url=f"{url}/health",
            )
        )
    return specs


def plan(services: Sequence[Service], fleet: FleetEnvironment) -> list[ProcessSpec]:
    specs = sandbox_processes(fleet)
    for service in services:
        specs += service_processes(service, fleet)
    return specs
