// json fields end to end: indexing, path queries with explicit expected answers, stored values,
// split metadata and meta.json versions.
#include <gtest/gtest.h>

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
    std::set<uint64_t> out;
    QueryPtr query = searcher->parse(q, qo);
    searcher->for_each(*query, [&](const Hit& h) { out.insert(std::get<uint64_t>(searcher->doc(h).values.at(0).value)); });
    EXPECT_EQ(searcher->count(*query), out.size()) << q;
    return out;
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
  qo.default_fields = {"payload"};
  EXPECT_THROW(f.ids("carol", qo), Error);
  auto code = [&](const std::string& q) {
    try {
      f.searcher->parse(q);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kOk;
  };
  EXPECT_EQ(code("payload:alice"), ErrorCode::kQuery);
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

}  // namespace
}  // namespace needle
