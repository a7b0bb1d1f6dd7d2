// Copyright 2026 Trainyard authors.
//
// The jobs list as CSV (R-LIST-06): the columns of jobs.proto's
// ExportJobsRequest.format, RFC 4180 with spreadsheet formulas neutralised
// (common/strings/csv.h), money as decimal units, times RFC 3339 UTC.
//
// Pure functions: thread-safe.
#pragma once

#include <string>

#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::jobs {

// Appends the header row.
void AppendJobCsvHeader(std::string* out);

// Appends one row for `job` (as projected for the reader).
void AppendJobCsvRow(const v1::Job& job, std::string* out);

// Micro-units as a decimal amount with at least two decimals: 22180000 ->
// "22.18", 1234567 -> "1.234567", -500000 -> "-0.50".
std::string DecimalUnits(int64_t micros);

}  // namespace trainyard::jobs
