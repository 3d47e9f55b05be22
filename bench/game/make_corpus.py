#!/usr/bin/env python3
"""Makes the benchmark corpora in the search-benchmark-game's format: one {"id","text"} a line.

wiki   From the 30,539 English Wikipedia articles of ../shared/data/wiki-en-2015.jsonl.zst (or an
       uncompressed copy of it): for each article, `id` is the article id and `text` its `text`
       field (not the title, not the url), lower-cased with Python's str.lower(), then every
       character for which str.isalpha() is false replaced by one space. str.isalpha() is true
       for the Unicode general categories Lu, Ll, Lt, Lm and Lo (Python 3.11: Unicode 14), so
       digits, punctuation, symbols, whitespace, control characters and combining marks (Mn, Mc,
       e.g. the U+0307 that lower-casing 'İ' produces) all become spaces. Runs of spaces are kept
       as they are (one space per replaced character), as the game's corpus does. Every letter
       kept is a letter for needle's and Tantivy's `simple` tokenizer (Alphabetic) and not
       whitespace for Lucene's WhitespaceTokenizer, so the three engines see the same words.
       About 400 MB.

large  At least --min-bytes (default 1 GiB) for indexing throughput: the wiki corpus written out
       again and again. Copy k (k = 0, 1, ...) holds every wiki document once, in an order
       shuffled with random.Random(k), with the id "<id>-<k>". Deterministic: the same input
       gives the same bytes. Copies stop after the first one that reaches --min-bytes. Repeated
       text makes every term's document frequency a multiple of the copy count; that is fine for
       timing indexing, and the query benchmark uses the wiki corpus by default anyway.

usage: make_corpus.py [--work /tmp/needle-bench-game] [--corpus wiki|large] [--source PATH]
                      [--min-bytes N] [--force]
Prints the path of the corpus file. Files are written under a temporary name and renamed, so a
file that exists is complete; an existing one is kept unless --force.
"""
import argparse
import json
import os
import random
import subprocess
import sys


class _LettersOnly(dict):
    """str.translate table: a letter maps to itself, anything else to a space (filled lazily)."""

    def __missing__(self, cp):
        value = cp if chr(cp).isalpha() else 0x20
        self[cp] = value
        return value


_TABLE = _LettersOnly()


def normalize(text):
    return text.lower().translate(_TABLE)


def default_source(root):
    for p in ("/tmp/needle-bench/wiki.jsonl", os.path.join(root, "..", "shared", "data", "wiki-en-2015.jsonl.zst")):
        if os.path.exists(p):
            return p
    sys.exit("make_corpus.py: no source: pass --source wiki-en-2015.jsonl[.zst]")


def open_source(path):
    if path.endswith(".zst"):
        proc = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        return proc.stdout, proc
    return open(path, "rb"), None


def make_wiki(source, out):
    tmp = out + ".tmp"
    src, proc = open_source(source)
    n = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for raw in src:
            if not raw.strip():
                continue
            d = json.loads(raw)
            f.write(json.dumps({"id": str(d["id"]), "text": normalize(d.get("text") or "")}, ensure_ascii=False))
            f.write("\n")
            n += 1
    src.close()
    if proc is not None and proc.wait() != 0:
        os.unlink(tmp)
        sys.exit(f"make_corpus.py: zstd failed on {source}")
    os.replace(tmp, out)
    print(f"make_corpus.py: {n} documents from {source} -> {out} ({os.path.getsize(out) / 1e6:.1f} MB)", file=sys.stderr)


def make_large(wiki, out, min_bytes):
    with open(wiki, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    tmp = out + ".tmp"
    written = 0
    k = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        while written < min_bytes:
            order = list(range(len(docs)))
            random.Random(k).shuffle(order)
            for i in order:
                line = json.dumps({"id": f"{docs[i]['id']}-{k}", "text": docs[i]["text"]}, ensure_ascii=False) + "\n"
                f.write(line)
                written += len(line.encode("utf-8"))
            k += 1
    os.replace(tmp, out)
    print(f"make_corpus.py: {k} shuffled copies of {wiki} -> {out} ({os.path.getsize(out) / 1e6:.1f} MB)", file=sys.stderr)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/needle-bench-game")
    ap.add_argument("--corpus", choices=["wiki", "large"], default="wiki")
    ap.add_argument("--source", help="wiki-en-2015.jsonl or .jsonl.zst (default: an uncompressed copy in "
                    "/tmp/needle-bench if present, else ../shared/data)")
    ap.add_argument("--min-bytes", type=int, default=1 << 30, help="size of the large corpus (default 1 GiB)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    wiki = os.path.join(args.work, "wiki.jsonl")
    if args.force or not os.path.exists(wiki):
        make_wiki(args.source or default_source(root), wiki)
    out = wiki
    if args.corpus == "large":
        out = os.path.join(args.work, "large.jsonl")
        if args.force or not os.path.exists(out):
            make_large(wiki, out, args.min_bytes)
    print(out)


if __name__ == "__main__":
    main()
