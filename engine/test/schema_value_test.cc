#include <gtest/gtest.h>

#include "needle/common/error.h"
#include "needle/schema/document.h"
#include "needle/schema/schema.h"
#include "needle/schema/value.h"

namespace needle {
namespace {

ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kOk;
}

TEST(Schema, ParsesExampleAndRoundTrips) {
  auto s = Schema::from_json(
      R"({"fields":[{"name":"body","type":"text","stored":true,"tokenizer":"default","record":"position"},{"name":"id","type":"string","stored":true},{"name":"n","type":"i64","indexed":true}]})");
  ASSERT_EQ(s.num_fields(), 3u);
  EXPECT_EQ(s.find("body")->options.record, IndexRecordOption::kPosition);
  EXPECT_TRUE(s.find("body")->options.fieldnorms);
  EXPECT_EQ(s.find("id")->type, FieldType::kString);
  EXPECT_FALSE(s.find("n")->options.stored);
  auto again = Schema::from_json(s.to_json());
  EXPECT_EQ(again.to_json(), s.to_json());
}

TEST(Schema, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* needle;
  } cases[] = {
      {R"({"fields":[{"name":"a","type":"txt"}]})", "unknown type 'txt'"},
      {R"({"fields":[{"name":"a","type":"text"},{"name":"a","type":"i64"}]})", "defined twice"},
      {R"({"fields":[{"name":"n","type":"i64","tokenizer":"default"}]})", "field 'n'"},
      {R"({"fields":[{"name":"n","type":"i64","record":"position"}]})", "position"},
      {R"({"fields":[{"name":"a:b","type":"text"}]})", "a:b"},
      {R"({"fields":[{"name":"a","type":"text","colour":1}]})", "colour"},
      {R"({"fields":[]})", "no fields"},
      {R"([1,2])", "object"},
      {R"({"fields":[{"name":"a","type":"text"})", "JSON"},
  };
  for (const auto& c : cases) {
    try {
      Schema::from_json(c.json);
      ADD_FAILURE() << c.json;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kSchema);
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
  }
}

TEST(Value, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z")->micros, 0);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.5Z")->micros, 1500000);
  EXPECT_EQ(parse_rfc3339("1970-01-01T01:00:00+01:00")->micros, 0);
  EXPECT_EQ(parse_rfc3339("2024-02-29")->micros, parse_rfc3339("2024-02-29T00:00:00Z")->micros);
  EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-01-01T00:00:00"));
  EXPECT_FALSE(parse_rfc3339("2023-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("garbage"));
  for (int64_t us : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1700000000123456}, int64_t{-86400000001}}) {
    auto s = format_rfc3339(Timestamp{us});
    auto back = parse_rfc3339(s);
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(back->micros, us) << s;
  }
}

TEST(Value, IpAndCidr) {
  auto v4 = parse_ip("192.168.1.7");
  ASSERT_TRUE(v4);
  EXPECT_EQ(format_ip(*v4), "192.168.1.7");
  auto v6 = parse_ip("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(format_ip(*v6), "2001:db8::1");
  EXPECT_FALSE(parse_ip("300.1.1.1"));
  auto c = parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(c);
  EXPECT_EQ(format_ip(c->first), "10.1.0.0");
  EXPECT_EQ(format_ip(c->second), "10.1.255.255");
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
}

TEST(Value, TermEncodingPreservesOrder) {
  std::vector<int64_t> is = {INT64_MIN, -5, -1, 0, 1, 7, INT64_MAX};
  for (size_t i = 1; i < is.size(); ++i) {
    EXPECT_LT(encode_term_value(FieldType::kI64, is[i - 1]), encode_term_value(FieldType::kI64, is[i]));
    EXPECT_EQ(std::get<int64_t>(decode_term_value(FieldType::kI64, encode_term_value(FieldType::kI64, is[i]))), is[i]);
  }
  std::vector<double> ds = {-1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, 1e300};
  for (size_t i = 1; i < ds.size(); ++i) {
    EXPECT_LE(encode_term_value(FieldType::kF64, ds[i - 1]), encode_term_value(FieldType::kF64, ds[i]));
  }
  EXPECT_EQ(base64_encode(*base64_decode("aGVsbG8=")), "aGVsbG8=");
  EXPECT_FALSE(base64_decode("a$=="));
}

TEST(Document, ParseStoreAndErrors) {
  auto s = Schema::from_json(
      R"({"fields":[{"name":"body","type":"text","stored":true},{"name":"n","type":"i64","stored":true},{"name":"ts","type":"timestamp","stored":true},{"name":"ip","type":"ip","stored":true},{"name":"b","type":"bytes","stored":true},{"name":"f","type":"f64","stored":true},{"name":"u","type":"u64"}]})");
  DocumentParser p(s);
  auto d = p.parse(R"({"body":["a b","c"],"n":-3,"ts":"2024-01-01T00:00:00Z","ip":"::1","b":"AAE=","f":2,"u":5,"other":{"x":1},"nul":null})");
  EXPECT_EQ(d.values.size(), 8u);
  auto stored = decode_stored(s, encode_stored(s, d));
  EXPECT_EQ(stored.values.size(), 7u);  // u is not stored
  EXPECT_EQ(stored_to_json(s, stored),
            R"({"body":["a b","c"],"n":-3,"ts":"2024-01-01T00:00:00Z","ip":"::1","b":"AAE=","f":2.0})");
  EXPECT_EQ(code_of([&] { p.parse(R"({"n":"x"})"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([&] { p.parse(R"({"n":1.5})"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([&] { p.parse(R"({"u":-1})"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([&] { p.parse(R"({"ts":"yesterday"})"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([&] { p.parse(R"({"body":)"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([&] { p.parse(R"([1])"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([&] { decode_stored(s, std::vector<uint8_t>{5, 0, 1}); }), ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace needle
