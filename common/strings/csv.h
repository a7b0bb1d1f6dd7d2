// Copyright 2026 Trainyard authors.
//
// CSV fields for every CSV file the suite writes (event exports, cost
// reports, job lists): RFC 4180 quoting plus the OWASP "CSV injection" rule,
// so that a file opened in a spreadsheet never evaluates a cell that a
// sender or a user wrote. Library ty_csv.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace trainyard {

// True when a spreadsheet could read `field` as a formula: it starts with
// '=', '+', '-', '@', a tab or a carriage return, and is not a plain decimal
// number ("-3", "+0.25", "-1.5e-4"; these are kept as they are so that
// numeric columns stay numbers).
bool CsvNeedsNeutralizing(std::string_view field);

// Appends `field` to `*out` as one CSV field: with a leading single quote
// when CsvNeedsNeutralizing(field) (the cell then reads as text,
// "'=HYPERLINK(...)"), and then, when it holds a comma, a double quote, CR or
// LF, in double quotes with inner quotes doubled (RFC 4180). Bytes are
// copied as they are otherwise (UTF-8 stays UTF-8). Use it for every cell,
// text or number: plain numbers are never changed.
void AppendCsvField(std::string_view field, std::string* out);

// Appends `fields` as one row: AppendCsvField each, separated by commas,
// ended by CRLF.
void AppendCsvRow(std::initializer_list<std::string_view> fields,
                  std::string* out);

}  // namespace trainyard
