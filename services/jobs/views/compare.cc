// Copyright 2026 Trainyard authors.
#include "services/jobs/views/compare.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace trainyard::jobs {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool SameField(const Message& a, const Message& b, const FieldDescriptor* f) {
  google::protobuf::util::MessageDifferencer d;
  // Compare only `f`: every other field is ignored.
  for (int i = 0; i < a.GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* other = a.GetDescriptor()->field(i);
    if (other != f) d.IgnoreField(other);
  }
  return d.Compare(a, b);
}

void Walk(const std::vector<const Message*>& messages,
          const std::string& prefix, std::vector<std::string>* out) {
  const google::protobuf::Descriptor* d = messages[0]->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string path = absl::StrCat(prefix, ".", f->name());
    if (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated()) {
      std::vector<const Message*> children;
      for (const Message* m : messages) {
        children.push_back(&m->GetReflection()->GetMessage(*m, f));
      }
      Walk(children, path, out);
      continue;
    }
    for (size_t j = 1; j < messages.size(); ++j) {
      if (!SameField(*messages[0], *messages[j], f)) {
        out->push_back(path);
        break;
      }
    }
  }
}

}  // namespace

std::vector<std::string> DifferingFields(
    const std::vector<const common::v1::TrainingConfig*>& messages,
    std::string_view prefix) {
  std::vector<std::string> out;
  if (messages.size() < 2) return out;
  std::vector<const Message*> all(messages.begin(), messages.end());
  Walk(all, std::string(prefix), &out);
  return out;
}

v1::JobComparison CompareEntry(const v1::Job& job,
                               const DashboardParts& parts) {
  v1::JobComparison c;
  *c.mutable_job() = job;
  if (parts.overview.ok()) {
    *c.mutable_metrics() = parts.overview->current_metrics();
    *c.mutable_loss_curve() = parts.overview->loss_curve();
    for (const common::v1::CurveSeries& s :
         parts.overview->loss_curve().series()) {
      if (s.name() != "val_loss" || s.rolled_back()) continue;
      for (const common::v1::CurvePoint& p : s.points()) {
        if (std::isfinite(p.value()) &&
            (!c.has_best_val_loss() || p.value() < c.best_val_loss())) {
          c.set_best_val_loss(p.value());
          c.set_best_val_loss_step(p.step());
        }
      }
    }
  }
  *c.mutable_cost() =
      parts.cost.ok() ? parts.cost->cost() : TrackerFromSummary(job);
  return c;
}

}  // namespace trainyard::jobs
