#!/usr/bin/env python3
"""Compares needle's top 10 with Tantivy's, query by query (both score with BM25 k1=1.2, b=0.75).

Needs the indexes the driver built (BENCH_WORK/index/{needle,tantivy}-<corpus>). needle's hits
come from `needle search --limit 10`, Tantivy's from the tantivy-bench serve command
DEBUG_TOP_10_IDS. Counts the queries whose top 10 is identical, holds the same documents in
another order, or other documents, and how far the scores of the same document differ.

needle's BM25 takes avgdl as the mean of the *decoded* one-byte field norms (docs/scoring.md),
Tantivy as the true mean token count, so scores differ slightly (4.5% smaller avgdl on the wiki
corpus) and near-ties can swap.

usage: compare_top.py [--work /tmp/needle-bench-game] [--corpus-name wiki] [--limit N]
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/needle-bench-game")
    ap.add_argument("--corpus-name", default="wiki")
    ap.add_argument("--queries", default=os.path.join(root, "..", "shared", "data", "queries", "aol-benchmark-queries.jsonl"))
    ap.add_argument("--needle", default=os.path.join(root, "build", "bin", "needle"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--show", type=int, default=5, help="queries with other documents to print")
    args = ap.parse_args()
    queries = [json.loads(l) for l in open(args.queries, encoding="utf-8") if l.strip()]
    if args.limit:
        queries = queries[: args.limit]
    split = os.path.join(args.work, "index", f"needle-{args.corpus_name}", "index.split")
    tantivy = subprocess.Popen([os.path.join(root, "bench", "engines", "tantivy", "serve"),
                                os.path.join(args.work, "index", f"tantivy-{args.corpus_name}")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    same_list, same_set, diff_set, score_diff = 0, 0, [], []
    max_rel = 0.0
    for q in queries:
        tantivy.stdin.write(f"DEBUG_TOP_10_IDS\t{q['query']}\n")
        tantivy.stdin.flush()
        t_hits = [(h[0], float(h[1])) for h in json.loads(tantivy.stdout.readline())]
        out = subprocess.run([args.needle, "search", split, "--query", q["query"], "--default-field", "text",
                              "--limit", "10"], capture_output=True, text=True, check=True).stdout
        n_hits = [(d["id"], float(d["_score"])) for d in map(json.loads, out.splitlines())]
        # Scores of the same document in both lists.
        t_score = dict(t_hits)
        rel = [abs(s - t_score[i]) / max(abs(t_score[i]), 1e-9) for i, s in n_hits if i in t_score]
        if rel and max(rel) > args.tolerance:
            score_diff.append(q["query"])
        max_rel = max([max_rel] + rel)
        if [i for i, _ in n_hits] == [i for i, _ in t_hits]:
            same_list += 1
        elif {i for i, _ in n_hits} == {i for i, _ in t_hits}:
            same_set += 1
        else:
            diff_set.append((q["query"], n_hits, t_hits))
    tantivy.stdin.close()
    tantivy.wait()
    print(f"{len(queries)} queries: top 10 identical in {same_list}, same documents in another order in {same_set}, "
          f"other documents in {len(diff_set)}")
    print(f"score of a document in both top 10s differs by more than {args.tolerance:g} (relative) in "
          f"{len(score_diff)} queries; largest relative difference {max_rel:.4f}")
    for q, n, t in diff_set[: args.show]:
        print(f"  `{q}`\n    needle  {[(i, round(s, 4)) for i, s in n]}\n    tantivy {[(i, round(s, 4)) for i, s in t]}")


if __name__ == "__main__":
    main()
