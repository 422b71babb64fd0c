// SHERPA's results.csv layout, written from the indexed results table.
#include <ostream>
#include <set>
#include <string>

#include "sherpa/results.h"

namespace sherpa {
namespace {

// RFC 4180 quoting, as pandas writes it: PBT's lineage ("1,21,") must stay
// one field.
void WriteField(std::ostream& out, const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) {
    out << field;
    return;
  }
  out << '"';
  for (char c : field) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace

void Results::WriteCsv(std::ostream& out) const {
  // The column set is the union over all rows, as in SHERPA's DataFrame.
  std::set<std::string> parameter_names, context_names;
  for (const TrialRecord& record : records_) {
    for (const auto& [name, value] : record.trial().parameters) parameter_names.insert(name);
    for (const Observation& o : record.observations()) {
      for (const auto& [name, value] : o.context) context_names.insert(name);
    }
  }

  out << "Trial-ID,Status,Iteration";
  for (const std::string& name : parameter_names) WriteField(out << ',', name);
  out << ",Objective";
  for (const std::string& name : context_names) WriteField(out << ',', name);
  out << '\n';

  ForEachRow([&](const ResultRow& row) {
    out << row.trial->id() << ',' << TrialStatusName(row.status) << ',';
    if (row.iteration) out << *row.iteration;
    const ParameterValues& params = row.trial->trial().parameters;
    for (const std::string& name : parameter_names) {
      out << ',';
      if (auto it = params.find(name); it != params.end()) WriteField(out, it->second.ToString());
    }
    out << ',';
    if (row.observation) out << Value(row.observation->objective).ToString();
    for (const std::string& name : context_names) {
      out << ',';
      if (!row.observation) continue;
      const Context& context = row.observation->context;
      if (auto it = context.find(name); it != context.end()) WriteField(out, it->second.ToString());
    }
    out << '\n';
  });
}

}  // namespace sherpa
