#!/usr/bin/env python3
"""Instructions per query (callgrind) of `needle serve`, by query tag and command.

For each (tag, command) it replays the tag's queries of the AOL set through `needle serve` under
`valgrind --tool=callgrind` and adds up the inclusive instructions of the Searcher calls that
serve does per query (parse, count, top_k, top_k_with_count): the mean instructions a query costs
in the engine, robust to machine load (unlike wall clock). Opening the split and library set-up
(libhwy measures its timer at load, a non-deterministic count) are left out; reading the request
and writing the answer too.

  python3 bench/game/callgrind_tags.py --needle build/bin/needle --split /tmp/idx/index.split \
      [--tags phrase,intersection] [--commands COUNT,TOP_10] [--limit N]
"""
import argparse, json, os, re, subprocess, sys, tempfile

def instructions(needle, split, lines):
    with tempfile.TemporaryDirectory() as d:
        inp = os.path.join(d, "in.txt")
        with open(inp, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        out = os.path.join(d, "cg.out")
        with open(inp) as stdin:
            r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                                needle, "serve", split, "--default-field", "text"],
                               stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        total = 0
        for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S*needle::Searcher::(parse|count|top_k|top_k_with_count)\(", ann, re.M):
            total += int(m.group(1).replace(",", ""))
        return total, r.stdout.split("\n")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--needle", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--queries", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/queries/aol-benchmark-queries.jsonl"))
    ap.add_argument("--tags", default="phrase,intersection,union,intersection_union,negated")
    ap.add_argument("--commands", default="COUNT,TOP_10,TOP_100,TOP_1000,TOP_100_COUNT")
    ap.add_argument("--limit", type=int, default=0, help="first N queries of each tag only")
    ap.add_argument("--answers", help="write every answer to this file (to compare runs)")
    a = ap.parse_args()
    by_tag = {}
    for line in open(a.queries):
        q = json.loads(line)
        for t in q["tags"]:
            if ":" not in t and t != "global":
                by_tag.setdefault(t, []).append(q["query"])
    answers = []
    print("| tag | command | queries | instructions / query |")
    print("|---|---|---:|---:|")
    for tag in a.tags.split(","):
        qs = by_tag[tag][: a.limit or None]
        for cmd in a.commands.split(","):
            n, out = instructions(a.needle, a.split, [cmd + "\t" + q for q in qs])
            answers += [f"{tag}\t{cmd}\t{q}\t{o}" for q, o in zip(qs, out)]
            print(f"| {tag} | {cmd} | {len(qs)} | {n / len(qs):,.0f} |", flush=True)
    if a.answers:
        with open(a.answers, "w") as f:
            f.write("\n".join(answers) + "\n")

if __name__ == "__main__":
    main()
