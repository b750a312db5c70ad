#!/usr/bin/env python3
"""A/B timing of two commits of cnnrt on the same models, side by side in
one run: each commit's `cnnrt` CLI is built (release) from `git archive` into
build/ab/<commit>/, then `cnnrt bench MODEL --json` of the two builds
alternates over rounds (A B, B A, A B, ...), pinned to one core, and the
medians of the rounds' medians are compared per model and per op.

    python3 tools/bench/ab_builds.py BASE HEAD MODEL.cnnrt [MODEL.cnnrt ...]
    python3 tools/bench/ab_builds.py 76fe743 HEAD build/bench/mobilenet_like.cnnrt --isa avx512 --rounds 7

A kernel change is judged by its ops' rows (`--min-share` hides ops below a
share of the net's time), the per-op-type sums (a change spread over many
small ops, each under that share) and the whole net's; the host is shared and noisy,
so a row's spread (lowest and highest round ratio) is printed with it.
CNNRT_ISA is passed through (`--isa`) so that one path can be compared on a
CPU that has several. Writes a Markdown report to stdout (`--json FILE` for
the raw round figures).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def resolve(repo, rev):
    return run(["git", "-C", repo, "rev-parse", "--verify", rev + "^{commit}"], capture_output=True).stdout.strip()


def build(repo, sha, root):
    """The release `cnnrt` of commit `sha`, built once into root/sha."""
    src = os.path.join(root, sha[:12])
    binary = os.path.join(src, ".build", "release", "cnnrt")
    if os.path.exists(binary):
        return binary
    os.makedirs(src, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", repo, "archive", sha], stdout=subprocess.PIPE)
    run(["tar", "-x", "-C", src], stdin=archive.stdout)
    if archive.wait() != 0:
        sys.exit(f"ab_builds: git archive {sha} failed")
    print(f"ab_builds: building {sha[:12]} (swift build -c release --product cnnrt) ...", file=sys.stderr)
    run(["swift", "build", "-c", "release", "--product", "cnnrt"], cwd=src, stdout=sys.stderr)
    return binary


def bench(binary, model, args, env):
    cmd = ([] if args.cpu < 0 else ["taskset", "-c", str(args.cpu)]) + \
        [binary, "bench", model, "-n", str(args.iterations), "-w", str(args.warmup), "--json"]
    out = run(cmd, capture_output=True, env=env).stdout
    return json.loads(out)


def kernel_path(binary, model, env):
    """The kernel path a build runs `model` on (`cnnrt inspect --json`)."""
    try:
        out = run([binary, "inspect", model, "--json"], capture_output=True, env=env).stdout
        return json.loads(out).get("kernel_path", "?")
    except (subprocess.CalledProcessError, json.JSONDecodeError):
        return "?"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt_us(ns):
    return f"{ns / 1000:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="commit A (the reference)")
    ap.add_argument("head", help="commit B (the change)")
    ap.add_argument("models", nargs="+", help=".cnnrt models")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", "--iterations", type=int, default=100)
    ap.add_argument("-w", "--warmup", type=int, default=10)
    ap.add_argument("--cpu", type=int, default=1, help="core to pin to (taskset -c); -1: no pinning")
    ap.add_argument("--isa", help="CNNRT_ISA for both builds")
    ap.add_argument("--min-share", type=float, default=1.0, help="hide ops under this %% of the net's time")
    ap.add_argument("--json", help="write the round figures here")
    ap.add_argument("--build-root", default="build/ab")
    args = ap.parse_args()
    if args.rounds < 1 or args.iterations < 1:
        sys.exit("ab_builds: --rounds and -n must be at least 1")
    repo = run(["git", "rev-parse", "--show-toplevel"], capture_output=True).stdout.strip()
    shas = [resolve(repo, args.base), resolve(repo, args.head)]
    for m in args.models:
        if not os.path.isfile(m):
            sys.exit(f"ab_builds: no model {m}")
    binaries = [build(repo, s, os.path.abspath(args.build_root)) for s in shas]
    env = dict(os.environ)
    if args.isa:
        env["CNNRT_ISA"] = args.isa
    rounds = {m: [[], []] for m in args.models}
    for r in range(args.rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for m in args.models:
            for k in order:
                rounds[m][k].append(bench(binaries[k], m, args, env))
        print(f"ab_builds: round {r + 1} of {args.rounds} done", file=sys.stderr)

    print(f"# A/B: {shas[0][:12]} (A) against {shas[1][:12]} (B)\n")
    print(f"`python3 tools/bench/ab_builds.py {args.base} {args.head} {' '.join(args.models)} "
          f"--rounds {args.rounds} -n {args.iterations} -w {args.warmup} --cpu {args.cpu}"
          + (f" --isa {args.isa}" if args.isa else "") + "`\n")
    paths = {kernel_path(binaries[k], args.models[0], env) for k in (0, 1)}
    print(f"{cpu_name()}; kernel path {', '.join(sorted(paths))}; `cnnrt bench` of release builds, "
          f"{args.rounds} rounds alternating A B / B A, medians of the rounds' medians in µs; "
          "B/A per round, its median and [lowest, highest].\n")
    for m in args.models:
        a, b = rounds[m]
        ratios = [y["median_ns"] / x["median_ns"] for x, y in zip(a, b)]
        ma = statistics.median(x["median_ns"] for x in a)
        mb = statistics.median(y["median_ns"] for y in b)
        print(f"## {m}\n")
        print("| # | layer | type | A µs | B µs | B/A | B/A range |")
        print("|---:|---|---|---:|---:|---:|---|")
        la, lb = a[0]["layers"], b[0]["layers"]
        same = [(x["name"], x["type"]) for x in la] == [(y["name"], y["type"]) for y in lb]
        if same:
            for i, layer in enumerate(la):
                oa = statistics.median(x["layers"][i]["median_ns"] for x in a)
                ob = statistics.median(y["layers"][i]["median_ns"] for y in b)
                if 100 * max(oa, ob) / ma < args.min_share:
                    continue
                rr = [y["layers"][i]["median_ns"] / max(x["layers"][i]["median_ns"], 1) for x, y in zip(a, b)]
                print(f"| {layer['index']} | {layer['name'][:40]} | {layer['type']} | {fmt_us(oa)} | {fmt_us(ob)} | "
                      f"{statistics.median(rr):.3f} | [{min(rr):.3f}, {max(rr):.3f}] |")
        print(f"| | **whole net** | | {fmt_us(ma)} | {fmt_us(mb)} | **{statistics.median(ratios):.3f}** | "
              f"[{min(ratios):.3f}, {max(ratios):.3f}] |\n")
        if same:
            # Per op type: each round's sum over the type's ops, medians of the rounds.
            types = sorted({x["type"] for x in la})
            print("| type | ops | A µs | B µs | B/A | B/A range |")
            print("|---|---:|---:|---:|---:|---|")
            for t in types:
                sa = [sum(l["median_ns"] for l in x["layers"] if l["type"] == t) for x in a]
                sb = [sum(l["median_ns"] for l in y["layers"] if l["type"] == t) for y in b]
                ta, tb = statistics.median(sa), statistics.median(sb)
                if 100 * max(ta, tb) / ma < args.min_share:
                    continue
                rr = [y / max(x, 1) for x, y in zip(sa, sb)]
                print(f"| {t} | {sum(1 for l in la if l['type'] == t)} | {fmt_us(ta)} | {fmt_us(tb)} | "
                      f"{statistics.median(rr):.3f} | [{min(rr):.3f}, {max(rr):.3f}] |")
            print()
        if not same:
            print("The two builds list different ops for this model: only the whole net is compared.\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"base": shas[0], "head": shas[1], "rounds": rounds}, f)


if __name__ == "__main__":
    main()
