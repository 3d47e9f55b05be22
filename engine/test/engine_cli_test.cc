// Drives the `needle` command-line tool end to end, as a user would.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>

#include "engine_test_util.h"

namespace needle {
namespace {

using testing::slurp;
using testing::spit;
using testing::TempDir;

std::string cli() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string self(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return self.substr(0, self.rfind('/')) + "/needle";
}

struct Run {
  int status;
  std::string out, err;
};

Run run(const TempDir& tmp, const std::string& args, const std::string& stdin_text = "") {
  spit(tmp.file("stdin"), stdin_text);
  std::string cmd = "'" + cli() + "' " + args + " < '" + tmp.file("stdin") + "' > '" + tmp.file("stdout") + "' 2> '" +
                    tmp.file("stderr") + "'";
  int rc = std::system(cmd.c_str());
  return Run{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(tmp.file("stdout")), slurp(tmp.file("stderr"))};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

const char* kSchema = R"({"fields":[{"name":"text","type":"text","stored":true},{"name":"id","type":"string","stored":true},{"name":"n","type":"i64"}]})";
const char* kDocs =
    "{\"text\":\"the quick brown fox\",\"id\":\"a\",\"n\":1}\n"
    "{\"text\":\"the lazy dog sleeps\",\"id\":\"b\",\"n\":2}\n"
    "\n"
    "{\"text\":\"a quick brown dog jumps\",\"id\":\"c\",\"n\":3}\n";

TEST(Cli, IndexSearchInspect) {
  TempDir tmp;
  spit(tmp.file("s.json"), kSchema);
  auto r = run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("o.split"), kDocs);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("3 documents"), std::string::npos) << r.err;
  ASSERT_TRUE(exists(tmp.file("o.split")));

  r = run(tmp, "search " + tmp.file("o.split") + " --query 'quick AND brown' --count");
  ASSERT_EQ(r.status, 0) << r.err;
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 3u) << r.out;
  EXPECT_EQ(ls.back(), "{\"count\":2}");
  EXPECT_NE(ls[0].find("\"_score\":"), std::string::npos);
  EXPECT_NE(ls[0].find("\"id\":"), std::string::npos);
  EXPECT_EQ(ls[0].rfind("{\"_doc\":", 0), 0u) << ls[0];

  r = run(tmp, "search " + tmp.file("o.split") + " --query 'n:>=2' --limit 1 --count");
  ASSERT_EQ(r.status, 0) << r.err;
  ls = lines(r.out);
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls.back(), "{\"count\":2}");

  r = run(tmp, "inspect " + tmp.file("o.split") + " --verify");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"num_docs\":3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"min\":1,\"max\":3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"checksums_verified\":true"), std::string::npos);
}

TEST(Cli, JsonFieldEndToEnd) {
  TempDir tmp;
  spit(tmp.file("s.json"),
       R"({"fields":[{"name":"id","type":"string","stored":true},)"
       R"({"name":"payload","type":"json","stored":true,"indexed":true,"tokenizer":"default","record":"position"}]})");
  std::string docs =
      "{\"id\":\"a\",\"payload\":{\"user\":{\"name\":\"alice\"},\"n\":3}}\n"
      "{\"id\":\"b\",\"payload\":{\"user\":{\"name\":\"bob\"},\"n\":4.5,\"tags\":[\"x\",\"y\"]}}\n";
  auto r = run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("o.split"), docs);
  ASSERT_EQ(r.status, 0) << r.err;

  r = run(tmp, "search " + tmp.file("o.split") + " --query 'payload.user.name:bob'");
  ASSERT_EQ(r.status, 0) << r.err;
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 1u) << r.out;
  EXPECT_NE(ls[0].find(R"("payload":{"user":{"name":"bob"},"n":4.5,"tags":["x","y"]})"), std::string::npos) << ls[0];

  r = run(tmp, "search " + tmp.file("o.split") + " --query 'payload.n:[3 TO 4]' --count");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out).back(), "{\"count\":1}");
  EXPECT_NE(r.out.find(R"("id":"a")"), std::string::npos) << r.out;

  r = run(tmp, "inspect " + tmp.file("o.split"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(R"("payload":{"type":"json","docs_with_value":2,"null_count":0})"), std::string::npos) << r.out;

  // Without a path a clause searches the root leaves: these values are objects, so alice (at
  // user.name) is not found there.
  r = run(tmp, "search " + tmp.file("o.split") + " --query 'payload:alice' --count");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out).back(), "{\"count\":0}");

  // A bad key names the line, the field and the path.
  r = run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("p.split"),
          docs + "{\"id\":\"c\",\"payload\":{\"user\":{\"a..b\":1}}}\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("field 'payload'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at path 'user'"), std::string::npos) << r.err;
}

TEST(Cli, BadLineStopsWithoutPartialSplit) {
  TempDir tmp;
  spit(tmp.file("s.json"), kSchema);
  std::string docs = std::string(kDocs) + "{\"text\":\"ok\",\"n\":\"not a number\"}\n";
  auto r = run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("o.split"), docs);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("line 5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("field 'n'"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(tmp.file("o.split")));
  // nothing left behind in the folder but our own files
  r = run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("o.split") + " --skip-bad-lines", docs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("skipped line 5"), std::string::npos) << r.err;
  auto names = open_fs_directory(tmp.path(), false)->list();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"o.split", "s.json", "stderr", "stdin", "stdout"}))
      << "a work folder or temporary file was left behind";
}

TEST(Cli, ErrorsAreClear) {
  TempDir tmp;
  spit(tmp.file("s.json"), kSchema);
  spit(tmp.file("bad.json"), R"({"fields":[{"name":"x","type":"strng"}]})");
  auto r = run(tmp, "index --schema " + tmp.file("bad.json") + " --output " + tmp.file("o.split"), kDocs);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown type 'strng'"), std::string::npos) << r.err;
  r = run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("o.split"), kDocs);
  ASSERT_EQ(r.status, 0);
  r = run(tmp, "search " + tmp.file("o.split") + " --query 'text:(quick'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("position"), std::string::npos) << r.err;
  r = run(tmp, "search " + tmp.file("o.split") + " --query 'nope:x'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown field 'nope'"), std::string::npos) << r.err;
  spit(tmp.file("junk.split"), "this is not a split at all, just text that is long enough");
  r = run(tmp, "search " + tmp.file("junk.split") + " --query x");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("CORRUPT"), std::string::npos) << r.err;
  r = run(tmp, "frobnicate");
  EXPECT_EQ(r.status, 2);
}

TEST(Cli, MergeAndServe) {
  TempDir tmp;
  spit(tmp.file("s.json"), kSchema);
  ASSERT_EQ(run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("a.split"), kDocs).status, 0);
  ASSERT_EQ(run(tmp, "index --schema " + tmp.file("s.json") + " --output " + tmp.file("b.split"), kDocs).status, 0);
  auto r = run(tmp, "merge " + tmp.file("m.split") + " " + tmp.file("a.split") + " " + tmp.file("b.split"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = run(tmp, "search " + tmp.file("m.split") + " --query quick --count --limit 0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"count\":4}\n");

  std::string session =
      "COUNT\tquick\n"
      "COUNT\t+quick +dog\n"
      "TOP_10\tquick\n"
      "TOP_100_COUNT\tthe\n"
      "COUNT\t\"brown fox\"\n"
      "FROB\tquick\n"
      "COUNT\t(unbalanced\n"
      "no tab here\n";
  r = run(tmp, "serve " + tmp.file("m.split"), session);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "4\n2\n1\n4\n2\nUNSUPPORTED\nUNSUPPORTED\nUNSUPPORTED\n");
}

}  // namespace
}  // namespace needle
