#!/usr/bin/env python3
"""Instruction counts per query: replays benchmark queries through `needle serve` under
valgrind's callgrind and reports, for each query, the instructions executed from the end of the
previous search call to the end of its own (its parse, its search and the answer line), with the
mean per query. A deterministic measure of CPU work that other jobs on the machine do not
disturb (wall-clock latencies come from driver.py).

One callgrind dump is taken after every call of the search entry point of the command
(Searcher::top_k for TOP_n, Searcher::top_k_with_count for TOP_n_COUNT, Searcher::count for
COUNT); the first query is sent twice and its first dump, which holds the process start-up and
the opening of the split, is dropped.

usage: callgrind_queries.py --needle build/bin/needle --split INDEX/index.split
                            --tag intersection --command TOP_10
                            [--queries aol-benchmark-queries.jsonl] [--out per-query.tsv]
                            [--default-field text]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ENTRY = {"COUNT": "needle::Searcher::count*", "TOP_10_COUNT": "needle::Searcher::top_k_with_count*",
         "TOP_100_COUNT": "needle::Searcher::top_k_with_count*",
         "TOP_1000_COUNT": "needle::Searcher::top_k_with_count*"}


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--needle", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--queries", default=os.path.join(root, "..", "shared", "data", "queries", "aol-benchmark-queries.jsonl"))
    ap.add_argument("--tag", required=True, help="queries with this tag (e.g. intersection)")
    ap.add_argument("--command", required=True, help="COUNT, TOP_10, TOP_100, TOP_1000, TOP_100_COUNT, ...")
    ap.add_argument("--default-field", default="text")
    ap.add_argument("--out", help="write query<TAB>instructions<TAB>answer lines here")
    args = ap.parse_args()

    queries = []
    with open(args.queries) as f:
        for line in f:
            q = json.loads(line)
            if args.tag in q["tags"]:
                queries.append(q["query"])
    if not queries:
        sys.exit(f"no query tagged {args.tag}")
    entry = ENTRY.get(args.command, "needle::Searcher::top_k(*")
    with tempfile.TemporaryDirectory(prefix="needle-callgrind-") as tmp:
        lines = [f"{args.command}\t{q}\n" for q in [queries[0]] + queries]
        out_file = os.path.join(tmp, "cg")
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-instr=no", f"--dump-after={entry}",
             f"--callgrind-out-file={out_file}", args.needle, "serve", args.split,
             "--default-field", args.default_field],
            input="".join(lines), capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(proc.stderr[-2000:])
        answers = proc.stdout.splitlines()[1:]
        dumps = sorted(glob.glob(out_file + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        counts = []
        for path in dumps[1:]:
            with open(path) as f:
                m = re.search(r"^summary: (\d+)$", f.read(), re.M)
            counts.append(int(m.group(1)) if m else 0)
    if len(counts) != len(queries) or len(answers) != len(queries):
        sys.exit(f"expected {len(queries)} dumps and answers, got {len(counts)} and {len(answers)}")
    if args.out:
        with open(args.out, "w") as f:
            for q, n, a in zip(queries, counts, answers):
                f.write(f"{q}\t{n}\t{a}\n")
    print(f"{args.tag} {args.command}: {len(queries)} queries, mean {sum(counts) / len(counts):,.0f} "
          f"instructions per query (total {sum(counts):,})")


if __name__ == "__main__":
    main()
