#include "sherpa/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa {
namespace {

using ::testing::HasSubstr;

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError(std::to_string(x) + " is odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  SHERPA_ASSIGN_OR_RETURN(int half, Half(x));
  SHERPA_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  SHERPA_RETURN_IF_ERROR(Half(x).status());
  return OkStatus();
}

TEST(StatusTest, OkByDefaultAndPrintsCodeNameOtherwise) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "OK");
  Status s = NotFoundError("trial 7 is not part of this study");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: trial 7 is not part of this study");
}

TEST(StatusTest, WithContextKeepsCodeAndPrefixesMessage) {
  Status s = InvalidArgumentError("lo >= hi").WithContext("parameters[1]");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "parameters[1]: lo >= hi");
  EXPECT_TRUE(OkStatus().WithContext("x").ok());
}

TEST(StatusOrTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  StatusOr<int> odd = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(odd.ok());
  EXPECT_THAT(odd.status().message(), HasSubstr("3 is odd"));
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
}

TEST(StatusOrDeathTest, ValueOfAnErrorAborts) {
  StatusOr<int> error = InternalError("boom");
  EXPECT_DEATH((void)error.value(), "");
}

}  // namespace
}  // namespace sherpa
