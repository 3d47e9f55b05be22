#!/usr/bin/env python3
"""Reference counts: evaluates every benchmark query by brute force over the corpus and compares
the engines' COUNT answers (from the driver's raw JSON) with them.

The corpus is letters-only and lower-cased (make_corpus.py), so a document's words are
text.split(). Supported query forms are those of the AOL query set: clauses separated by spaces,
each a bare word or a "quoted phrase", optionally prefixed with + (must) or - (must not).
Semantics (Lucene/Tantivy/needle boolean logic): a document matches when it matches every +
clause, no - clause, and, when the query has no + clause, at least one unsigned clause; with a +
clause the unsigned clauses only score. A query of - clauses only matches every document without
them. A phrase matches when its words occur at consecutive positions. A query word that is not
all lower-case letters is normalized the way the corpus was (letters kept, the rest splits).

usage: check_counts.py --corpus wiki.jsonl [--queries aol-benchmark-queries.jsonl]
                       [--raw /tmp/needle-bench-game/raw-<date>-wiki-t1.json] [--command COUNT]
"""
import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_corpus import normalize  # noqa: E402

CLAUSE = re.compile(r'([+-]?)(?:"([^"]*)"|(\S+))')


def parse(query):
    """[(occur, [words])] with occur in '+', '-', ''."""
    clauses = []
    for m in CLAUSE.finditer(query):
        words = normalize(m.group(2) if m.group(2) is not None else m.group(3)).split()
        clauses.append((m.group(1), words))
    return clauses


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--queries", default=os.path.join(root, "..", "shared", "data", "queries", "aol-benchmark-queries.jsonl"))
    ap.add_argument("--raw", help="the driver's raw-*.json, to compare the engines' answers")
    ap.add_argument("--command", default="COUNT")
    args = ap.parse_args()

    queries = [json.loads(l) for l in open(args.queries, encoding="utf-8") if l.strip()]
    parsed = [parse(q["query"]) for q in queries]
    vocab = {w for p in parsed for _, words in p for w in words}
    # term -> doc -> positions, for the query words only
    postings = collections.defaultdict(dict)
    ndocs = 0
    with open(args.corpus, encoding="utf-8") as f:
        for doc, line in enumerate(f):
            ndocs += 1
            words = json.loads(line)["text"].split()
            for pos, w in enumerate(words):
                if w in vocab:
                    postings[w].setdefault(doc, []).append(pos)
    all_docs = set(range(ndocs))

    def clause_docs(words):
        if not words:
            return set()
        sets = [set(postings[w]) for w in words]
        docs = set.intersection(*sets)
        if len(words) == 1:
            return docs
        out = set()
        for d in docs:
            later = [set(postings[w][d]) for w in words[1:]]
            if any(all(p + i + 1 in later[i] for i in range(len(later))) for p in postings[words[0]][d]):
                out.add(d)
        return out

    reference = []
    for p in parsed:
        must = [clause_docs(w) for o, w in p if o == "+"]
        should = [clause_docs(w) for o, w in p if o == ""]
        must_not = [clause_docs(w) for o, w in p if o == "-"]
        if must:
            docs = set.intersection(*must)
        elif should:
            docs = set.union(*should)
        else:
            docs = set(all_docs)
        for n in must_not:
            docs -= n
        reference.append(len(docs))

    if not args.raw:
        for q, n in zip(queries, reference):
            print(f"{n}\t{q['query']}")
        return
    raw = json.load(open(args.raw))
    engines = raw["engines"]
    answers = raw["answers"]
    if [q["query"] for q in raw["queries"]] != [q["query"] for q in queries[: len(raw["queries"])]]:
        sys.exit("check_counts.py: the raw file was made with other queries")
    wrong = {e: [] for e in engines}
    for i in range(len(raw["queries"])):
        for e in engines:
            a = answers[e].get(f"{args.command}\t{i}")
            if a is not None and a != "UNSUPPORTED" and a != str(reference[i]):
                wrong[e].append(i)
    print(f"Reference counts (brute force over {ndocs} documents) against {args.command}:")
    for e in engines:
        print(f"- {e}: {len(raw['queries']) - len(wrong[e])} of {len(raw['queries'])} equal to the reference")
        for i in wrong[e][:20]:
            got = answers[e][args.command + "\t" + str(i)]
            print(f"    `{queries[i]['query']}`: {got} (reference {reference[i]})")


if __name__ == "__main__":
    main()
