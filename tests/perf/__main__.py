"""`make bench`: run every `tests/perf/bench_*.py` and print its figures.

Each module defines `async def main(smoke: bool) -> None`. `--smoke` (used by CI) runs each
benchmark briefly, to prove it still works; the figures worth quoting come from a full run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import sys
import time

import tests.perf as perf


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="short run, for CI")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. login)")
    args = parser.parse_args()
    names = sorted(
        m.name for m in pkgutil.iter_modules(perf.__path__) if m.name.startswith("bench_")
    )
    if args.names:
        names = [n for n in names if n.removeprefix("bench_") in args.names]
    if not names:
        print("no benchmark selected", file=sys.stderr)
        return 2
    for name in names:
        module = importlib.import_module(f"tests.perf.{name}")
        print(
            f"== {name.removeprefix('bench_')} ({'smoke' if args.smoke else 'full'}) ==", flush=True
        )
        start = time.perf_counter()
        asyncio.run(module.main(args.smoke))
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
