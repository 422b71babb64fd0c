// -----------------------------------------------------------------------------
// File: status.h
// -----------------------------------------------------------------------------
//
// `Status` and `StatusOr<T>` carry expected failures across module boundaries:
// a bad parameter definition, an observation for an unknown trial, a study
// spec with a wrong field. The codes and their meaning follow abseil's
// canonical set, so the HTTP server can map them to status codes with one
// table (400 for kInvalidArgument, 404 for kNotFound, 409 for
// kFailedPrecondition/kAlreadyExists, ...).
//
// Programmer errors (broken invariants) are not Statuses: they abort through
// SHERPA_CHECK in "sherpa/check.h".
//
// Example:
//
//   sherpa::StatusOr<sherpa::ParameterSpace> space =
//       sherpa::ParameterSpace::Create({sherpa::Continuous("lr", {1e-4, 1e-1})});
//   if (!space.ok()) {
//     std::cerr << space.status() << "\n";  // INVALID_ARGUMENT: parameter 'lr': ...
//     return 1;
//   }
//
// Thread safety: Status and StatusOr are values; distinct objects may be used
// from distinct threads.

#ifndef SHERPA_STATUS_H_
#define SHERPA_STATUS_H_

#include <cstdlib>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sherpa {

enum class StatusCode {
  kOk = 0,
  // The caller passed something wrong (a malformed definition or request).
  // Retrying the same call fails again.
  kInvalidArgument = 3,
  // The named entity (trial, study, parameter) does not exist.
  kNotFound = 5,
  // The caller is known but may not do this (a trial's token used for
  // another trial).
  kPermissionDenied = 7,
  // The entity to create exists already (e.g. a repeated observation).
  kAlreadyExists = 6,
  // The system is not in a state where the call can succeed (e.g. an
  // observation for a trial that has already been finalized, or a PBT
  // generation in which every member failed).
  kFailedPrecondition = 9,
  // The operation ran and had to stop (e.g. a study whose algorithm cannot
  // go on because every member of a generation failed).
  kAborted = 10,
  // The call can be retried as it is (e.g. the database is busy).
  kUnavailable = 14,
  // A bug or an unexpected failure of a dependency.
  kInternal = 13,
  // The caller did not prove who it is (no or an unknown token).
  kUnauthenticated = 16,
};

// Returns the upper-case name of `code`, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK", or "<CODE>: <message>".
  std::string ToString() const;

  // Returns a copy with `context + ": "` put in front of the message, so an
  // error can say where it happened without losing its code.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status AbortedError(std::string m) { return Status(StatusCode::kAborted, std::move(m)); }
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status UnauthenticatedError(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}

// Either a value of type T or a non-OK Status explaining why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // REQUIRES: !status.ok(). An OK status without a value is a programmer error.
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) std::abort();
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok(). Accessing the value of an error aborts.
  const T& value() const& { return checked(), *value_; }
  T& value() & { return checked(), *value_; }
  T&& value() && { return checked(), std::move(*value_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void checked() const {
    if (!value_) std::abort();
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace sherpa

// Returns from the enclosing function if `expr` yields a non-OK Status.
#define SHERPA_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::sherpa::Status sherpa_status_ = (expr);        \
    if (!sherpa_status_.ok()) return sherpa_status_; \
  } while (0)

#define SHERPA_STATUS_CONCAT_INNER_(a, b) a##b
#define SHERPA_STATUS_CONCAT_(a, b) SHERPA_STATUS_CONCAT_INNER_(a, b)

// `SHERPA_ASSIGN_OR_RETURN(auto x, MakeX());` declares `x` from a StatusOr, or
// returns its error from the enclosing function.
#define SHERPA_ASSIGN_OR_RETURN(lhs, expr) \
  SHERPA_ASSIGN_OR_RETURN_IMPL_(SHERPA_STATUS_CONCAT_(sherpa_statusor_, __LINE__), lhs, expr)
#define SHERPA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // SHERPA_STATUS_H_
