// Copyright 2026 Trainyard authors.
//
// google.rpc.ErrorInfo reasons that more than one service gives, so that a
// client branching on a reason sees the same word from each. A service's own
// reasons live in its errors header (services/<service>/domain/errors.h).
#pragma once

#include <string_view>

namespace trainyard::reasons {

// The job is unknown to the service answering (build with JobNotFoundError).
inline constexpr std::string_view kJobNotFound = "JOB_NOT_FOUND";
// A page token that is malformed, expired or from another query (build with
// paging::InvalidTokenError, common/paging/opaque_token.h).
inline constexpr std::string_view kInvalidPageToken = "INVALID_PAGE_TOKEN";
// An AIP-160 filter that does not parse or names an unknown field (build
// with InvalidFilterError, common/search/filter_parser.h).
inline constexpr std::string_view kInvalidFilter = "INVALID_FILTER";
// A write whose etag is not the resource's current one (ABORTED; build with
// EtagMismatchError): read again, re-apply, retry.
inline constexpr std::string_view kEtagMismatch = "ETAG_MISMATCH";

// Request bytes that do not parse as the method's request message (not
// protobuf, another message, or a string field that is not valid UTF-8):
// INVALID_ARGUMENT; fix the client, never retry unchanged.
inline constexpr std::string_view kMalformedRequest = "MALFORMED_REQUEST";

// A write refused because the disk under the database is full or below the
// free-space reserve (RESOURCE_EXHAUSTED); retry once space is freed.
inline constexpr std::string_view kStorageFull = "STORAGE_FULL";
// A write failed on an I/O error of the disk under the database
// (UNAVAILABLE); the database resumes writes by itself once the disk works.
inline constexpr std::string_view kStorageError = "STORAGE_ERROR";

}  // namespace trainyard::reasons
