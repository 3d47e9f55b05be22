// json fields: the number rule, term layout, flattening, documents, stored form, schema options.
#include <gtest/gtest.h>

#include <cmath>

#include "needle/common/error.h"
#include "needle/schema/document.h"
#include "needle/schema/json.h"
#include "needle/schema/value.h"

namespace needle {
namespace {

using namespace std::string_literals;

const char* kSchema =
    R"({"fields":[{"name":"id","type":"u64","stored":true},)"
    R"({"name":"payload","type":"json","stored":true,"indexed":true,"tokenizer":"default","record":"position"}]})";

ErrorCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kOk;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonNumber, IntegralValuesAreI64WhateverTheirSpelling) {
  EXPECT_TRUE(json_number_from_double(3.0).is_int);
  EXPECT_EQ(json_number_from_double(3.0).i, 3);
  EXPECT_TRUE(json_number_from_double(-0.0).is_int);
  EXPECT_EQ(json_number_from_double(-0.0).i, 0);
  EXPECT_TRUE(json_number_from_double(-9223372036854775808.0).is_int);
  EXPECT_EQ(json_number_from_double(-9223372036854775808.0).i, INT64_MIN);
  EXPECT_FALSE(json_number_from_double(9223372036854775808.0).is_int);  // 2^63: out of range
  EXPECT_FALSE(json_number_from_double(3.5).is_int);
  EXPECT_EQ(json_number_from_double(3.5).f, 3.5);
  EXPECT_TRUE(json_number_from_u64(uint64_t{INT64_MAX}).is_int);
  EXPECT_FALSE(json_number_from_u64(uint64_t{INT64_MAX} + 1).is_int);
  EXPECT_EQ(json_number_from_u64(UINT64_MAX).f, 18446744073709551616.0);
}

TEST(JsonNumber, QueryText) {
  auto n = parse_json_number("3");
  ASSERT_TRUE(n && n->is_int && n->i == 3);
  n = parse_json_number("3.0");
  ASSERT_TRUE(n && n->is_int && n->i == 3);
  n = parse_json_number("3e0");
  ASSERT_TRUE(n && n->is_int && n->i == 3);
  n = parse_json_number("+7");
  ASSERT_TRUE(n && n->is_int && n->i == 7);
  n = parse_json_number("-2.25");
  ASSERT_TRUE(n && !n->is_int && n->f == -2.25);
  n = parse_json_number("18446744073709551615");
  ASSERT_TRUE(n && !n->is_int && n->f == 18446744073709551616.0);
  n = parse_json_number("-9223372036854775808");
  ASSERT_TRUE(n && n->is_int && n->i == INT64_MIN);
  for (const char* bad : {"", "+", "abc", "inf", "nan", "1e400", "3x", " 3", "0x10", "--1"}) {
    EXPECT_FALSE(parse_json_number(bad)) << bad;
  }
}

TEST(JsonTerm, Layout) {
  EXPECT_EQ(json_string_term("user.name", "alice"), "user.name\0salice"s);
  EXPECT_EQ(json_bool_term("ok", true), "ok\0b\x01"s);
  EXPECT_EQ(json_bool_term("ok", false), "ok\0b\0"s);
  EXPECT_EQ(json_number_term("n", json_number_from_i64(1)), "n\0i\x80\0\0\0\0\0\0\x01"s);
  EXPECT_EQ(json_number_term("n", json_number_from_double(1.5)),
            "n\0f"s + encode_term_value(FieldType::kF64, Value(1.5)));
  EXPECT_EQ(json_term_prefix("a.b", JsonType::kI64), "a.b\0i"s);
  // 3 and 3.0 are one term.
  EXPECT_EQ(json_number_term("n", *parse_json_number("3")), json_number_term("n", *parse_json_number("3.0")));
  // Terms of one path and type sort by value.
  std::vector<int64_t> vals = {INT64_MIN, -5, -1, 0, 1, 7, INT64_MAX};
  for (size_t i = 1; i < vals.size(); ++i) {
    EXPECT_LT(json_number_term("n", json_number_from_i64(vals[i - 1])), json_number_term("n", json_number_from_i64(vals[i])));
  }
  std::vector<double> fs = {-1e300, -2.5, -0.5, 0.25, 1.5, 1e19};
  for (size_t i = 1; i < fs.size(); ++i) {
    EXPECT_LT(json_number_term("n", json_number_from_double(fs[i - 1])), json_number_term("n", json_number_from_double(fs[i])));
  }
  // A path's terms never interleave with a longer path's: 0x00 sorts below every path byte.
  EXPECT_LT(json_string_term("a", "zzz"), json_string_term("a.b", ""));
  EXPECT_LT(json_string_term("a", "zzz"), json_string_term("a0", ""));
}

TEST(JsonTerm, RootLeavesHaveTheEmptyPath) {
  EXPECT_EQ(json_string_term("", "fox"), "\0sfox"s);
  EXPECT_EQ(json_bool_term("", false), "\0b\0"s);
  EXPECT_EQ(json_number_term("", json_number_from_i64(1)), "\0i\x80\0\0\0\0\0\0\x01"s);
  EXPECT_EQ(json_term_prefix("", JsonType::kString), "\0s"s);
  // Every root term sorts before every term of a path (whose first byte is a key byte), and the
  // root's string prefix does not start any path's term, not even one of a path named "s".
  EXPECT_LT(json_string_term("", "\xff\xff"), json_string_term("\x01", ""));
  const std::string root_s = json_term_prefix("", JsonType::kString);
  for (const std::string& t : {json_string_term("s", "fox"), json_string_term("fox", "x"), json_bool_term("b", true)}) {
    EXPECT_NE(t.compare(0, root_s.size(), root_s), 0);
  }
  const std::string term = json_string_term("", "fox");  // split_json_term returns views into it
  auto p = split_json_term(term);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "");
  EXPECT_EQ(p->type, JsonType::kString);
  EXPECT_EQ(p->value, "fox");
  EXPECT_EQ(json_term_to_string(json_number_term("", json_number_from_double(2.5))), "=2.5");
}

TEST(JsonTerm, SplitAndShow) {
  const std::string term = json_string_term("user.name", "alice");
  auto p = split_json_term(term);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "user.name");
  EXPECT_EQ(p->type, JsonType::kString);
  EXPECT_EQ(p->value, "alice");
  EXPECT_EQ(json_term_to_string(json_number_term("n", json_number_from_i64(-4))), "n=-4");
  EXPECT_EQ(json_term_to_string(json_number_term("n", json_number_from_double(2.5))), "n=2.5");
  EXPECT_EQ(json_term_to_string(json_bool_term("ok", true)), "ok=true");
  EXPECT_FALSE(split_json_term("no-separator"));
  EXPECT_FALSE(split_json_term("a\0"s));
  EXPECT_FALSE(split_json_term("a\0z"s));
  EXPECT_EQ(json_term_to_string("n\0i\x01"s), "n=<bad i64>");
}

std::vector<JsonLeaf> flat(const std::string& json) {
  Schema schema = Schema::from_json(kSchema);
  JsonFlattener fl;
  std::vector<JsonLeaf> out;
  fl.flatten(*schema.find("payload"), json, out);
  return out;
}

std::string show(const std::vector<JsonLeaf>& leaves) {
  std::string s;
  for (const auto& l : leaves) {
    if (!s.empty()) s += " ";
    if (l.type == JsonType::kString) s += l.path + "='" + l.value + "'";
    else s += json_term_to_string(json_term_prefix(l.path, l.type) + l.value);
  }
  return s;
}

TEST(JsonFlatten, PathsArraysNullsAndDots) {
  EXPECT_EQ(show(flat(R"({"user":{"name":"Alice Smith","age":31},"ok":true,"score":2.5,"none":null})")),
            "user.name='Alice Smith' user.age=31 ok=true score=2.5");
  EXPECT_EQ(show(flat(R"({"tags":["a","b"],"items":[{"n":1},{"n":2.0,"x":[[3]]}],"e":[],"o":{}})")),
            "tags='a' tags='b' items.n=1 items.n=2 items.x=3");
  // A dotted key is the same leaf as the nested keys.
  EXPECT_EQ(show(flat(R"({"a.b":1})")), show(flat(R"({"a":{"b":1}})")));
  EXPECT_EQ(show(flat(R"({"a":{"b.c":"x"}})")), "a.b.c='x'");
  EXPECT_EQ(show(flat(R"({"big":18446744073709551615,"neg":-9223372036854775808})")),
            "big=18446744073709551616.0 neg=-9223372036854775808");
  EXPECT_TRUE(flat("{}").empty());
}

TEST(JsonFlatten, RootScalarsAndArraysAreLeavesAtTheEmptyPath) {
  EXPECT_EQ(show(flat(R"("Red Fox")")), "='Red Fox'");
  EXPECT_EQ(show(flat("3.0")), "=3");
  EXPECT_EQ(show(flat("-2.5")), "=-2.5");
  EXPECT_EQ(show(flat("18446744073709551615")), "=18446744073709551616.0");
  EXPECT_EQ(show(flat("true")), "=true");
  EXPECT_EQ(show(flat(R"(["a","b"])")), "='a' ='b'");
  // Nested arrays flatten at any depth; objects in a root array keep their paths; scalars beside
  // them are root leaves.
  EXPECT_EQ(show(flat(R"(["a",["b",[3,[false]]],[]])")), "='a' ='b' =3 =false");
  EXPECT_EQ(show(flat(R"([{"n":1},"x",[{"m":[true,{"k":"v"}]}],null,2])")), "n=1 ='x' m=true m.k='v' =2");
  // null, [] and {} give no leaf, wherever they are.
  for (const char* none : {"null", "[]", "{}", "[null,[],{}]", "[[[]]]", R"({"a":null})"}) {
    EXPECT_TRUE(flat(none).empty()) << none;
  }
  // Key rules still apply inside arrays.
  EXPECT_EQ(code_of([] { flat(R"([1,{"a..b":1}])"); }), ErrorCode::kDocument);
  EXPECT_NE(message_of([] { flat(R"([[{"x":{"":1}}]])"); }).find("at path 'x'"), std::string::npos);
  // Depth counts arrays as it counts objects.
  std::string deep(kMaxJsonDepth + 2, '[');
  deep += "1" + std::string(kMaxJsonDepth + 2, ']');
  EXPECT_NE(message_of([&] { flat(deep); }).find("nested deeper"), std::string::npos);
  std::string ok(kMaxJsonDepth, '[');
  ok += "1" + std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(show(flat(ok)), "=1");
}

TEST(JsonFlatten, CanonicalFormOfAnyValue) {
  Schema schema = Schema::from_json(kSchema);
  JsonFlattener fl;
  const FieldEntry& f = *schema.find("payload");
  EXPECT_EQ(fl.canonical(f, R"( [ "a" , 1.50 , [ true ] , { "k" : null } ] )"), R"(["a",1.5,[true],{"k":null}])");
  EXPECT_EQ(fl.canonical(f, R"( "x" )"), R"("x")");
  EXPECT_EQ(fl.canonical(f, " 7 "), "7");
  EXPECT_EQ(fl.canonical(f, "null"), "null");
  EXPECT_EQ(fl.canonical(f, "[]"), "[]");
  for (const char* bad : {"", " ", "[1,", "x", R"(["a"] ["b"])", R"([{"a..b":1}])"}) {
    EXPECT_EQ(code_of([&] { fl.canonical(f, bad); }), ErrorCode::kDocument) << bad;
  }
}

TEST(JsonFlatten, ErrorsNameFieldAndPath) {
  for (const char* bad : {R"({"a":{"":1}})", R"({"a..b":1})", R"({".a":1})", R"({"a.":1})"}) {
    std::string msg = message_of([&] { flat(bad); });
    EXPECT_NE(msg.find("field 'payload'"), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find("empty path segment"), std::string::npos) << bad << ": " << msg;
  }
  EXPECT_NE(message_of([] { flat(R"({"a":{"b":{"x\u0000y":1}}})"); }).find("at path 'a.b'"), std::string::npos);
  EXPECT_EQ(code_of([] { flat(R"({"a":)"); }), ErrorCode::kDocument);
  EXPECT_EQ(code_of([] { flat(""); }), ErrorCode::kDocument);
  std::string long_key(kMaxJsonPathBytes + 1, 'k');
  EXPECT_NE(message_of([&] { flat("{\"" + long_key + "\":1}"); }).find("longer than"), std::string::npos);
  std::string deep;
  for (size_t i = 0; i < kMaxJsonDepth + 2; ++i) deep += "{\"a\":";
  deep += "1";
  for (size_t i = 0; i < kMaxJsonDepth + 2; ++i) deep += "}";
  EXPECT_NE(message_of([&] { flat(deep); }).find("nested deeper"), std::string::npos);
}

TEST(JsonDocument, ParseStoreAndPrint) {
  Schema schema = Schema::from_json(kSchema);
  DocumentParser p(schema);
  Document d = p.parse(R"({"id":1,"payload":{ "user" : {"name":"al\"ice"}, "n":3.0, "t":[true,null] }})");
  ASSERT_EQ(d.values.size(), 2u);
  const auto& jv = std::get<JsonValue>(d.values[1].value);
  EXPECT_EQ(jv.json, R"({"user":{"name":"al\"ice"},"n":3.0,"t":[true,null]})");
  Document back = decode_stored(schema, encode_stored(schema, d));
  EXPECT_EQ(stored_to_json(schema, back), R"({"id":1,"payload":{"user":{"name":"al\"ice"},"n":3.0,"t":[true,null]}})");
  // An array of objects is several values; null is absent.
  d = p.parse(R"({"id":2,"payload":[{"a":1},{"b":2}]})");
  EXPECT_EQ(d.values.size(), 3u);
  EXPECT_EQ(stored_to_json(schema, decode_stored(schema, encode_stored(schema, d))), R"({"id":2,"payload":[{"a":1},{"b":2}]})");
  EXPECT_EQ(p.parse(R"({"id":3,"payload":null})").values.size(), 1u);
  // Errors name the field.
  for (const char* bad : {R"({"payload":{"a..b":1}})", R"({"payload":[1,{"a..b":1}]})", R"({"payload":[["x",{"":1}]]})"}) {
    std::string msg = message_of([&] { p.parse(bad); });
    EXPECT_NE(msg.find("payload"), std::string::npos) << bad << ": " << msg;
    EXPECT_EQ(code_of([&] { p.parse(bad); }), ErrorCode::kDocument) << bad;
  }
}

// The JSON values of field `payload` in document `d`.
std::vector<std::string> payloads(const Document& d) {
  std::vector<std::string> out;
  for (const auto& fv : d.values) {
    if (fv.field == 1) out.push_back(std::get<JsonValue>(fv.value).json);
  }
  return out;
}

TEST(JsonDocument, AnyValueAndArraysOfValues) {
  Schema schema = Schema::from_json(kSchema);
  DocumentParser p(schema);
  using V = std::vector<std::string>;
  // A value that is not an array is one value; an array is several values, each any JSON value;
  // null (the field's or an element's) is absent.
  EXPECT_EQ(payloads(p.parse(R"({"payload":1})")), (V{"1"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":"x y"})")), (V{R"("x y")"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":false})")), (V{"false"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":[1]})")), (V{"1"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":[ ["a", "b"] ]})")), (V{R"(["a","b"])"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":[[{}]]})")), (V{"[{}]"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":[["a",["b"]],"c",null,{"k":1},[],{}]})")),
            (V{R"(["a",["b"]])", R"("c")", R"({"k":1})", "[]", "{}"}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":[]})")), (V{}));
  EXPECT_EQ(payloads(p.parse(R"({"payload":[null]})")), (V{}));
  // Other types still refuse nested arrays.
  Schema tags = Schema::from_json(R"({"fields":[{"name":"t","type":"string"}]})");
  DocumentParser tp(tags);
  EXPECT_EQ(code_of([&] { tp.parse(R"({"t":[["a"]]})"); }), ErrorCode::kDocument);
}

TEST(JsonDocument, NonObjectValuesRoundTripThroughTheStore) {
  Schema schema = Schema::from_json(kSchema);
  DocumentParser p(schema);
  struct Case {
    const char* line;
    const char* printed;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"id":1,"payload":"x"})", R"({"id":1,"payload":"x"})"},
           {R"({"id":1,"payload":-2.50})", R"({"id":1,"payload":-2.5})"},  // numbers as parsed
           {R"({"id":1,"payload":true})", R"({"id":1,"payload":true})"},
           {R"({"id":1,"payload":["a","b"]})", R"({"id":1,"payload":["a","b"]})"},
           // One value that is an array prints as [value], so that the line parses back to one value.
           {R"({"id":1,"payload":[["a","b"]]})", R"({"id":1,"payload":[["a","b"]]})"},
           {R"({"id":1,"payload":[[]]})", R"({"id":1,"payload":[[]]})"},
           {R"({"id":1,"payload":[[1,[2]],{"k":"v"},3]})", R"({"id":1,"payload":[[1,[2]],{"k":"v"},3]})"},
           {R"({"id":1,"payload":{}})", R"({"id":1,"payload":{}})"},
       }) {
    Document d = p.parse(c.line);
    Document back = decode_stored(schema, encode_stored(schema, d));
    EXPECT_EQ(payloads(back), payloads(d)) << c.line;
    std::string printed = stored_to_json(schema, back);
    EXPECT_EQ(printed, c.printed);
    EXPECT_EQ(payloads(p.parse(printed)), payloads(d)) << printed;
  }
  // Values made in code (as the Arrow import makes them): one value, whatever the text.
  Document d;
  for (const char* v : {"null", R"(["a","b"])", "0", R"("")"}) d.values.push_back(FieldValue{1, JsonValue{v}});
  EXPECT_EQ(payloads(decode_stored(schema, encode_stored(schema, d))), (std::vector<std::string>{"null", R"(["a","b"])", "0", R"("")"}));
}

TEST(JsonDocument, CorruptStoredValueIsReported) {
  Schema schema = Schema::from_json(kSchema);
  Document d;
  d.values.push_back(FieldValue{1, JsonValue{""}});
  auto bytes = encode_stored(schema, d);
  EXPECT_EQ(code_of([&] { decode_stored(schema, bytes); }), ErrorCode::kCorrupt);
  // A length past the end is caught by the bounds check.
  d.values[0].value = JsonValue{"[1,2,3]"};
  bytes = encode_stored(schema, d);
  bytes.pop_back();
  EXPECT_EQ(code_of([&] { decode_stored(schema, bytes); }), ErrorCode::kCorrupt);
}

TEST(JsonSchema, OptionsDefaultsAndCanonicalForm) {
  Schema s = Schema::from_json(R"({"fields":[{"name":"p","type":"json"}]})");
  const auto& f = s.field(0);
  EXPECT_EQ(f.type, FieldType::kJson);
  EXPECT_EQ(f.options.tokenizer, "default");
  EXPECT_EQ(f.options.record, IndexRecordOption::kPosition);
  EXPECT_TRUE(f.options.fieldnorms);
  EXPECT_TRUE(s.has_json_field());
  EXPECT_EQ(s.to_json(),
            R"({"fields":[{"name":"p","type":"json","indexed":true,"stored":false,"fast":false,"tokenizer":"default","fieldnorms":true,"record":"position"}]})");
  EXPECT_EQ(Schema::from_json(s.to_json()), s);
  // fast is accepted and kept, as for every type (nothing columnar is built yet).
  Schema fast = Schema::from_json(R"({"fields":[{"name":"p","type":"json","fast":true,"record":"basic","fieldnorms":false}]})");
  EXPECT_TRUE(fast.field(0).options.fast);
  EXPECT_EQ(fast.field(0).options.record, IndexRecordOption::kBasic);
  EXPECT_FALSE(Schema::from_json(R"({"fields":[{"name":"n","type":"i64"}]})").has_json_field());
  EXPECT_EQ(code_of([] { Schema::from_json(R"({"fields":[{"name":"p","type":"json","colour":1}]})"); }), ErrorCode::kSchema);
}

TEST(JsonValueText, AJsonFieldHasNoSingleTermValue) {
  EXPECT_EQ(code_of([] { parse_value_text(FieldType::kJson, "x", "payload"); }), ErrorCode::kQuery);
  EXPECT_NE(message_of([] { parse_value_text(FieldType::kJson, "x", "payload"); }).find("payload:value"), std::string::npos);
  EXPECT_EQ(code_of([] { encode_term_value(FieldType::kJson, Value(JsonValue{"{}"})); }), ErrorCode::kInternal);
  std::string out;
  append_value_json(out, Value(JsonValue{R"({"a":[1,2]})"}));
  EXPECT_EQ(out, R"({"a":[1,2]})");
}

}  // namespace
}  // namespace needle
