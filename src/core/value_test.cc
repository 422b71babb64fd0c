#include "sherpa/value.h"

#include <charconv>
#include <sstream>

#include <gtest/gtest.h>

namespace sherpa {
namespace {

TEST(ValueTest, KeepsItsType) {
  EXPECT_TRUE(Value(3).is_int());
  EXPECT_TRUE(Value(int64_t{1} << 40).is_int());
  EXPECT_TRUE(Value(0.5).is_double());
  EXPECT_TRUE(Value("relu").is_string());
  EXPECT_TRUE(Value(std::string("x")).is_string());
  EXPECT_NE(Value(1), Value(1.0));  // an int is not a double
  EXPECT_EQ(Value(2).as_number(), 2.0);
}

TEST(ValueTest, TextFormKeepsDoublesDistinctFromIntegers) {
  EXPECT_EQ(Value(1.0).ToString(), "1.0");
  EXPECT_EQ(Value(1).ToString(), "1");
  EXPECT_EQ(Value(0.1).ToString(), "0.1");
  EXPECT_EQ(Value(1e-7).ToString(), "1e-07");
  EXPECT_EQ(Value("a,b").ToString(), "a,b");
}

TEST(ValueTest, DoubleTextReadsBackExactly) {
  for (double d : {0.1, 1.0 / 3.0, 2.5e-300, 123456789.123, -7.0}) {
    const std::string text = Value(d).ToString();
    double back = 0;
    std::from_chars(text.data(), text.data() + text.size(), back);
    EXPECT_EQ(back, d) << text;
  }
}

TEST(ValueTest, OrdersByTypeThenValue) {
  EXPECT_LT(Value(1), Value(2));
  EXPECT_LT(Value("a"), Value("b"));
  EXPECT_LT(Value(5), Value(0.1));  // ints before doubles: a total order for sets
  std::ostringstream os;
  os << Value("s") << ' ' << Value(2);
  EXPECT_EQ(os.str(), "\"s\" 2");
}

}  // namespace
}  // namespace sherpa
