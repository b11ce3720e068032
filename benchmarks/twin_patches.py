"""Benchmark: what each of the twin's speed patches (src/polku/twin/patches/) gains.

The same journey simulation (benchmarks/simulate.py's timeline, N customers after 5 warm-up ones)
runs in fresh processes: with every patch on, with all off (POLKU_TWIN_PATCHES=off), and once with
each patch off alone. The gain of a patch is the CPU time it saves against all on, in the same run:
(cpu(that one off) - cpu(all on)) / cpu(all on). Every run's output must be byte-identical.
CPU time (not wall time) of the simulating process only: the twin's start-up is left out.
A patch that saves under 5 % is a candidate for removal (issue #23). Writes its section of
docs/benchmarks.md.

    python benchmarks/twin_patches.py [--customers 100] [--journey abandoned_cart] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from report import cpu_model  # noqa: E402  (benchmarks/report.py, beside this script)

from polku.twin.patches import SPEED  # noqa: E402

RUN = """
import contextlib, hashlib, io, json, logging, sys, time, warnings
sys.path.insert(0, sys.argv[1])
logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")
import simulate as b
from polku.twin import patches
from polku.twin.twin import Twin
twin = Twin(sys.argv[4]).start()
with contextlib.redirect_stdout(io.StringIO()):
    b.run(sys.argv[3], 5, twin, prefix="warm")
    t = time.process_time()
    _, out, _ = b.run(sys.argv[3], int(sys.argv[2]), twin, prefix="p")
    cpu = time.process_time() - t
twin.stop()
print(json.dumps({"cpu_s": round(cpu, 2), "applied": patches.applied(),
                  "output_md5": hashlib.md5(json.dumps(out, sort_keys=True, default=str).encode()).hexdigest()}))
"""


def one(setting: str, n: int, journey: str, template: str) -> dict:
    env = {**os.environ, "POLKU_TWIN_PATCHES": setting, "POWERTOOLS_TRACE_DISABLED": "true",
           "POWERTOOLS_METRICS_DISABLED": "true", "LOG_LEVEL": "ERROR", "POWERTOOLS_LOG_LEVEL": "ERROR",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    env.pop("POLKU_TWIN_DIRECT", None)
    proc = subprocess.run([sys.executable, "-c", RUN, str(REPO / "benchmarks"), str(n), journey, template],
                          env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100)
    ap.add_argument("--journey", default="abandoned_cart")
    ap.add_argument("--template", default=str(REPO / "template.yaml"), help="the stack to start (default template.yaml)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    run = lambda setting: one(setting, args.customers, args.journey, args.template)  # noqa: E731
    load = [round(os.getloadavg()[0], 2)]
    on = [run("on")]
    off = run("off")
    print("all on", on[0]["cpu_s"], "all off", off["cpu_s"], file=sys.stderr, flush=True)
    each, pairs = {}, {}
    for patch in SPEED:  # each patch off next to a fresh all-on run: the pair sees the same load
        each[patch.name] = run(f"-{patch.name}")
        on.append(run("on"))
        pairs[patch.name] = (on[-1]["cpu_s"], each[patch.name]["cpu_s"])
        print(patch.name, pairs[patch.name], file=sys.stderr, flush=True)
    load.append(round(os.getloadavg()[0], 2))
    digests = {r["output_md5"] for r in [*on, off, *each.values()]}
    result = {"customers": args.customers, "journey": args.journey, "cpu_model": cpu_model(),
              "all_on_cpu_s": [r["cpu_s"] for r in on], "all_off_cpu_s": off["cpu_s"],
              "pairs": pairs, "gain": {name: round((b - a) / a, 3) for name, (a, b) in pairs.items()},
              "identical": len(digests) == 1, "load_1min": load}
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_report(result)
    return 0 if result["identical"] else 1


def write_report(r: dict) -> None:
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    rows = "".join(f"| `{name}` | {r['pairs'][name][0]} s / {r['pairs'][name][1]} s | {gain * 100:+.1f} % |\n"
                   for name, gain in sorted(r["gain"].items(), key=lambda kv: -kv[1]))
    on = r["all_on_cpu_s"]
    section = (
        "## Twin patches (`benchmarks/twin_patches.py`)\n\n"
        f"What each speed patch of the twin (`src/polku/twin/patches/`) saves: a `{r['journey']}` simulation of "
        f"{r['customers']} customers in fresh processes, CPU seconds of the simulating process; each patch off "
        f"alone, paired with an all-on run just before it (all on, mean of {len(on)} runs: {sum(on) / len(on):.2f} s, "
        f"range {min(on)}-{max(on)} s; all off: {r['all_off_cpu_s']} s, {r['all_off_cpu_s'] / (sum(on) / len(on)):.1f}x). "
        f"Outputs of every run {'byte-identical' if r['identical'] else 'DIFFERENT'}. "
        f"Measured on {r['cpu_model']}; 1-minute load {r['load_1min'][0]} / {r['load_1min'][1]} "
        "(other work may share the 2 cores: differences of a few per cent are noise, see the range of the all-on runs).\n\n"
        "| patch off alone | CPU all on / this one off | extra CPU without it |\n|---|---|---|\n" + rows + "\n")
    start = text.find("## Twin patches")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
