// json fields end to end: indexing, path queries with explicit expected answers, stored values,
// split metadata and meta.json versions.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "engine_test_util.h"
#include "needle/search/searcher.h"

namespace needle {
namespace {

using testing::TempDir;

const char* kSchema =
    R"({"fields":[{"name":"id","type":"u64","stored":true},{"name":"body","type":"text"},)"
    R"({"name":"payload","type":"json","stored":true,"indexed":true,"tokenizer":"default","record":"position"}]})";

const std::vector<std::string> kDocs = {
    R"({"id":0,"body":"alice","payload":{"user":{"name":"Alice Smith","age":31},"n":3,"tags":["red fox","blue"]}})",
    R"({"id":1,"payload":{"user":{"name":"Bob"},"n":3.0,"tags":["red","fox"],"ok":true}})",
    R"({"id":2,"payload":{"n":2.5,"items":[{"k":"x","v":1},{"k":"y","v":10}],"a.b":"dotted"}})",
    R"({"id":3,"payload":{"n":-1,"user":null,"code":"3","big":1e19}})",
    R"({"id":4,"payload":{}})",
    R"({"id":5,"payload":null,"body":"none"})",
    R"({"id":6,"payload":[{"n":7},{"user":{"name":"carol"}}]})",
    R"({"id":7,"payload":{"a":{"b":"nested"},"ok":false,"n":9007199254740993}})",
};

// The ids (field 0) of the docs that match `q`; count() must agree with their number.
std::set<uint64_t> matching_ids(const Searcher& searcher, const std::string& q, const QueryOptions& qo) {
  std::set<uint64_t> out;
  QueryPtr query = searcher.parse(q, qo);
  searcher.for_each(*query, [&](const Hit& h) { out.insert(std::get<uint64_t>(searcher.doc(h).values.at(0).value)); });
  EXPECT_EQ(searcher.count(*query), out.size()) << q;
  return out;
}

struct Fixture {
  std::shared_ptr<Split> split;
  std::unique_ptr<Searcher> searcher;
  TempDir tmp;
  Fixture() {
    testing::build_split(kSchema, kDocs, tmp.file("j.split"));
    split = Split::open_file(tmp.file("j.split"));
    searcher = std::make_unique<Searcher>(Searcher::for_split(split));
  }
  std::set<uint64_t> ids(const std::string& q, const QueryOptions& qo = {}) const {
    return matching_ids(*searcher, q, qo);
  }
};

using Ids = std::set<uint64_t>;

TEST(JsonSearch, TermsPhrasesAndTextQueries) {
  Fixture f;
  EXPECT_EQ(f.ids("payload.user.name:alice"), (Ids{0}));
  EXPECT_EQ(f.ids("payload.user.name:ALICE"), (Ids{0}));
  EXPECT_EQ(f.ids("payload.user.name:\"alice smith\""), (Ids{0}));
  // Phrases never span two values of an array.
  EXPECT_EQ(f.ids("payload.tags:\"red fox\""), (Ids{0}));
  EXPECT_EQ(f.ids("payload.tags:fox"), (Ids{0, 1}));
  EXPECT_EQ(f.ids("payload.tags:bl*"), (Ids{0}));
  EXPECT_EQ(f.ids("payload.tags:r?d"), (Ids{0, 1}));
  EXPECT_EQ(f.ids("payload.user.name:/ca.*/"), (Ids{6}));
  EXPECT_EQ(f.ids("payload.user.name:alise~1"), (Ids{0}));
  EXPECT_EQ(f.ids("payload.user.name:\"alice sm\"*"), (Ids{0}));
  // A path is exact: user.name is not name, and terms of one path do not leak into another.
  EXPECT_EQ(f.ids("payload.name:alice"), (Ids{}));
  EXPECT_EQ(f.ids("payload.user:alice"), (Ids{}));
  // Arrays of objects flatten to the same paths.
  EXPECT_EQ(f.ids("payload.items.k:y"), (Ids{2}));
  // Dotted keys are paths: {"a.b":..} and {"a":{"b":..}} are found the same way.
  EXPECT_EQ(f.ids("payload.a.b:dotted"), (Ids{2}));
  EXPECT_EQ(f.ids("payload.a.b:nested"), (Ids{7}));
  // An array of objects as the field value.
  EXPECT_EQ(f.ids("payload.user.name:carol"), (Ids{6}));
  EXPECT_EQ(f.ids("payload.user.name:IN [bob carol]"), (Ids{1, 6}));
}

TEST(JsonSearch, NumbersBooleansAndRanges) {
  Fixture f;
  // 3 and 3.0 are one number; the string "3" matches the word too.
  EXPECT_EQ(f.ids("payload.n:3"), (Ids{0, 1}));
  EXPECT_EQ(f.ids("payload.n:3.0"), (Ids{0, 1}));
  EXPECT_EQ(f.ids("payload.code:3"), (Ids{3}));
  EXPECT_EQ(f.ids("payload.n:2.5"), (Ids{2}));
  EXPECT_EQ(f.ids("payload.n:[1 TO 5]"), (Ids{0, 1, 2}));
  EXPECT_EQ(f.ids("payload.n:{2.5 TO 3]"), (Ids{0, 1}));
  EXPECT_EQ(f.ids("payload.n:[2.5 TO 3}"), (Ids{2}));
  EXPECT_EQ(f.ids("payload.n:[2.6 TO 2.9]"), (Ids{}));
  EXPECT_EQ(f.ids("payload.n:<0"), (Ids{3}));
  EXPECT_EQ(f.ids("payload.n:>=7"), (Ids{6, 7}));
  EXPECT_EQ(f.ids("payload.n:[* TO *]"), (Ids{0, 1, 2, 3, 6, 7}));
  EXPECT_EQ(f.ids("payload.n:IN [2.5 7 100]"), (Ids{2, 6}));
  // Integers beyond 2^53 keep their i64 value exactly.
  EXPECT_EQ(f.ids("payload.n:9007199254740993"), (Ids{7}));
  EXPECT_EQ(f.ids("payload.n:9007199254740992"), (Ids{}));
  // 1e19 is beyond i64: an f64, found by value and by range.
  EXPECT_EQ(f.ids("payload.big:10000000000000000000"), (Ids{3}));
  EXPECT_EQ(f.ids("payload.big:>9223372036854775807"), (Ids{3}));
  EXPECT_EQ(f.ids("payload.big:<9223372036854775807"), (Ids{}));
  EXPECT_EQ(f.ids("payload.items.v:[2 TO 10]"), (Ids{2}));
  EXPECT_EQ(f.ids("payload.ok:true"), (Ids{1}));
  EXPECT_EQ(f.ids("payload.ok:false"), (Ids{7}));
  // A range with a non-numeric bound compares string tokens.
  EXPECT_EQ(f.ids("payload.user.name:[a TO b]"), (Ids{0}));
  EXPECT_EQ(f.ids("payload.user.name:[b TO *]"), (Ids{0, 1, 6}));  // bob, carol, smith
}

TEST(JsonSearch, ExistsDefaultFieldsAndErrors) {
  Fixture f;
  EXPECT_EQ(f.ids("payload:*"), (Ids{0, 1, 2, 3, 4, 6, 7}));
  EXPECT_EQ(f.ids("payload.user:*"), (Ids{0, 1, 6}));  // null is not a leaf
  EXPECT_EQ(f.ids("payload.user.age:*"), (Ids{0}));
  EXPECT_EQ(f.ids("payload.a:*"), (Ids{2, 7}));
  EXPECT_EQ(f.ids("payload.items:*"), (Ids{2}));
  EXPECT_EQ(f.ids("payload.it:*"), (Ids{}));
  EXPECT_EQ(f.ids("payload.user:* AND NOT payload.user.name:bob"), (Ids{0, 6}));
  // Bare words search text fields, not json, unless a default field names a path.
  EXPECT_EQ(f.ids("alice"), (Ids{0}));
  EXPECT_EQ(f.ids("carol"), (Ids{}));
  QueryOptions qo;
  qo.default_fields = {"payload.user.name", "body"};
  EXPECT_EQ(f.ids("carol OR none", qo), (Ids{5, 6}));
  // A json field alone as a default field searches its root leaves: these documents' values are
  // objects, so a bare word finds nothing there (carol is at user.name).
  qo.default_fields = {"payload"};
  EXPECT_EQ(f.ids("carol", qo), (Ids{}));
  EXPECT_EQ(f.ids("ca*", qo), (Ids{}));
  auto code = [&](const std::string& q) {
    try {
      f.searcher->parse(q);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kOk;
  };
  // A clause on the field without a path searches root leaves, which objects do not have.
  EXPECT_EQ(code("payload:alice"), ErrorCode::kOk);
  EXPECT_EQ(f.ids("payload:alice"), (Ids{}));
  EXPECT_EQ(f.ids("payload:3"), (Ids{}));
  EXPECT_EQ(f.ids("payload:[* TO *]"), (Ids{}));
  EXPECT_EQ(f.ids("payload:a*"), (Ids{}));
  EXPECT_EQ(code("id.x:1"), ErrorCode::kQuery);
  EXPECT_EQ(code("payload..x:1"), ErrorCode::kQuery);
  EXPECT_EQ(code("payload.x.:1"), ErrorCode::kQuery);
  try {
    f.searcher->parse("id.x:1");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not json"), std::string::npos) << e.what();
  }
}

TEST(JsonSearch, StoredValuesScoresAndMetadata) {
  Fixture f;
  QueryPtr q = f.searcher->parse("payload.user.name:bob");
  auto top = f.searcher->top_k(*q, 5);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_GT(top[0].score, 0.0f);
  EXPECT_EQ(stored_to_json(f.searcher->schema(), f.searcher->doc(top[0])),
            R"({"id":1,"payload":{"user":{"name":"Bob"},"n":3.0,"tags":["red","fox"],"ok":true}})");
  // One norm per document over all string leaves: the shorter document scores higher for "fox".
  auto fox = f.searcher->top_k(*f.searcher->parse("payload.tags:fox"), 5);
  ASSERT_EQ(fox.size(), 2u);
  EXPECT_EQ(std::get<uint64_t>(f.searcher->doc(fox[0]).values.at(0).value), 1u);
  EXPECT_GT(fox[0].score, fox[1].score);
  // Split metadata: counts, no min/max; meta.json version 2.
  const std::string& md = f.split->metadata_json();
  EXPECT_NE(md.find(R"("payload":{"type":"json","docs_with_value":7,"null_count":1})"), std::string::npos) << md;
  EXPECT_NE(f.split->index_meta().to_json().find(R"({"format_version":2,)"), std::string::npos);
}

TEST(JsonSearch, MetaVersionRules) {
  IndexMeta m;
  m.schema = Schema::from_json(R"({"fields":[{"name":"n","type":"i64"}]})");
  EXPECT_NE(m.to_json().find(R"({"format_version":1,)"), std::string::npos);
  m.schema = Schema::from_json(kSchema);
  std::string v2 = m.to_json();
  EXPECT_EQ(IndexMeta::from_json(v2).schema, m.schema);
  std::string v1 = v2;
  v1.replace(v1.find("\"format_version\":2"), 18, "\"format_version\":1");
  auto code = [](const std::string& j) {
    try {
      IndexMeta::from_json(j);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kOk;
  };
  EXPECT_EQ(code(v1), ErrorCode::kCorrupt);
  std::string v3 = v2;
  v3.replace(v3.find("\"format_version\":2"), 18, "\"format_version\":3");
  EXPECT_EQ(code(v3), ErrorCode::kVersionTooNew);
}

TEST(JsonSearch, MergeAndDeletesKeepJsonTerms) {
  std::shared_ptr<Directory> dir = new_ram_directory();
  Schema schema = Schema::from_json(kSchema);
  IndexWriterOptions opts;
  auto w = IndexWriter::create(dir, schema, opts);
  DocumentParser p(schema);
  for (size_t i = 0; i < kDocs.size(); ++i) {
    w->add_document(p.parse(kDocs[i]));
    w->commit();  // one segment each
  }
  QueryPtr del = parse_and_build("payload.n:3", schema, *analyzers_for(schema), {});
  w->delete_matching(make_doc_matcher(del, schema));
  w->commit();
  w->force_merge();
  IndexMeta meta = read_index_meta(*dir);
  ASSERT_EQ(meta.segments.size(), 1u);
  Searcher s(open_segments(directory_lookup(*dir), meta, OpenOptions{}), meta.schema, analyzers_for(meta.schema));
  EXPECT_EQ(s.count(*s.parse("payload.n:3")), 0u);
  EXPECT_EQ(s.count(*s.parse("payload.n:[2 TO 8]")), 2u);
  EXPECT_EQ(s.count(*s.parse("payload.user.name:carol")), 1u);
  EXPECT_EQ(s.count(*s.parse("payload:*")), 5u);
  // A document whose json is rejected leaves the index unchanged.
  Document bad;
  bad.values.push_back(FieldValue{2, JsonValue{R"({"a..b":1})"}});
  EXPECT_THROW(w->add_document(std::move(bad)), Error);
}

// ---- values that are not objects: leaves at the root (the empty path) ---------------------------

const char* kRootSchema =
    R"({"fields":[{"name":"id","type":"u64","stored":true},{"name":"body","type":"text"},)"
    R"({"name":"tags","type":"json","stored":true,"indexed":true,"tokenizer":"default","record":"position"}]})";

// Documents 0..13 are JSON lines; 14 and 15 are made in code as the Arrow import makes them (one
// cell, one value, whatever its JSON text).
const std::vector<std::string> kRootDocs = {
    R"({"id":0,"tags":"Red Fox"})",                                     // one string value
    R"({"id":1,"tags":["red","fox"]})",                                 // two values
    R"({"id":2,"tags":[["quick","brown fox"]]})",                       // one value: an array
    R"({"id":3,"tags":3})",                                             // a number
    R"({"id":4,"tags":[1.5,true,[7,["deep"]]]})",                       // three values, one nested
    R"({"id":5,"tags":{"name":"fox","n":3,"foo":"bar","fob":true}})",   // an object: no root leaf
    R"({"id":6,"tags":[{"name":"foxtrot"},"fob"]})",                    // an object and a string
    R"({"id":7,"tags":{}})",                                            // present, no leaf
    R"({"id":8,"tags":[[]]})",                                          // one value [], present
    R"({"id":9,"tags":null,"body":"none"})",                            // absent
    R"({"id":10,"tags":[],"body":"fox"})",                              // absent
    R"({"id":11,"tags":"3"})",                                          // the string "3"
    R"({"id":12,"tags":false})",
    R"({"id":13,"tags":[{"k":[{"name":"fox"}]},["x",{"m":2.5}],-4]})",  // objects deep in a root array
};

struct RootFixture {
  std::shared_ptr<Split> split;
  std::unique_ptr<Searcher> searcher;
  TempDir tmp;
  RootFixture() {
    Schema schema = Schema::from_json(kRootSchema);
    std::shared_ptr<Directory> dir = new_ram_directory();
    auto w = IndexWriter::create(dir, schema, IndexWriterOptions{});
    DocumentParser p(schema);
    for (const auto& d : kRootDocs) w->add_document(p.parse(d));
    auto code_doc = [&](uint64_t id, const char* json) {
      Document d;
      d.values.push_back(FieldValue{0, Value(id)});
      d.values.push_back(FieldValue{2, JsonValue{json}});
      w->add_document(std::move(d));
    };
    code_doc(14, R"(["alpha","red fox"])");
    code_doc(15, "null");
    w->commit();
    write_split(*dir, tmp.file("r.split"));
    split = Split::open_file(tmp.file("r.split"));
    searcher = std::make_unique<Searcher>(Searcher::for_split(split));
  }
  std::set<uint64_t> ids(const std::string& q, const QueryOptions& qo = {}) const {
    return matching_ids(*searcher, q, qo);
  }
};

TEST(JsonRoot, TermsAndPhrases) {
  RootFixture f;
  EXPECT_EQ(f.ids("tags:fox"), (Ids{0, 1, 2, 14}));  // not 5, 13 (fox at name), nor 6 (foxtrot)
  EXPECT_EQ(f.ids("tags:FOX"), (Ids{0, 1, 2, 14}));
  EXPECT_EQ(f.ids("tags:deep"), (Ids{4}));
  EXPECT_EQ(f.ids("tags:x"), (Ids{13}));
  EXPECT_EQ(f.ids("tags:bar"), (Ids{}));  // a leaf at path foo
  EXPECT_EQ(f.ids("tags:\"red fox\""), (Ids{0, 14}));
  // A phrase spans neither two values (1) nor two leaves of one array value (2: quick | brown fox).
  EXPECT_EQ(f.ids("tags:\"brown fox\""), (Ids{2}));
  EXPECT_EQ(f.ids("tags:\"quick brown\""), (Ids{}));
  EXPECT_EQ(f.ids("tags:\"alpha red\""), (Ids{}));
  EXPECT_EQ(f.ids("tags:\"red fo\"*"), (Ids{0, 14}));
  // Numbers and booleans by value; a number word also matches the string token.
  EXPECT_EQ(f.ids("tags:3"), (Ids{3, 11}));  // not 5 (n = 3)
  EXPECT_EQ(f.ids("tags:7"), (Ids{4}));
  EXPECT_EQ(f.ids("tags:1.5"), (Ids{4}));
  EXPECT_EQ(f.ids("tags:-4"), (Ids{13}));
  EXPECT_EQ(f.ids("tags:true"), (Ids{4}));  // not 5 (fob = true)
  EXPECT_EQ(f.ids("tags:false"), (Ids{12}));
  EXPECT_EQ(f.ids("tags:IN [deep 3 false]"), (Ids{3, 4, 11, 12}));
  // Paths are still searched by path, next to the root.
  EXPECT_EQ(f.ids("tags.name:fox"), (Ids{5}));
  EXPECT_EQ(f.ids("tags.k.name:fox"), (Ids{13}));
  EXPECT_EQ(f.ids("tags.m:2.5"), (Ids{13}));
  EXPECT_EQ(f.ids("tags.name:*"), (Ids{5, 6}));
}

TEST(JsonRoot, RangesOnTheRoot) {
  RootFixture f;
  EXPECT_EQ(f.ids("tags:[1 TO 5]"), (Ids{3, 4}));  // 3 and 1.5; not 5 (n = 3), not 13 (m = 2.5)
  EXPECT_EQ(f.ids("tags:>5"), (Ids{4}));
  EXPECT_EQ(f.ids("tags:<0"), (Ids{13}));
  EXPECT_EQ(f.ids("tags:{1.5 TO 7}"), (Ids{3}));
  EXPECT_EQ(f.ids("tags:[* TO *]"), (Ids{3, 4, 13}));  // every root number
  // String ranges compare the root's string tokens only (bar, at path foo, is not one).
  EXPECT_EQ(f.ids("tags:[a TO c]"), (Ids{2, 14}));  // brown, alpha
  EXPECT_EQ(f.ids("tags:[fob TO fox]"), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("tags:[x TO *]"), (Ids{13}));
}

TEST(JsonRoot, PrefixWildcardRegexFuzzyMatchOnlyRootLeaves) {
  RootFixture f;
  // fo* must not reach the terms of paths that start with "fo" (foo, fob in document 5), nor the
  // foxtrot at name (6): only root string tokens starting with fo.
  EXPECT_EQ(f.ids("tags:fo*"), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("tags:foxt*"), (Ids{}));
  EXPECT_EQ(f.ids("tags:b*"), (Ids{2}));  // brown, not bar (path foo)
  EXPECT_EQ(f.ids("tags:n*"), (Ids{}));   // no root token; name and n are paths
  EXPECT_EQ(f.ids("tags:f?x"), (Ids{0, 1, 2, 14}));
  EXPECT_EQ(f.ids("tags:f*"), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("tags:*o*"), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("tags:/fo.*/"), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("tags:/ba./"), (Ids{}));
  EXPECT_EQ(f.ids("tags:fxo~1"), (Ids{0, 1, 2, 14}));
  EXPECT_EQ(f.ids("tags:fob~1"), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("tags:baz~1"), (Ids{}));  // bar is at path foo
  // The same on a path still works, and a path prefix does not see root leaves.
  EXPECT_EQ(f.ids("tags.name:fo*"), (Ids{5, 6}));
  EXPECT_EQ(f.ids("tags.foo:b*"), (Ids{5}));
}

TEST(JsonRoot, ExistsDefaultFieldsAndStoredValues) {
  RootFixture f;
  // tags:* is "the field has a value": every present value, leaves or not (7: {}, 8: [], 15: null
  // made in code), not 9 and 10 (no value).
  EXPECT_EQ(f.ids("tags:*"), (Ids{0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15}));
  EXPECT_EQ(f.ids("-tags:*"), (Ids{9, 10}));
  // A json field as a default field: bare clauses search its root leaves.
  QueryOptions qo;
  qo.default_fields = {"tags"};
  EXPECT_EQ(f.ids("fox", qo), (Ids{0, 1, 2, 14}));
  EXPECT_EQ(f.ids("fo*", qo), (Ids{0, 1, 2, 6, 14}));
  EXPECT_EQ(f.ids("\"red fox\"", qo), (Ids{0, 14}));
  EXPECT_EQ(f.ids("7 OR false", qo), (Ids{4, 12}));
  EXPECT_EQ(f.ids("[1 TO 5]", qo), (Ids{3, 4}));
  qo.default_fields = {"tags", "body"};
  EXPECT_EQ(f.ids("fox", qo), (Ids{0, 1, 2, 10, 14}));
  qo.default_fields = {"tags.name", "tags"};
  EXPECT_EQ(f.ids("fox", qo), (Ids{0, 1, 2, 5, 14}));
  // Stored values come back as given (canonical), and print so that they parse back the same.
  Schema schema = Schema::from_json(kRootSchema);
  DocumentParser p(schema);
  std::map<uint64_t, std::string> printed;
  QueryPtr all = f.searcher->parse("*");
  f.searcher->for_each(*all, [&](const Hit& h) {
    Document d = f.searcher->doc(h);
    printed[std::get<uint64_t>(d.values.at(0).value)] = stored_to_json(schema, d);
  });
  ASSERT_EQ(printed.size(), 16u);
  EXPECT_EQ(printed[0], R"({"id":0,"tags":"Red Fox"})");
  EXPECT_EQ(printed[1], R"({"id":1,"tags":["red","fox"]})");
  EXPECT_EQ(printed[2], R"({"id":2,"tags":[["quick","brown fox"]]})");
  EXPECT_EQ(printed[4], R"({"id":4,"tags":[1.5,true,[7,["deep"]]]})");
  EXPECT_EQ(printed[8], R"({"id":8,"tags":[[]]})");
  EXPECT_EQ(printed[9], R"({"id":9})");
  EXPECT_EQ(printed[14], R"({"id":14,"tags":[["alpha","red fox"]]})");
  for (uint64_t id = 0; id < kRootDocs.size(); ++id) {
    Document want = p.parse(kRootDocs[id]);
    Document got = p.parse(printed[id]);
    std::vector<std::string> a, b;
    for (const auto& fv : want.values) if (fv.field == 2) a.push_back(std::get<JsonValue>(fv.value).json);
    for (const auto& fv : got.values) if (fv.field == 2) b.push_back(std::get<JsonValue>(fv.value).json);
    EXPECT_EQ(a, b) << printed[id];
  }
}

}  // namespace
}  // namespace needle
