// Test-only GoogleTest helpers for Status and StatusOr, shared by every
// module's tests (include it from _test.cc files only):
//
//   EXPECT_THAT(study.finalize(trial), IsOk());
//   ASSERT_OK_AND_ASSIGN(Trial trial, client.get_trial());
#ifndef SHERPA_CORE_STATUS_MATCHERS_H_
#define SHERPA_CORE_STATUS_MATCHERS_H_

#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sherpa/status.h"

namespace sherpa {

inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const Status& status = StatusOf(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

}  // namespace sherpa

// Evaluates `expr` (a StatusOr), fails the test unless it is OK, and
// assigns the value to `lhs` (which may declare a variable).
#define SHERPA_TEST_CONCAT_INNER(a, b) a##b
#define SHERPA_TEST_CONCAT(a, b) SHERPA_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SHERPA_TEST_CONCAT(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // SHERPA_CORE_STATUS_MATCHERS_H_
