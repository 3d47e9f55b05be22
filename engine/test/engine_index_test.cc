// IndexWriter and split behaviour: determinism, commits, rollback, deletes, budget, remote open.
#include <gtest/gtest.h>

#include <atomic>

#include "engine_test_util.h"
#include "needle/search/searcher.h"

namespace needle {
namespace {

using testing::TempDir;

const char* kSchema = R"({"fields":[{"name":"body","type":"text","stored":true},{"name":"tag","type":"string","stored":true},{"name":"n","type":"i64","stored":true}]})";

std::vector<std::string> docs(size_t n, size_t offset = 0) {
  std::vector<std::string> out;
  const char* words[] = {"error", "disk", "host", "login", "failed", "ok", "cpu", "memory", "powershell.exe"};
  for (size_t i = offset; i < offset + n; ++i) {
    std::string body;
    for (size_t k = 0; k < 6 + i % 5; ++k) body += std::string(k ? " " : "") + words[(i * 7 + k * 3) % 9];
    out.push_back("{\"body\":\"" + body + "\",\"tag\":\"t" + std::to_string(i % 4) + "\",\"n\":" + std::to_string(i) + "}");
  }
  return out;
}

uint64_t count(const std::shared_ptr<Directory>& dir, const std::string& q) {
  IndexMeta meta = read_index_meta(*dir);
  auto segs = open_segments(directory_lookup(*dir), meta, OpenOptions{});
  Searcher s(segs, meta.schema, analyzers_for(meta.schema));
  return s.count(*s.parse(q));
}

TEST(IndexWriter, OneThreadIsByteIdentical) {
  TempDir tmp;
  IndexWriterOptions opts;
  opts.memory_budget_bytes = 1 << 20;
  testing::build_split(kSchema, docs(3000), tmp.file("a.split"), opts);
  testing::build_split(kSchema, docs(3000), tmp.file("b.split"), opts);
  std::string a = testing::slurp(tmp.file("a.split")), b = testing::slurp(tmp.file("b.split"));
  ASSERT_GT(a.size(), 1000u);
  EXPECT_TRUE(a == b) << "two runs over the same input gave different splits";
}

TEST(IndexWriter, CommitRollbackReopen) {
  std::shared_ptr<Directory> dir = new_ram_directory();
  Schema schema = Schema::from_json(kSchema);
  {
    auto w = IndexWriter::create(dir, schema);
    DocumentParser p(schema);
    for (auto& d : docs(100)) w->add_document(p.parse(d));
    EXPECT_EQ(count(dir, "*"), 0u) << "documents visible before commit";
    w->commit();
    EXPECT_EQ(count(dir, "*"), 100u);
    for (auto& d : docs(50, 100)) w->add_document(p.parse(d));
    w->rollback();
    w->commit();
    EXPECT_EQ(count(dir, "*"), 100u) << "rolled-back documents became visible";
    for (auto& d : docs(10, 100)) w->add_document(p.parse(d));
    // destroyed without commit: discarded
  }
  EXPECT_EQ(count(dir, "*"), 100u);
  EXPECT_THROW(IndexWriter::create(dir, schema), Error);
  {
    auto w = IndexWriter::open(dir);
    DocumentParser p(w->schema());
    for (auto& d : docs(20, 100)) w->add_document(p.parse(d));
    w->delete_term(w->schema().find("tag")->id, "t1");
    w->commit();
  }
  // t1 = i % 4 == 1 among 0..119, all added before the delete
  EXPECT_EQ(count(dir, "*"), 90u);
  EXPECT_EQ(count(dir, "tag:t1"), 0u);
  // no stray files: meta.json and segment files only
  for (const auto& f : dir->list()) EXPECT_TRUE(f == "meta.json" || f.rfind("seg-", 0) == 0) << f;
}

TEST(IndexWriter, DeleteAppliesOnlyToEarlierDocuments) {
  std::shared_ptr<Directory> dir = new_ram_directory();
  Schema schema = Schema::from_json(kSchema);
  auto w = IndexWriter::create(dir, schema);
  DocumentParser p(schema);
  w->add_document(p.parse(R"({"tag":"x","n":1})"));
  w->delete_term(schema.find("tag")->id, "x");
  w->add_document(p.parse(R"({"tag":"x","n":2})"));
  w->commit();
  EXPECT_EQ(count(dir, "tag:x"), 1u);
  EXPECT_EQ(count(dir, "n:2"), 1u);
  QueryPtr q = parse_and_build("n:2", schema, *analyzers_for(schema), {});
  w->delete_matching(make_doc_matcher(q, schema));
  w->commit();
  EXPECT_EQ(count(dir, "*"), 0u);
  EXPECT_TRUE(w->committed().segments.empty()) << "a fully deleted segment should be dropped";
}

TEST(IndexWriter, MemoryBudgetFlushesSegments) {
  std::shared_ptr<Directory> dir = new_ram_directory();
  Schema schema = Schema::from_json(kSchema);
  IndexWriterOptions opts;
  opts.memory_budget_bytes = 1 << 20;
  opts.merge_policy.enabled = false;
  auto w = IndexWriter::create(dir, schema, opts);
  DocumentParser p(schema);
  for (auto& d : docs(20000)) w->add_document(p.parse(d));
  w->commit();
  EXPECT_GT(w->flushed_segments(), 2u) << "a 1 MiB budget should have forced several flushes";
  EXPECT_EQ(count(dir, "*"), 20000u);
  w->force_merge();
  EXPECT_EQ(w->committed().segments.size(), 1u);
  EXPECT_EQ(count(dir, "*"), 20000u);
}

TEST(IndexWriter, BadDocumentIsRejectedAlone) {
  std::shared_ptr<Directory> dir = new_ram_directory();
  Schema schema = Schema::from_json(kSchema);
  auto w = IndexWriter::create(dir, schema);
  DocumentParser p(schema);
  std::string huge(40000, 'x');
  EXPECT_THROW(w->add_document(p.parse("{\"tag\":\"" + huge + "\"}")), Error);
  w->add_document(p.parse(R"({"tag":"ok"})"));
  w->commit();
  EXPECT_EQ(count(dir, "*"), 1u);
}

TEST(Split, OpensRemotelyWithOneTailRead) {
  TempDir tmp;
  testing::build_split(kSchema, docs(5000), tmp.file("a.split"));
  auto local = open_mmap(tmp.file("a.split"));
  std::atomic<int> reads{0};
  auto remote = callback_reader(local->size(), [&](uint64_t off, std::span<uint8_t> out) {
    ++reads;
    auto b = local->read(off, out.size());
    std::copy(b.data(), b.data() + b.size(), out.begin());
  }, "remote.split");
  OpenOptions oo;
  oo.verify_checksums = false;
  auto split = Split::open(remote, oo);
  EXPECT_EQ(reads.load(), 1) << "opening should read only the tail";
  auto hint = split->footer();
  reads = 0;
  auto again = Split::open(remote, oo, hint);
  EXPECT_EQ(reads.load(), 1);
  Searcher s = Searcher::for_split(again);
  EXPECT_EQ(s.count(*s.parse("body:disk AND tag:t2")), Searcher::for_split(Split::open_file(tmp.file("a.split"))).count(*s.parse("body:disk AND tag:t2")));
  EXPECT_GT(reads.load(), 1) << "queries read postings through the callback";
}

TEST(Split, MergeKeepsEverythingAndDropsDeleted) {
  TempDir tmp;
  testing::build_split(kSchema, docs(700), tmp.file("a.split"));
  testing::build_split(kSchema, docs(300, 700), tmp.file("b.split"));
  merge_splits({tmp.file("a.split"), tmp.file("b.split")}, tmp.file("m.split"), tmp.file("work"));
  auto m = Split::open_file(tmp.file("m.split"));
  EXPECT_EQ(m->num_docs(), 1000u);
  EXPECT_EQ(m->segments().size(), 1u);
  Searcher s = Searcher::for_split(m);
  EXPECT_EQ(s.count(*s.parse("n:[650 TO 749]")), 100u);
  auto hits = s.top_k(*s.parse("n:999"), 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(stored_to_json(s.schema(), s.doc(hits[0])).find("\"n\":999") != std::string::npos, true);
  EXPECT_NE(m->metadata_json().find("\"min\":0,\"max\":999"), std::string::npos) << m->metadata_json();
}

TEST(Search, BuilderSemantics) {
  Schema schema = Schema::from_json(
      R"({"fields":[{"name":"body","type":"text"},{"name":"ip","type":"ip"},{"name":"ts","type":"timestamp"},{"name":"n","type":"i64"},{"name":"k","type":"string","indexed":false}]})");
  auto an = analyzers_for(schema);
  auto show = [&](const std::string& q) { return to_string(*parse_and_build(q, schema, *an, {}), schema); };
  EXPECT_EQ(show("body:Powershell.EXE"), "body:\"powershell exe\"");
  EXPECT_EQ(show("body:Err*"), "body:err*");
  EXPECT_EQ(show("ip:10.0.0.0/8"), "ip:[\"10.0.0.0\" TO \"10.255.255.255\"]");
  EXPECT_EQ(show("ip:\"2001:db8::1\""), "ip:\"2001:db8::1\"");
  EXPECT_EQ(show("n:>=5"), "n:[5 TO *}");
  EXPECT_EQ(show("ts:2024-01-01"), "ts:\"2024-01-01T00:00:00Z\"");
  auto code = [&](const std::string& q) {
    try {
      parse_and_build(q, schema, *an, {});
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kOk;
  };
  EXPECT_EQ(code("nope:x"), ErrorCode::kQuery);
  EXPECT_EQ(code("n:abc"), ErrorCode::kQuery);
  EXPECT_EQ(code("k:x"), ErrorCode::kQuery);
  EXPECT_EQ(code("body:/a(b/"), ErrorCode::kQueryParse);
  EXPECT_EQ(code("body:(a"), ErrorCode::kQueryParse);
  EXPECT_EQ(code("k:*"), ErrorCode::kOk) << "exists works on non-indexed fields";
}

}  // namespace
}  // namespace needle
