"""`python -m bench [NAME ...] [--quick]`: run the benchmarks (all of them without a name).

Each benchmark writes bench/results/<NAME>.json (docs/performance.md explains the figures).
The exit status is 0 when every benchmark ran; with --check, also 1 when a target was missed.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench.harness import Options, command_line, log, write_result

# name -> module; a new benchmark (alert_latency, reconcile) is a module with NAME, TITLE and
# run(options) -> dict, plus one line here.
BENCHMARKS = {
    "gateway_push": "bench.gateway_push",
    "alert_latency": "bench.alert_latency",
    "reconcile": "bench.reconcile",
    "bulk_memory": "bench.bulk_memory",
    "concurrency": "bench.concurrency",
    "scale_villages": "bench.scale_villages",
    "scale_accounts": "bench.scale_accounts",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: fewer documents and rounds (<NAME>.quick.json)")
    parser.add_argument("--docs", type=int, help="override the number of documents")
    parser.add_argument("--rounds", type=int, help="override the number of measured rounds")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (server data and logs)")
    parser.add_argument("--profile", action="store_true",
                        help="also sample where the server's time goes (<NAME>.profile.txt); "
                             "timings of such a run are not figures of record")
    parser.add_argument("--without", default="", metavar="PART,...",
                        help="switch parts of the server off to price them (gateway_push: audit, "
                             "guard, account-read, validation); never figures of record")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a benchmark misses its target")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    options = Options(quick=args.quick, docs=args.docs, rounds=args.rounds, keep=args.keep,
                      profile=args.profile,
                      without=[part for part in args.without.split(",") if part], argv=argv)
    summaries, missed = [], []
    for name in args.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        log(f"== {name}: {module.TITLE}")
        started = time.monotonic()
        result = module.run(options)
        result.setdefault("command", command_line(argv))
        result["wall_s"] = round(time.monotonic() - started, 1)
        path = write_result(name, result, options)
        log(f"== {name} done in {result['wall_s']} s; wrote {path}")
        summaries.append((name, result.get("summary", []), path))
        if not result.get("met", True):
            missed.append(name)
    print()
    for name, lines, path in summaries:
        print(f"{name}  ({path})")
        for line in lines:
            print(f"  {line}")
    if missed:
        print(f"\nTARGET MISSED: {', '.join(missed)}")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
