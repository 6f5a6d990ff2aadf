"""`webrana sandbox pay|expire|fail|refund INV-...`: play the customer against the Tripay
stand-in of the running fleet. The stand-in changes the transaction's status and sends the
billing service a signed callback, exactly as Tripay would.

Registered in devstack/cli.py with `add_sandbox_parser(commands, common)` and dispatched to
`run_sandbox(args, home, console)`."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import httpx

from devstack.console import Console
from devstack.fleet import HOST, SANDBOX_PORTS
from devstack.home import Home
from devstack.state import read_state

ACTIONS = ("pay", "expire", "fail", "refund")
DEFAULT_PORT = 3997


def add_sandbox_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    sandbox = commands.add_parser(
        "sandbox",
        parents=[common],
        help="pay, expire or fail an invoice at the Tripay stand-in",
        description="Change a Tripay sandbox transaction (found by invoice number = "
        "merchant_ref, or by Tripay reference) and send billing the signed callback.",
    )
    sandbox.add_argument("action", choices=ACTIONS)
    sandbox.add_argument("ref", metavar="INV-... | REFERENCE")
    sandbox.add_argument(
        "--amount", type=int, help="report this total_amount in the callback (a wrong amount)"
    )
    sandbox.add_argument(
        "--forge-signature", action="store_true", help="sign the callback with a wrong key"
    )
    sandbox.add_argument(
        "--miss-callback",
        action="store_true",
        help="change the status but send no callback (for reconciliation)",
    )
    sandbox.add_argument("--url", help="the stand-in's base URL (default: the running fleet's)")


def tripay_url(home: Home) -> str:
    """The stand-in of the fleet running from `home`, else the default port (+ offset)."""
    state = read_state(home.state_file) or {}
    for process in state.get("processes", []):
        if process.get("name") == "tripay" and process.get("url"):
            return str(process["url"])
    offset = int(os.environ.get("WEBRANA_PORT_OFFSET", "0") or 0)
    return f"http://{HOST}:{SANDBOX_PORTS.get('tripay', DEFAULT_PORT) + offset}"


def run_sandbox(args: argparse.Namespace, home: Home, console: Console) -> int:
    base = (args.url or tripay_url(home)).rstrip("/")
    options: dict[str, Any] = {
        "forge_signature": args.forge_signature,
        "miss_callback": args.miss_callback,
    }
    if args.amount is not None:
        options["amount"] = args.amount
    try:
        response = httpx.post(
            f"{base}/_sandbox/transactions/{args.ref}/{args.action}",
            json=options,
            timeout=10,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        console.error(f"the Tripay stand-in at {base} did not answer ({type(exc).__name__})")
        return 1
    body = response.json()
    if response.status_code != 200:
        console.error(str(body.get("message") or body))
        return 1
    transaction, callback = body["transaction"], body["callback"]
    console.info(
        f"{transaction['merchant_ref']} ({transaction['reference']}, "
        f"{transaction['payment_method']}): {transaction['status']}"
    )
    if callback["state"] == "missed":
        console.info("  no callback sent (--miss-callback): billing's reconciliation will see it")
    else:
        state = _settled_state(base, callback)
        console.info(f"  callback to {callback['url']}: {state}")
    return 0


def _settled_state(base: str, callback: dict[str, Any], wait_seconds: float = 3.0) -> str:
    """The delivery's state once its first attempt is over (or "pending" after a while)."""
    deadline = time.monotonic() + wait_seconds
    state = str(callback["state"])
    while state == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        listing = httpx.get(
            f"{base}/_sandbox/callbacks",
            params={"reference": callback["reference"]},
            timeout=5,
            trust_env=False,
        ).json()["callbacks"]
        mine = [d for d in listing if d["id"] == callback["id"]]
        # An attempt is listed as soon as it starts; only a finished one has an outcome.
        listed = mine[0]["attempts"] if mine else []
        attempts = [a for a in listed if "acknowledged" in a or "error" in a]
        if mine and (mine[0]["state"] != "pending" or attempts):
            state = mine[0]["state"]
            if state == "pending" and attempts and not attempts[-1].get("acknowledged"):
                state = "not acknowledged yet; Tripay-style retries follow"
    return state
