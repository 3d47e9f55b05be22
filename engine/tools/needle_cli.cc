// needle: the command-line tool of the engine. `needle help` lists the commands.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "needle/common/error.h"
#include "needle/index/index.h"
#include "needle/schema/document.h"
#include "needle/search/searcher.h"
#include "needle/split/split.h"
#include "needle/store/directory.h"

using namespace needle;

namespace {

constexpr const char* kUsage = R"(needle — full-text search engine

usage:
  needle index --schema S.json --output OUT.split [--memory-mb M] [--threads N]
               [--force-merge] [--compression zstd|lz4|none] [--work-dir DIR] [--skip-bad-lines]
               < docs.jsonl
  needle search SPLIT --query Q [--default-field F]... [--limit K] [--count] [--conjunction]
  needle inspect SPLIT [--verify]
  needle merge OUT.split IN1.split IN2.split...
  needle serve SPLIT [--default-field F]...
  needle help

Documents are JSON objects, one a line. The query language is documented in
docs/query-language.md; the schema in docs/format/schema.md.
)";

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "needle: %s\n(run 'needle help' for usage)\n", msg.c_str());
  std::exit(2);
}

struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> flags;

  bool flag(const std::string& name) const {
    for (const auto& f : flags) {
      if (f == name) return true;
    }
    return false;
  }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : options) {
      if (k == name) out.push_back(v);
    }
    return out;
  }
  std::string get(const std::string& name, const std::string& def = "") const {
    auto v = all(name);
    return v.empty() ? def : v.back();
  }
  uint64_t number(const std::string& name, uint64_t def, uint64_t min, uint64_t max) const {
    auto v = all(name);
    if (v.empty()) return def;
    char* end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(v.back().c_str(), &end, 10);
    if (errno != 0 || end == v.back().c_str() || *end != 0 || n < min || n > max) {
      usage_error("--" + name + " takes a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", not '" + v.back() + "'");
    }
    return n;
  }
};

Args parse_args(int argc, char** argv, int start, const std::vector<std::string>& value_options,
                const std::vector<std::string>& flag_options) {
  Args a;
  for (int i = start; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string name = s.substr(2), value;
      auto eq = name.find('=');
      bool has_value = eq != std::string::npos;
      if (has_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      bool takes_value = std::find(value_options.begin(), value_options.end(), name) != value_options.end();
      bool is_flag = std::find(flag_options.begin(), flag_options.end(), name) != flag_options.end();
      if (takes_value) {
        if (!has_value) {
          if (i + 1 >= argc) usage_error("--" + name + " needs a value");
          value = argv[++i];
        }
        a.options.emplace_back(name, value);
      } else if (is_flag && !has_value) {
        a.flags.push_back(name);
      } else {
        usage_error("unknown option --" + name);
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::kNotFound, path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads lines from stdin in large chunks.
class LineReader {
 public:
  explicit LineReader(FILE* f) : f_(f), buf_(1 << 20) {}
  bool next(std::string_view& line) {
    for (;;) {
      auto nl = static_cast<const char*>(std::memchr(buf_.data() + start_, '\n', end_ - start_));
      if (nl != nullptr) {
        size_t len = static_cast<size_t>(nl - (buf_.data() + start_));
        line = std::string_view(buf_.data() + start_, len);
        start_ += len + 1;
        bytes_ += len + 1;
        return true;
      }
      if (eof_) {
        if (start_ == end_) return false;
        line = std::string_view(buf_.data() + start_, end_ - start_);
        bytes_ += end_ - start_;
        start_ = end_;
        return true;
      }
      if (start_ > 0) {
        std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
      size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
      if (n == 0) eof_ = true;
      end_ += n;
    }
  }
  uint64_t bytes() const { return bytes_; }

 private:
  FILE* f_;
  std::vector<char> buf_;
  size_t start_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t bytes_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void remove_tree(const std::string& path) {
  try {
    auto dir = open_fs_directory(path, false);
    for (const auto& f : dir->list()) dir->remove(f);
  } catch (...) {
  }
  ::rmdir(path.c_str());
}

int cmd_index(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {"schema", "output", "memory-mb", "threads", "compression", "work-dir"},
                      {"force-merge", "skip-bad-lines"});
  if (!a.positional.empty()) usage_error("index takes no positional arguments");
  std::string schema_path = a.get("schema"), output = a.get("output");
  if (schema_path.empty()) usage_error("index needs --schema S.json");
  if (output.empty()) usage_error("index needs --output OUT.split");
  Schema schema = Schema::from_json(read_file(schema_path));
  IndexWriterOptions opts;
  opts.num_threads = static_cast<unsigned>(a.number("threads", 1, 1, 64));
  opts.memory_budget_bytes = a.number("memory-mb", 256, 1, 1 << 20) << 20;
  if (opts.memory_budget_bytes < (opts.num_threads << 20)) usage_error("--memory-mb must be at least the number of threads");
  std::string comp = a.get("compression", "zstd");
  auto c = parse_compression(comp);
  if (!c) usage_error("--compression is zstd, lz4 or none, not '" + comp + "'");
  opts.segment.store_compression = *c;
  const bool skip_bad = a.flag("skip-bad-lines");

  std::string work = a.get("work-dir", output + ".work-" + std::to_string(::getpid()));
  struct stat st;
  if (::stat(work.c_str(), &st) == 0) usage_error("work folder " + work + " already exists; remove it or pass --work-dir");
  std::shared_ptr<Directory> dir = open_fs_directory(work, true);
  struct Cleanup {
    std::string path;
    ~Cleanup() { remove_tree(path); }
  } cleanup{work};

  auto t0 = std::chrono::steady_clock::now();
  uint64_t docs = 0, bad = 0, line_no = 0;
  {
    auto writer = IndexWriter::create(dir, schema, opts);
    DocumentParser parser(schema);
    LineReader lines(stdin);
    std::string_view line;
    auto last_report = t0;
    const bool tty = isatty(2);
    while (lines.next(line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      try {
        writer->add_document(parser.parse(line));
        ++docs;
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kDocument || !skip_bad) {
          std::fprintf(stderr, "needle index: line %llu: %s\nnothing was written to %s\n",
                       static_cast<unsigned long long>(line_no), e.what(), output.c_str());
          return 1;
        }
        ++bad;
        if (bad <= 10) std::fprintf(stderr, "needle index: skipped line %llu: %s\n", static_cast<unsigned long long>(line_no), e.what());
      }
      if ((docs & 1023) == 0) {
        auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last_report).count() >= 2.0) {
          last_report = now;
          double secs = seconds_since(t0);
          std::fprintf(stderr, "%sneedle index: %llu documents, %.1f MB read, %.1f MB/s%s", tty ? "\r" : "",
                       static_cast<unsigned long long>(docs), lines.bytes() / 1e6, lines.bytes() / 1e6 / secs,
                       tty ? "" : "\n");
        }
      }
    }
    if (docs == 0 && bad == 0 && line_no == 0) std::fprintf(stderr, "needle index: no input on stdin; writing an empty split\n");
    writer->commit();
    if (a.flag("force-merge")) writer->force_merge();
    double secs = seconds_since(t0);
    write_split(*dir, output);
    struct stat out_st;
    ::stat(output.c_str(), &out_st);
    std::fprintf(stderr, "%sneedle index: %llu documents (%llu lines skipped) from %.1f MB in %.2f s (%.1f MB/s) -> %s (%.1f MB)\n",
                 isatty(2) ? "\n" : "", static_cast<unsigned long long>(docs), static_cast<unsigned long long>(bad),
                 lines.bytes() / 1e6, secs, lines.bytes() / 1e6 / secs, output.c_str(), out_st.st_size / 1e6);
  }
  return 0;
}

QueryOptions query_options(const Args& a) {
  QueryOptions qo;
  qo.default_fields = a.all("default-field");
  qo.default_conjunction = a.flag("conjunction");
  return qo;
}

int cmd_search(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {"query", "default-field", "limit"}, {"count", "conjunction"});
  if (a.positional.size() != 1) usage_error("search takes one split");
  if (a.all("query").empty()) usage_error("search needs --query Q");
  auto split = Split::open_file(a.positional[0]);
  Searcher searcher = Searcher::for_split(split);
  QueryPtr q = searcher.parse(a.get("query"), query_options(a));
  size_t limit = a.number("limit", 10, 0, 10000000);
  SearchResult r = searcher.top_k_with_count(*q, limit);
  std::string out;
  for (const auto& h : r.hits) {
    std::string stored = stored_to_json(searcher.schema(), searcher.doc(h));
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", static_cast<double>(h.score));
    out = "{\"_doc\":" + std::to_string(h.global_doc) + ",\"_score\":" + buf;
    if (stored.size() > 2) out += "," + stored.substr(1);
    else out += "}";
    std::puts(out.c_str());
  }
  if (a.flag("count")) std::printf("{\"count\":%llu}\n", static_cast<unsigned long long>(r.count));
  return 0;
}

int cmd_inspect(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {}, {"verify"});
  if (a.positional.size() != 1) usage_error("inspect takes one split");
  OpenOptions oo;
  oo.verify_checksums = a.flag("verify");
  auto split = Split::open_file(a.positional[0], oo);
  std::string m = split->metadata_json();
  std::string extra = ",\"split\":{\"path\":";
  append_json_string(extra, a.positional[0]);
  struct stat st;
  ::stat(a.positional[0].c_str(), &st);
  extra += ",\"size\":" + std::to_string(st.st_size) + ",\"footer_offset\":" + std::to_string(split->footer().offset) +
           ",\"footer_length\":" + std::to_string(split->footer().length) +
           ",\"checksums_verified\":" + (oo.verify_checksums ? "true" : "false") + ",\"files\":{";
  bool first = true;
  for (const auto& [name, e] : split->files()) {
    if (!first) extra += ",";
    first = false;
    append_json_string(extra, name);
    extra += ":{\"offset\":" + std::to_string(e.offset) + ",\"length\":" + std::to_string(e.length) + "}";
  }
  extra += "}}}";
  m.pop_back();
  std::puts((m + extra).c_str());
  return 0;
}

int cmd_merge(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {"work-dir"}, {});
  if (a.positional.size() < 2) usage_error("merge needs an output split and at least one input split");
  std::string out = a.positional[0];
  std::vector<std::string> inputs(a.positional.begin() + 1, a.positional.end());
  for (const auto& in : inputs) {
    if (in == out) usage_error("the output split cannot also be an input");
  }
  std::string work = a.get("work-dir", out + ".work-" + std::to_string(::getpid()));
  auto t0 = std::chrono::steady_clock::now();
  merge_splits(inputs, out, work);
  std::fprintf(stderr, "needle merge: %zu splits -> %s in %.2f s\n", inputs.size(), out.c_str(), seconds_since(t0));
  return 0;
}

int cmd_serve(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {"default-field"}, {"conjunction"});
  if (a.positional.size() != 1) usage_error("serve takes one split");
  auto split = Split::open_file(a.positional[0]);
  Searcher searcher = Searcher::for_split(split);
  QueryOptions qo = query_options(a);
  if (qo.default_fields.empty()) qo.default_fields.push_back("text");
  // std::cin synchronized with stdio reads one character per call; answers go through stdio.
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    auto tab = line.find('\t');
    std::string answer;
    if (tab == std::string::npos) {
      answer = "UNSUPPORTED";
    } else {
      std::string cmd = line.substr(0, tab), text = line.substr(tab + 1);
      size_t k = 0;
      bool count = false, known = true;
      if (cmd == "COUNT") count = true;
      else if (cmd == "TOP_10") k = 10;
      else if (cmd == "TOP_100") k = 100;
      else if (cmd == "TOP_1000") k = 1000;
      else if (cmd == "TOP_10_COUNT") k = 10, count = true;
      else if (cmd == "TOP_100_COUNT") k = 100, count = true;
      else if (cmd == "TOP_1000_COUNT") k = 1000, count = true;
      else known = false;
      if (!known) {
        answer = "UNSUPPORTED";
      } else {
        try {
          QueryPtr q = searcher.parse(text, qo);
          if (count && k == 0) {
            answer = std::to_string(searcher.count(*q));
          } else if (count) {
            answer = std::to_string(searcher.top_k_with_count(*q, k).count);
          } else {
            searcher.top_k(*q, k);
            answer = "1";
          }
        } catch (const Error& e) {
          if (e.code() != ErrorCode::kQueryParse && e.code() != ErrorCode::kQuery) throw;
          answer = "UNSUPPORTED";
        }
      }
    }
    std::fputs(answer.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  try {
    if (cmd == "index") return cmd_index(argc, argv);
    if (cmd == "search") return cmd_search(argc, argv);
    if (cmd == "inspect") return cmd_inspect(argc, argv);
    if (cmd == "merge") return cmd_merge(argc, argv);
    if (cmd == "serve") return cmd_serve(argc, argv);
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    usage_error("unknown command '" + cmd + "'");
  } catch (const Error& e) {
    std::fprintf(stderr, "needle %s: error [%s]: %s\n", cmd.c_str(), std::string(error_code_name(e.code())).c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "needle %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
