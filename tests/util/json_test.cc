#include "service/util/json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace dcdir::util {
namespace {

TEST(AppendJsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  constexpr char kIn[] = "a\"b\\c\nd\re\tf\x01g\x1fh\0i";  // with a NUL inside
  std::string out;
  AppendJsonString(&out, std::string_view(kIn, sizeof(kIn) - 1));
  EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf\u0001g\u001fh\u0000i")");
}

TEST(AppendJsonStringTest, CopiesUtf8AndDelAsTheyAre) {
  std::string out;
  AppendJsonString(&out, "Zürich \x7f → ok");
  EXPECT_EQ(out, "\"Zürich \x7f → ok\"");
}

TEST(JsonWriterTest, EmptyContainers) {
  JsonWriter w;
  w.BeginArray().BeginObject().EndObject().BeginArray().EndArray().EndArray();
  EXPECT_EQ(w.str(), "[{},[]]");
}

TEST(JsonWriterTest, CommasBetweenMembersAndElementsOnly) {
  JsonWriter w;
  w.BeginObject()
      .Key("a").Value(1)
      .Key("b").Value("x")
      .Key("c").BeginArray().Value(true).Value(false).Null().EndArray()
      .Key("d").Null()
      .EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":"x","c":[true,false,null],"d":null})");
}

TEST(JsonWriterTest, NestsObjectsInArraysInObjects) {
  JsonWriter w;
  w.BeginObject().Key("groups").BeginArray();
  for (int g = 0; g < 2; ++g) {
    w.BeginObject().Key("n").Value(g).Key("dcs").BeginArray();
    for (int d = 0; d < g + 1; ++d) w.BeginObject().Key("id").Value(d).EndObject();
    w.EndArray().EndObject();
  }
  w.EndArray().Key("ok").Value(true).EndObject();
  EXPECT_EQ(w.str(),
            R"({"groups":[{"n":0,"dcs":[{"id":0}]},{"n":1,"dcs":[{"id":0},{"id":1}]}],"ok":true})");
}

TEST(JsonWriterTest, EscapesKeysAndValues) {
  JsonWriter w;
  w.BeginObject().Key("a\"b").Value("line\nbreak").Key("c").Value(std::string("t\tab")).EndObject();
  EXPECT_EQ(w.str(), R"({"a\"b":"line\nbreak","c":"t\tab"})");
}

TEST(JsonWriterTest, StringLiteralsAreStringsNotBools) {
  JsonWriter w;
  w.BeginArray().Value("true").Value(true).EndArray();
  EXPECT_EQ(w.str(), R"(["true",true])");
}

TEST(JsonWriterTest, IntegersOfEveryWidth) {
  JsonWriter w;
  w.BeginArray()
      .Value(0)
      .Value(-7)
      .Value(uint32_t{4294967295u})
      .Value(std::numeric_limits<int64_t>::min())
      .Value(std::numeric_limits<uint64_t>::max())
      .Value(size_t{21})
      .EndArray();
  EXPECT_EQ(w.str(),
            "[0,-7,4294967295,-9223372036854775808,18446744073709551615,21]");
}

TEST(JsonWriterTest, FixedDecimalsAndNonFiniteAsNull) {
  JsonWriter w;
  w.BeginArray()
      .Fixed(47.6, 6)
      .Fixed(-122.33, 2)
      .Fixed(0.5, 0)  // round half to even, as printf does
      .Fixed(std::numeric_limits<double>::quiet_NaN(), 6)
      .Fixed(-std::numeric_limits<double>::infinity(), 6)
      .EndArray();
  EXPECT_EQ(w.str(), "[47.600000,-122.33,0,null,null]");
}

TEST(JsonWriterTest, FixedLongerThanItsBuffer) {
  JsonWriter w;
  w.Fixed(1e300, 1);
  // 301 integer digits (1e300 is 1000000000000000052504... in binary floating point) and ".0".
  ASSERT_EQ(w.str().size(), 303u);
  EXPECT_EQ(w.str().substr(0, 19), "1000000000000000052");
  EXPECT_EQ(w.str().substr(301), ".0");
}

TEST(JsonWriterTest, StringsWritesAnArray) {
  JsonWriter w;
  w.BeginObject().Key("a").Strings({}).Key("b").Strings({"x", "y\""}).EndObject();
  EXPECT_EQ(w.str(), R"({"a":[],"b":["x","y\""]})");
}

TEST(JsonWriterTest, TakeEmptiesTheWriter) {
  JsonWriter w;
  w.BeginArray().Value(1).EndArray();
  EXPECT_EQ(w.Take(), "[1]");
  EXPECT_EQ(w.str(), "");
  w.Value(2);
  EXPECT_EQ(w.str(), "2");  // no comma left over from the first text
}

}  // namespace
}  // namespace dcdir::util
