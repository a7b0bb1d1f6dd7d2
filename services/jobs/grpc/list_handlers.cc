// Copyright 2026 Trainyard authors.
//
// ListJobs, ListCreators and ExportJobs (R-LIST-01..04, R-LIST-06).
#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/paging/opaque_token.h"
#include "common/search/filter_binder.h"
#include "common/search/keyword_matcher.h"
#include "common/server/stream_writer.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/time/proto_time.h"
#include "google/protobuf/util/json_util.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/grpc/job_views_service.h"
#include "services/jobs/views/job_csv.h"

namespace trainyard::jobs {
namespace {

using server::CallInfo;

constexpr int kListDefaultPage = 25;
constexpr int kListMaxPage = 100;
constexpr int kCreatorsDefaultPage = 100;
constexpr int kCreatorsMaxPage = 1000;
constexpr int kMaxExportIds = 1000;
// Chunks stay under the proto's 64 KiB: a row is at most ~17 KB (4,000
// characters of notes, 20 tags).
constexpr size_t kChunkFlush = 40 * 1024;

absl::StatusOr<int> PageSize(int32_t requested, int def, int max) {
  if (requested < 0) {
    return InvalidFieldError("page_size", "must not be negative");
  }
  return requested == 0 ? def : std::min<int>(requested, max);
}

// ---- ListCreators ----------------------------------------------------------

struct CreatorQuery {
  std::string name_has;  // folded, ':' on display_name
  std::string name_is;   // '=' on display_name
  std::string user_id;   // '=' on user_id
  int order = 0;         // 0 display_name, 1 job_count desc, 2 last desc
};

absl::StatusOr<CreatorQuery> ParseCreatorQuery(const std::string& filter,
                                               const std::string& order_by) {
  enum Field { kDisplayName, kUserId };
  using enum FilterOp;
  static const auto* fields = new std::vector<FilterField>{
      {.name = "display_name",
       .id = kDisplayName,
       .ops = {kHas, kEq},
       .or_groups = FilterOrGroups::kNone},
      {.name = "user_id",
       .id = kUserId,
       .ops = {kEq},
       .or_groups = FilterOrGroups::kNone},
  };
  CreatorQuery q;
  ASSIGN_OR_RETURN(BoundFilter bound, BindFilter(filter, *fields));
  for (const BoundTerm& term : bound.all_of) {
    const BoundRestriction& r = term.any_of.front();
    if (r.id == kUserId) {
      q.user_id = r.value.text;
    } else if (r.op == kHas) {
      q.name_has = FoldCase(r.value.text);
    } else {
      q.name_is = r.value.text;
    }
  }
  if (order_by.empty() || order_by == "display_name") {
    q.order = 0;
  } else if (order_by == "job_count desc") {
    q.order = 1;
  } else if (order_by == "last_create_time desc") {
    q.order = 2;
  } else {
    return InvalidFieldError(
        "order_by",
        "one of \"display_name\", \"job_count desc\", \"last_create_time "
        "desc\"");
  }
  return q;
}

// ---- ExportJobs
// --------------------------------------------------------------

std::string ExportTimestamp(absl::Time now) {
  return absl::FormatTime("%Y%m%d-%H%M%S", now, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<v1::Job> JobViewsService::VisibleJob(
    const std::string& job_id, std::string_view field) const {
  RETURN_IF_ERROR(ValidateId(field, job_id));
  absl::StatusOr<internal::JobRecord> r = deps_.engine.store().Get(job_id);
  if (absl::IsNotFound(r.status()) || (r.ok() && r->deleted())) {
    return JobNotFoundError(job_id, "does not exist");
  }
  RETURN_IF_ERROR(r.status());
  return ProjectJob(*r, deps_.engine.clock().Now());
}

grpc::ServerUnaryReactor* JobViewsService::ListJobs(
    grpc::CallbackServerContext* ctx, const v1::ListJobsRequest* req,
    v1::ListJobsResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "ListJobs", req, resp,
      [this](const CallInfo&, const v1::ListJobsRequest& r,
             v1::ListJobsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(
            int size, PageSize(r.page_size(), kListDefaultPage, kListMaxPage));
        ASSIGN_OR_RETURN(JobQuery query,
                         ParseJobQuery(r.filter(), r.keyword(), r.order_by()));
        std::optional<SortKey> after;
        if (!r.page_token().empty()) {
          ASSIGN_OR_RETURN(
              std::string payload,
              paging::DecodeOpaqueToken("page_token", "jobs.list",
                                        query.binding, r.page_token()));
          ASSIGN_OR_RETURN(after, DecodeSortKey(payload));
        }
        const absl::Time now = deps_.engine.clock().Now();
        JobIndex::Page page =
            deps_.index.Query(query, after, size, absl::ToUnixMicros(now));
        for (const std::string& id : page.job_ids) {
          absl::StatusOr<internal::JobRecord> rec =
              deps_.engine.store().Get(id);
          // Deleted between the index read and now: gone from the page.
          if (!rec.ok() || rec->deleted()) continue;
          *out.add_jobs() = ProjectJob(*rec, now);
        }
        out.set_total_size(page.total_size);
        if (page.next) {
          out.set_next_page_token(paging::EncodeOpaqueToken(
              "jobs.list", query.binding, EncodeSortKey(*page.next)));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobViewsService::ListCreators(
    grpc::CallbackServerContext* ctx, const v1::ListCreatorsRequest* req,
    v1::ListCreatorsResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "ListCreators", req, resp,
      [this](const CallInfo&, const v1::ListCreatorsRequest& r,
             v1::ListCreatorsResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(int size, PageSize(r.page_size(), kCreatorsDefaultPage,
                                            kCreatorsMaxPage));
        ASSIGN_OR_RETURN(CreatorQuery q,
                         ParseCreatorQuery(r.filter(), r.order_by()));
        const std::string binding =
            absl::StrCat(r.filter(), "\n", r.order_by());
        uint64_t offset = 0;
        if (!r.page_token().empty()) {
          ASSIGN_OR_RETURN(
              std::string payload,
              paging::DecodeOpaqueToken("page_token", "jobs.creators", binding,
                                        r.page_token()));
          std::string_view p = payload;
          if (!storage::ConsumeUint64(&p, &offset) || !p.empty()) {
            return paging::InvalidTokenError("page_token", "not a position");
          }
        }
        std::vector<JobIndex::Creator> all = deps_.index.Creators();
        std::vector<JobIndex::Creator> creators;
        for (JobIndex::Creator& c : all) {
          if (!q.user_id.empty() && c.user_id != q.user_id) continue;
          if (!q.name_is.empty() && c.display_name != q.name_is) continue;
          if (!q.name_has.empty() &&
              FoldCase(c.display_name).find(q.name_has) == std::string::npos) {
            continue;
          }
          creators.push_back(std::move(c));
        }
        std::sort(creators.begin(), creators.end(),
                  [&q](const JobIndex::Creator& a, const JobIndex::Creator& b) {
                    if (q.order == 1 && a.job_count != b.job_count) {
                      return a.job_count > b.job_count;
                    }
                    if (q.order == 2 && a.last_create_us != b.last_create_us) {
                      return a.last_create_us > b.last_create_us;
                    }
                    if (q.order == 0 && a.display_name != b.display_name) {
                      return a.display_name < b.display_name;
                    }
                    return a.user_id < b.user_id;
                  });
        out.set_total_size(static_cast<int32_t>(creators.size()));
        for (size_t i = offset; i < creators.size() && i < offset + size; ++i) {
          v1::Creator* c = out.add_creators();
          c->mutable_user()->set_user_id(creators[i].user_id);
          c->mutable_user()->set_display_name(creators[i].display_name);
          c->set_job_count(creators[i].job_count);
          *c->mutable_last_create_time() =
              ToProto(absl::FromUnixMicros(creators[i].last_create_us));
        }
        if (offset + size < creators.size()) {
          out.set_next_page_token(paging::EncodeOpaqueToken(
              "jobs.creators", binding, storage::EncodeUint64(offset + size)));
        }
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::ExportJobsResponse>* JobViewsService::ExportJobs(
    grpc::CallbackServerContext* ctx, const v1::ExportJobsRequest* req) {
  return server::StartProducerStream<v1::ExportJobsResponse>(
      deps_.rpc, ctx, "ExportJobs",
      [this, r = *req](const CallInfo&, const auto& sink) -> absl::Status {
        const common::v1::ExportFormat format =
            r.format() == common::v1::EXPORT_FORMAT_UNSPECIFIED
                ? common::v1::EXPORT_FORMAT_CSV
                : r.format();
        if (!common::v1::ExportFormat_IsValid(format)) {
          return InvalidFieldError("format", "CSV, JSON or JSONL");
        }
        const absl::Time now = deps_.engine.clock().Now();
        // The rows to write, fixed now (ids only: records are read chunk by
        // chunk, so 100K jobs never sit in memory).
        std::vector<std::string> ids;
        if (r.job_ids_size() > 0) {
          if (!r.filter().empty() || !r.keyword().empty()) {
            return InvalidFieldError(
                r.filter().empty() ? "keyword" : "filter",
                "must be empty when job_ids selects the jobs");
          }
          if (r.job_ids_size() > kMaxExportIds) {
            return InvalidFieldError(
                "job_ids", absl::StrCat("at most ", kMaxExportIds, " ids"));
          }
          absl::flat_hash_set<std::string> seen;
          for (int i = 0; i < r.job_ids_size(); ++i) {
            const std::string field = absl::StrCat("job_ids[", i, "]");
            if (!seen.insert(r.job_ids(i)).second) {
              return InvalidFieldError(field, "names a job twice");
            }
            RETURN_IF_ERROR(VisibleJob(r.job_ids(i), field).status());
            ids.push_back(r.job_ids(i));
          }
        } else {
          ASSIGN_OR_RETURN(
              JobQuery query,
              ParseJobQuery(r.filter(), r.keyword(), r.order_by()));
          ids = deps_.index.MatchingIds(query, absl::ToUnixMicros(now));
        }
        v1::ExportJobsResponse first;
        const char* ext = format == common::v1::EXPORT_FORMAT_CSV    ? "csv"
                          : format == common::v1::EXPORT_FORMAT_JSON ? "json"
                                                                     : "jsonl";
        first.set_filename(
            absl::StrCat("training-jobs-", ExportTimestamp(now), ".", ext));
        first.set_content_type(format == common::v1::EXPORT_FORMAT_CSV
                                   ? "text/csv; charset=utf-8"
                               : format == common::v1::EXPORT_FORMAT_JSON
                                   ? "application/json"
                                   : "application/x-ndjson");
        std::string buf;
        if (format == common::v1::EXPORT_FORMAT_CSV) AppendJobCsvHeader(&buf);
        if (format == common::v1::EXPORT_FORMAT_JSON) buf.push_back('[');
        bool sent_first = false;
        auto flush = [&](bool last, int32_t count) -> absl::Status {
          v1::ExportJobsResponse msg;
          if (!sent_first) msg = first;
          sent_first = true;
          msg.set_chunk(std::move(buf));
          buf.clear();
          if (last) msg.set_job_count(count);
          return sink(msg);
        };
        int32_t count = 0;
        google::protobuf::util::JsonPrintOptions json;
        json.preserve_proto_field_names = false;
        for (const std::string& id : ids) {
          absl::StatusOr<internal::JobRecord> rec =
              deps_.engine.store().Get(id);
          if (!rec.ok() || rec->deleted()) continue;  // deleted since
          const v1::Job job = ProjectJob(*rec, now);
          if (format == common::v1::EXPORT_FORMAT_CSV) {
            AppendJobCsvRow(job, &buf);
          } else {
            std::string line;
            if (!google::protobuf::util::MessageToJsonString(job, &line, json)
                     .ok()) {
              return absl::InternalError("job not printable as JSON");
            }
            if (format == common::v1::EXPORT_FORMAT_JSON && count > 0) {
              buf.push_back(',');
            }
            buf.append(line);
            if (format == common::v1::EXPORT_FORMAT_JSONL) buf.push_back('\n');
          }
          ++count;
          if (buf.size() >= kChunkFlush) RETURN_IF_ERROR(flush(false, 0));
        }
        if (format == common::v1::EXPORT_FORMAT_JSON) buf.append("]");
        return flush(true, count);
      });
}

}  // namespace trainyard::jobs
