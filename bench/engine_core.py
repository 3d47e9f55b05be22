#!/usr/bin/env python3
"""Engine-core figures on the shared Wikipedia articles and AOL query set.

Indexes ../shared/data/wiki-en-2015.jsonl.zst with the needle CLI (1 and 2 threads), reports
throughput (MB/s of input JSON), split size, then replays the query set through `needle serve`
and reports the mean latency per command and per query tag.

usage: python3 bench/engine_core.py [--needle build/bin/needle] [--data ../shared/data]
                                    [--work /tmp/needle-bench] [--threads 1,2] [--rounds 3]
"""
import argparse
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import time


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--needle", default=os.path.join(root, "build/bin/needle"))
    ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data"))
    ap.add_argument("--work", default="/tmp/needle-bench")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--memory-mb", default="1024")
    ap.add_argument("--rounds", type=int, default=3, help="runs per query; the best is kept")
    ap.add_argument("--commands", default="COUNT,TOP_10,TOP_100,TOP_1000,TOP_100_COUNT")
    args = ap.parse_args()

    wiki_zst = os.path.join(args.data, "wiki-en-2015.jsonl.zst")
    queries_path = os.path.join(args.data, "queries", "aol-benchmark-queries.jsonl")
    if not os.path.exists(wiki_zst):
        sys.exit(f"no data at {wiki_zst}: this benchmark needs ../shared/data")
    os.makedirs(args.work, exist_ok=True)
    wiki = os.path.join(args.work, "wiki.jsonl")
    if not os.path.exists(wiki):
        print(f"decompressing {wiki_zst} ...", file=sys.stderr)
        subprocess.run(f"zstd -d -q -f '{wiki_zst}' -o '{wiki}'", shell=True, check=True)
    size_mb = os.path.getsize(wiki) / 1e6
    schema = os.path.join(here, "wiki-schema.json")
    version = subprocess.run([args.needle, "help"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"# needle engine core — {time.strftime('%Y-%m-%d')} — {os.uname().machine}, {os.cpu_count()} cores")
    print(f"# input: {wiki_zst} ({size_mb:.1f} MB of JSON lines)")
    print(f"# cli: {args.needle} ({version})\n")

    print("| threads | memory | seconds | MB/s | split MB | split / input |")
    print("|---|---|---|---|---|---|")
    split_for_queries = None
    for t in [int(x) for x in args.threads.split(",")]:
        out = os.path.join(args.work, f"wiki-t{t}.split")
        t0 = time.perf_counter()
        with open(wiki, "rb") as stdin:
            subprocess.run([args.needle, "index", "--schema", schema, "--output", out, "--threads", str(t),
                            "--memory-mb", args.memory_mb, "--force-merge"], stdin=stdin, check=True,
                           stderr=subprocess.DEVNULL)
        secs = time.perf_counter() - t0
        split_mb = os.path.getsize(out) / 1e6
        print(f"| {t} | {args.memory_mb} MB | {secs:.1f} | {size_mb / secs:.1f} | {split_mb:.1f} | {split_mb / size_mb:.2f} |")
        split_for_queries = split_for_queries or out

    queries = [json.loads(l) for l in open(queries_path)]
    commands = args.commands.split(",")
    proc = subprocess.Popen([args.needle, "serve", split_for_queries], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(cmd, q):
        t0 = time.perf_counter()
        proc.stdin.write(f"{cmd}\t{q}\n")
        proc.stdin.flush()
        answer = proc.stdout.readline().strip()
        return time.perf_counter() - t0, answer

    # warm up: every query once
    for q in queries:
        ask("COUNT", q["query"])
    rng = random.Random(42)
    best = {}
    unsupported = collections.Counter()
    for r in range(args.rounds):
        order = [(c, i) for c in commands for i in range(len(queries))]
        rng.shuffle(order)
        for c, i in order:
            secs, answer = ask(c, queries[i]["query"])
            if answer == "UNSUPPORTED":
                unsupported[c] += 1
                continue
            key = (c, i)
            best[key] = min(best.get(key, secs), secs)
    proc.stdin.close()
    proc.wait()

    print(f"\nQueries: {queries_path} ({len(queries)} queries), best of {args.rounds} runs each, "
          f"latency measured by this script around one request/response line (includes pipe round trip).\n")
    tags = sorted({t for q in queries for t in q.get("tags", []) if ":" not in t and t != "global"})
    print("| command | mean µs | median µs | p99 µs | " + " | ".join(f"{t} mean µs" for t in tags) + " |")
    print("|---|---|---|---|" + "---|" * len(tags))
    for c in commands:
        lat = [best[(c, i)] * 1e6 for i in range(len(queries)) if (c, i) in best]
        if not lat:
            continue
        lat_sorted = sorted(lat)
        per_tag = []
        for t in tags:
            v = [best[(c, i)] * 1e6 for i, q in enumerate(queries) if (c, i) in best and t in q.get("tags", [])]
            per_tag.append(f"{statistics.mean(v):.0f}" if v else "-")
        print(f"| {c} | {statistics.mean(lat):.0f} | {statistics.median(lat):.0f} | "
              f"{lat_sorted[int(0.99 * (len(lat) - 1))]:.0f} | " + " | ".join(per_tag) + " |")
    if unsupported:
        print(f"\nUNSUPPORTED answers: {dict(unsupported)}")


if __name__ == "__main__":
    main()
