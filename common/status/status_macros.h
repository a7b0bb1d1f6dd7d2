// Copyright 2026 Trainyard authors.
//
// RETURN_IF_ERROR and ASSIGN_OR_RETURN: Abseil 20220623 has no public version.
//
//   RETURN_IF_ERROR(db.Put(...));
//   ASSIGN_OR_RETURN(Job job, store.Get(id));
//   ASSIGN_OR_RETURN(auto port, server.Start());
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TY_STATUS_CONCAT_INNER_(a, b) a##b
#define TY_STATUS_CONCAT_(a, b) TY_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function
// when it is not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    if (::absl::Status _ty_status = (expr); !_ty_status.ok()) { \
      return _ty_status;                                        \
    }                                                           \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs` (a declaration
// or an existing variable).
#define ASSIGN_OR_RETURN(lhs, rexpr)                                         \
  TY_ASSIGN_OR_RETURN_IMPL_(TY_STATUS_CONCAT_(_ty_statusor_, __LINE__), lhs, \
                            rexpr)

#define TY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) {                                 \
    return std::move(statusor).status();                \
  }                                                     \
  lhs = std::move(statusor).value()
