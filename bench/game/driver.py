#!/usr/bin/env python3
"""Side-by-side search-engine benchmark: needle against Tantivy and Lucene (bench/game/README.md).

Builds nothing. Each engine is a folder bench/engines/<name> holding executables:
    index INDEX_DIR < corpus.jsonl   (env THREADS, MEMORY_MB) ends with one merged segment
    serve INDEX_DIR                  one line `COMMAND<TAB>query` in, one line out
    version                          prints the engine's version (optional)

For every engine: run `index` (timed: wall seconds, input MB/s, CPU seconds, peak RSS, size of
INDEX_DIR on disk), start `serve`, warm up (every query once for every command), then for each
round and each command replay the queries in a shuffled order (the same seed, so the same order,
for every engine) and keep each query's best time. One engine runs at a time.

Prints markdown tables (also written to --out): latency per command, per query tag, indexing;
COUNT answers compared across engines; UNSUPPORTED answers per engine. Every answer and best
time goes to WORK/raw-<name of --out>.json (input of check_counts.py).

usage: driver.py --corpus wiki.jsonl [--engines needle,tantivy,lucene] [--threads 1]
                 [--memory-mb 1024] [--rounds 10] [--commands COUNT,TOP_10,...] [--work DIR]
                 [--out results.md] [--skip-index] [--limit-queries N]
"""
import argparse
import collections
import datetime
import json
import math
import os
import platform
import random
import select
import shlex
import statistics
import subprocess
import sys
import time

COUNT_COMMANDS = ("COUNT", "TOP_10_COUNT", "TOP_100_COUNT", "TOP_1000_COUNT")
MAIN_TAGS_ORDER = ["term", "union", "intersection", "phrase", "negated", "intersection_union"]


def log(msg):
    print(f"[driver {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def dir_size(path):
    total = 0
    for base, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(base, f)).st_size
            except FileNotFoundError:
                pass
    return total


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def machine_info():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    distro = ""
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, {mem_gib:.0f} GiB RAM, {distro} ({platform.release()})"


class Server:
    """An engine's `serve` process, spoken to one line at a time."""

    def __init__(self, cmd, log_path, timeout):
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_file, bufsize=0)
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.timeout = timeout
        self.log_path = log_path

    def ask(self, command, query):
        """Returns (seconds, answer) around writing one request line and reading one answer line."""
        data = f"{command}\t{query}\n".encode("utf-8")
        t0 = time.perf_counter()
        self.proc.stdin.write(data)
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.fd], [], [], self.timeout)
            if not ready:
                raise RuntimeError(f"no answer within {self.timeout} s to {command}\t{query}")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                tail = open(self.log_path, errors="replace").read()[-2000:]
                raise RuntimeError(f"serve exited (code {self.proc.poll()}) on {command}\t{query}; its stderr:\n{tail}")
            self.buf += chunk
        secs = time.perf_counter() - t0
        line, self.buf = self.buf.split(b"\n", 1)
        return secs, line.decode("utf-8", errors="replace").strip()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


def run_index(engine_dir, index_dir, corpus, env, log_path):
    """Runs the engine's index step; returns wall seconds, CPU seconds, peak RSS bytes."""
    with open(corpus, "rb") as stdin, open(log_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([os.path.join(engine_dir, "index"), index_dir], stdin=stdin, stdout=err, stderr=err, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = open(log_path, errors="replace").read()[-3000:]
        raise RuntimeError(f"{engine_dir}/index failed with code {proc.returncode}:\n{tail}")
    return secs, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024


def fmt_us(secs):
    return f"{secs * 1e6:,.0f}"


def ratio(a, b):
    return f"{a / b:.2f}" if b else "–"


def write_report(lines, out_path):
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(report)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    bench = os.path.dirname(here)
    root = os.path.dirname(bench)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="needle,tantivy,lucene")
    ap.add_argument("--engines-dir", default=os.path.join(bench, "engines"))
    ap.add_argument("--corpus", required=True, help="{id,text} JSON lines (make_corpus.py)")
    ap.add_argument("--queries", default=os.path.join(root, "..", "shared", "data", "queries", "aol-benchmark-queries.jsonl"))
    ap.add_argument("--work", default="/tmp/needle-bench-game", help="indexes and logs go here")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--memory-mb", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=10, help="timed runs of every query; the best is kept")
    ap.add_argument("--commands", default="COUNT,TOP_10,TOP_100,TOP_1000,TOP_100_COUNT")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for one answer")
    ap.add_argument("--index-runs", type=int, default=1,
                    help="index each engine this many times and keep the fastest run (for a noisy machine)")
    ap.add_argument("--skip-index", action="store_true", help="reuse the indexes already in --work")
    ap.add_argument("--limit-queries", type=int, default=0, help="only the first N queries (for a quick try)")
    ap.add_argument("--show-counts", action="store_true", help="list every query's counts, not only the differing ones")
    ap.add_argument("--out", help="markdown results file (default bench/results/<date>-<corpus>-t<threads>.md)")
    ap.add_argument("--command-line", help="the command to record in the results (default: this script's)")
    args = ap.parse_args()

    engines = [e for e in args.engines.split(",") if e]
    commands = [c for c in args.commands.split(",") if c]
    corpus = os.path.abspath(args.corpus)
    corpus_name = os.path.splitext(os.path.basename(corpus))[0]
    corpus_bytes = os.path.getsize(corpus)
    queries = [json.loads(l) for l in open(args.queries, encoding="utf-8") if l.strip()]
    if args.limit_queries:
        queries = queries[: args.limit_queries]
    for e in engines:
        for step in ("index", "serve"):
            if not os.access(os.path.join(args.engines_dir, e, step), os.X_OK):
                sys.exit(f"driver.py: {args.engines_dir}/{e}/{step} is missing or not executable")
    os.makedirs(os.path.join(args.work, "logs"), exist_ok=True)
    date = datetime.date.today().isoformat()
    out_path = args.out or os.path.join(bench, "results", f"{date}-{corpus_name}-t{args.threads}.md")

    versions = {}
    for e in engines:
        v = os.path.join(args.engines_dir, e, "version")
        versions[e] = (subprocess.run([v], capture_output=True, text=True).stdout.strip() or "unknown") if os.access(v, os.X_OK) else "unknown"
    env = dict(os.environ, THREADS=str(args.threads), MEMORY_MB=str(args.memory_mb))

    load_start = f"{os.getloadavg()[0]:.2f}"

    # ---- indexing -------------------------------------------------------------------------
    indexing = {}
    index_dirs = {e: os.path.join(args.work, "index", f"{e}-{corpus_name}") for e in engines}
    if not args.skip_index:
        log(f"reading {corpus} once so every engine starts with it in the page cache")
        with open(corpus, "rb") as f:
            while f.read(1 << 24):
                pass
    if args.skip_index:
        for e in engines:
            if not os.path.isdir(index_dirs[e]):
                sys.exit(f"driver.py: --skip-index but {index_dirs[e]} does not exist")
    else:
        # Runs interleave the engines (run 1 of each, then run 2 of each, ...), so a change of
        # load during the benchmark falls on every engine alike.
        for run in range(max(1, args.index_runs)):
            for e in engines:
                d = index_dirs[e]
                subprocess.run(["rm", "-rf", d], check=True)
                log(f"{e}: indexing {corpus_name} ({corpus_bytes / 1e6:.0f} MB) with {args.threads} thread(s), "
                    f"{args.memory_mb} MB (run {run + 1}/{max(1, args.index_runs)})")
                secs, cpu, rss = run_index(os.path.join(args.engines_dir, e), d, corpus, env,
                                           os.path.join(args.work, "logs", f"{e}-{corpus_name}-index.log"))
                m = {"seconds": secs, "cpu": cpu, "rss": rss, "size": dir_size(d), "all_seconds": []}
                m["all_seconds"] = indexing.get(e, m)["all_seconds"] + [secs]
                if e not in indexing or secs < indexing[e]["seconds"]:
                    indexing[e] = m
                indexing[e]["all_seconds"] = m["all_seconds"]
                log(f"{e}: {secs:.1f} s, {corpus_bytes / 1e6 / secs:.1f} MB/s, index {m['size'] / 1e6:.1f} MB")

    # ---- queries --------------------------------------------------------------------------
    best = {e: {} for e in engines}           # engine -> (command, qi) -> seconds
    answers = {e: {} for e in engines}        # engine -> (command, qi) -> answer (first seen)
    unstable = {e: [] for e in engines}       # answers that changed between runs
    unsupported = {e: collections.Counter() for e in engines}
    floor = {}                                # engine -> median seconds of an UNSUPPORTED round trip
    # Every engine's server runs at once and each query is asked of every engine in turn (the
    # order of the engines rotating from query to query), so a change of the machine's state
    # during the run (load, or how long an idle CPU takes to wake up for a pipe) falls on all
    # engines alike instead of on whichever was being measured then.
    servers = {}
    try:
        for e in (engines if commands else []):  # no commands: an indexing-only run
            servers[e] = Server([os.path.join(args.engines_dir, e, "serve"), index_dirs[e]],
                                os.path.join(args.work, "logs", f"{e}-{corpus_name}-serve.log"), args.timeout)
        if servers:
            log(f"serving {', '.join(engines)}: warm-up then {args.rounds} round(s) of {len(commands)} x {len(queries)} queries, "
                "engines interleaved")
            for e in engines:
                for c in commands:
                    for i, q in enumerate(queries):
                        _, a = servers[e].ask(c, q["query"])
                        answers[e][(c, i)] = a
                        if a == "UNSUPPORTED":
                            unsupported[e][c] += 1
            # The protocol's floor: an unknown command, answered UNSUPPORTED without any search.
            pings = {e: [] for e in engines}
            for k in range(2000):
                for j in range(len(engines)):
                    e = engines[(k + j) % len(engines)]
                    pings[e].append(servers[e].ask("PING", "x")[0])
            floor = {e: statistics.median(pings[e]) for e in engines}
        for r in range(args.rounds if servers else 0):
            t0 = time.perf_counter()
            turn = 0
            for c in commands:
                order = list(range(len(queries)))
                random.Random(f"{args.seed}/{r}/{c}").shuffle(order)
                for i in order:
                    turn += 1
                    for j in range(len(engines)):
                        e = engines[(turn + j) % len(engines)]
                        secs, a = servers[e].ask(c, queries[i]["query"])
                        if a != answers[e][(c, i)]:
                            unstable[e].append((c, i, answers[e][(c, i)], a))
                        if a == "UNSUPPORTED":
                            continue
                        key = (c, i)
                        if key not in best[e] or secs < best[e][key]:
                            best[e][key] = secs
            log(f"round {r + 1}/{args.rounds} in {time.perf_counter() - t0:.1f} s")
    finally:
        for server in servers.values():
            server.close()

    # ---- report ---------------------------------------------------------------------------
    lines = []
    emit = lines.append
    others = [e for e in engines if e != "needle"]
    has_needle = "needle" in engines and others
    cmdline = args.command_line or " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv)
    emit(f"# Search-engine benchmark — {date}")
    emit("")
    emit(f"- machine: {machine_info()}; load average {load_start} at the start, {os.getloadavg()[0]:.2f} at the end")
    emit(f"- command: `{cmdline}`")
    emit(f"- corpus: `{corpus}` ({corpus_bytes / 1e6:.1f} MB, {sum(1 for _ in open(corpus, 'rb'))} documents)")
    emit(f"- queries: `{os.path.abspath(args.queries)}` ({len(queries)} queries)")
    emit(f"- indexing: {args.threads} thread(s), {args.memory_mb} MB memory budget, force-merged to one segment"
         + (f"; best of {args.index_runs} runs" if args.index_runs > 1 and not args.skip_index else ""))
    emit(f"- queries: warm-up (every query once per command), then {args.rounds} rounds in shuffled order "
         f"(seed {args.seed}), every query asked of every engine in turn (rotating which goes first), all servers "
         f"running at once; each query's best time is kept. Latency is measured "
         f"by the driver around one request/response line, so it includes the pipe round trip (see the floor below).")
    for e in engines:
        emit(f"- {e}: {versions[e]}")
    emit("")

    if indexing:
        emit("## Indexing")
        emit("")
        base = indexing.get("tantivy")
        emit("Wall time of the whole `index` step (process start, reading and parsing the JSON, indexing, "
             "merging into one segment, final commit/split); CPU and peak RSS of that process.")
        emit("")
        emit("| engine | seconds | MB/s (input) | index MB | index / input | CPU s | peak RSS MB | time / tantivy | size / tantivy |")
        emit("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for e in engines:
            m = indexing[e]
            emit(f"| {e} | {m['seconds']:.1f} | {corpus_bytes / 1e6 / m['seconds']:.1f} | {m['size'] / 1e6:.1f} | "
                 f"{m['size'] / corpus_bytes:.2f} | {m['cpu']:.1f} | {m['rss'] / 2**20:.0f} | "
                 f"{ratio(m['seconds'], base['seconds']) if base else '–'} | {ratio(m['size'], base['size']) if base else '–'} |")
        emit("")
        if args.index_runs > 1:
            emit("All runs (s): " + "; ".join(f"{e} " + ", ".join(f"{x:.1f}" for x in indexing[e]["all_seconds"]) for e in engines))
            emit("")

    # Latency statistics over the queries every engine answered.
    def common_keys(c):
        return [i for i in range(len(queries)) if all((c, i) in best[e] for e in engines)]

    if not commands:
        emit("No query command was run (indexing only).")
        write_report(lines, out_path)
        return

    emit("## Latency per command")
    emit("")
    emit("Over the queries that every engine answered (UNSUPPORTED answers are left out), in µs. "
         "Round-trip floor (median time to answer an unknown command with UNSUPPORTED, no search): "
         + ", ".join(f"{e} {fmt_us(floor[e])} µs" for e in engines) + ".")
    emit("")
    head = "| command | queries | statistic | " + " | ".join(engines) + (" | needle / best other |" if has_needle else " |")
    emit(head)
    emit("|---|---:|---|" + "---:|" * len(engines) + ("---:|" if has_needle else ""))
    for c in commands:
        keys = common_keys(c)
        if not keys:
            emit(f"| {c} | 0 | – |" + " – |" * len(engines) + (" – |" if has_needle else ""))
            continue
        for stat_name, fn in (("mean", statistics.fmean), ("median", statistics.median),
                              ("p90", lambda v: percentile(v, 90)), ("p99", lambda v: percentile(v, 99))):
            vals = {e: fn([best[e][(c, i)] for i in keys]) for e in engines}
            row = f"| {c} | {len(keys)} | {stat_name} | " + " | ".join(fmt_us(vals[e]) for e in engines)
            if has_needle:
                row += f" | {ratio(vals['needle'], min(vals[o] for o in others))}"
            emit(row + " |")
    emit("")

    tags = [t for t in MAIN_TAGS_ORDER if any(t in q.get("tags", []) for q in queries)]
    tags += sorted({t for q in queries for t in q.get("tags", []) if ":" not in t and t not in tags})
    emit("## Mean latency per query tag")
    emit("")
    emit("In µs, over the queries of the tag that every engine answered.")
    emit("")
    for c in commands:
        keys = set(common_keys(c))
        emit(f"### {c}")
        emit("")
        emit("| tag | queries | " + " | ".join(engines) + (" | needle / best other |" if has_needle else " |"))
        emit("|---|---:|" + "---:|" * len(engines) + ("---:|" if has_needle else ""))
        for t in tags:
            ids = [i for i in keys if t in queries[i].get("tags", [])]
            if not ids:
                continue
            vals = {e: statistics.fmean(best[e][(c, i)] for i in ids) for e in engines}
            row = f"| {t} | {len(ids)} | " + " | ".join(fmt_us(vals[e]) for e in engines)
            if has_needle:
                row += f" | {ratio(vals['needle'], min(vals[o] for o in others))}"
            emit(row + " |")
        emit("")

    emit("## Unsupported answers")
    emit("")
    emit("| engine | " + " | ".join(commands) + " |")
    emit("|---|" + "---:|" * len(commands))
    for e in engines:
        emit(f"| {e} | " + " | ".join(str(unsupported[e][c]) for c in commands) + " |")
    emit("")

    emit("## Counts compared")
    emit("")
    count_cmds = [c for c in commands if c in COUNT_COMMANDS]
    disagreements = []
    if count_cmds:
        c0 = count_cmds[0]
        for i, q in enumerate(queries):
            got = {e: answers[e][(c0, i)] for e in engines}
            if len(set(got.values())) > 1 or args.show_counts:
                disagreements.append((i, got))
        ndiff = sum(1 for _, got in disagreements if len(set(got.values())) > 1)
        emit(f"{c0}: {len(queries) - ndiff} of {len(queries)} queries get the same answer from every engine; "
             f"{ndiff} differ.")
        emit("")
        if disagreements:
            emit("| query | tags | " + " | ".join(engines) + " |")
            emit("|---|---|" + "---:|" * len(engines))
            for i, got in disagreements:
                tags_s = ", ".join(t for t in queries[i].get("tags", []) if "num_tokens" not in t and t != "global")
                query_s = queries[i]["query"].replace("|", "\\|")
                emit(f"| `{query_s}` | {tags_s} | " + " | ".join(got[e] for e in engines) + " |")
            emit("")
        # Within one engine, every counting command must agree with the first.
        for e in engines:
            bad = [(c, i) for c in count_cmds[1:] for i in range(len(queries))
                   if answers[e][(c, i)] not in ("UNSUPPORTED", answers[e][(c0, i)])
                   and answers[e][(c0, i)] != "UNSUPPORTED"]
            if bad:
                emit(f"- {e}: {len(bad)} answers of other counting commands differ from its {c0}, e.g. "
                     + ", ".join(f"{c} `{queries[i]['query']}` = {answers[e][(c, i)]} vs {answers[e][(c0, i)]}" for c, i in bad[:5]))
        for e in engines:
            if unstable[e]:
                c, i, a0, a1 = unstable[e][0]
                emit(f"- {e}: {len(unstable[e])} answers changed between runs, e.g. {c} `{queries[i]['query']}`: {a0} then {a1}")
        emit("")
    else:
        emit("No counting command was run.")
        emit("")

    write_report(lines, out_path)
    raw = os.path.join(args.work, "raw-" + os.path.splitext(os.path.basename(out_path))[0] + ".json")
    with open(raw, "w") as f:
        json.dump({"engines": engines, "commands": commands, "queries": queries, "indexing": indexing,
                   "best_seconds": {e: {f"{c}\t{i}": s for (c, i), s in best[e].items()} for e in engines},
                   "answers": {e: {f"{c}\t{i}": a for (c, i), a in answers[e].items()} for e in engines}}, f)
    log(f"results in {out_path}; raw timings in {raw}")


if __name__ == "__main__":
    main()
