#!/usr/bin/env python3
"""Images/s of `cnnrt classify DIR --jobs N` for N = 1, 2, ... (make bench-jobs).

Copies the 20 bundled digits (samples/mnist) COPIES times into a temporary
folder, runs `cnnrt classify --top 1 models/mnist.cnnrt DIR --jobs N` ROUNDS
times per N (the N values take turns), checks that every run prints exactly
what --jobs 1 prints, and writes the median images/s (wall time of the whole
command: start-up, model load, reading and decoding every image, inference,
printing) into the classify-jobs section of docs/BENCHMARKS.md.
"""
import argparse, datetime, os, re, shutil, statistics, subprocess, sys, tempfile, time

BEGIN, END = "<!-- classify-jobs:begin -->", "<!-- classify-jobs:end -->"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="the cnnrt executable (a release build)")
    ap.add_argument("--jobs", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--copies", type=int, default=100, help="copies of the 20 digits (default 100: 2,000 images)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", default="docs/BENCHMARKS.md")
    ap.add_argument("--command", default="make bench-jobs")
    a = ap.parse_args()
    jobs = [int(j) for j in a.jobs.split(",")]
    digits = sorted(f for f in os.listdir("samples/mnist") if f.endswith(".pgm"))
    tmp = tempfile.mkdtemp(prefix="cnnrt-jobs-")
    try:
        for k in range(a.copies):
            for d in digits:
                shutil.copyfile(os.path.join("samples/mnist", d), os.path.join(tmp, f"c{k:03d}_{d}"))
        n = a.copies * len(digits)
        cmd = lambda j: [a.cli, "classify", "--top", "1", "models/mnist.cnnrt", tmp, "--jobs", str(j)]
        reference = subprocess.run(cmd(1), check=True, capture_output=True).stdout
        if len(reference.splitlines()) != n:
            sys.exit(f"classify_jobs: expected {n} lines, got {len(reference.splitlines())}")
        rates = {j: [] for j in jobs}
        load = os.getloadavg()
        for r in range(a.rounds):
            for j in (jobs if r % 2 == 0 else list(reversed(jobs))):
                t0 = time.perf_counter()
                out = subprocess.run(cmd(j), check=True, capture_output=True).stdout
                dt = time.perf_counter() - t0
                if out != reference:
                    sys.exit(f"classify_jobs: --jobs {j} printed something else than --jobs 1")
                rates[j].append(n / dt)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(tmp)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    base = statistics.median(rates[jobs[0]])
    L = [BEGIN, "", "## `cnnrt classify --jobs N` (images/s)", "",
         f"Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `{a.command}` "
         f"(`tools/bench/classify_jobs.py`) on {os.cpu_count()} cores ({cpu}), load average "
         f"{load[0]:.2f} before and {load_after[0]:.2f} after (the host is shared: other builds may have run).", "",
         f"`cnnrt classify --top 1 models/mnist.cnnrt DIR --jobs N` on {n:,} images (the 20 bundled digits "
         f"× {a.copies}), wall time of the whole command (start-up, model load, reading and decoding the "
         f"PGM files, inference, printing); {a.rounds} runs per N, taking turns; every run's output is "
         "byte-identical to `--jobs 1`'s.", "",
         "| --jobs | median images/s | min – max images/s | speed-up vs --jobs %d |" % jobs[0], "|---:|---:|---:|---:|"]
    for j in jobs:
        m = statistics.median(rates[j])
        L.append(f"| {j} | {m:,.0f} | {min(rates[j]):,.0f} – {max(rates[j]):,.0f} | {m / base:.2f}× |")
    L += ["", END]
    section = "\n".join(L)
    text = open(a.out).read() if os.path.exists(a.out) else "# Benchmarks\n"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    open(a.out, "w").write(text)
    print(section)


if __name__ == "__main__":
    main()
