// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion export --table`: a results table of a workspace (rows runs or seed groups, columns
// tasks + avg, each column with its protocol and split) as Markdown or CSV (core/store/
// results_table.h), on stdout or into a file.
#include <fstream>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/workspace_targets.h"
#include "core/common/error.h"
#include "core/store/results_table.h"

namespace apportion::cli {

int run_export_table(const std::string& db_path, const TableArgs& args) {
  const RunReader reader = open_reader(db_path);
  ResultsTableOptions options;
  options.groups = args.groups;
  options.run_prefixes = args.runs;
  options.experiment = args.experiment;
  const ResultsTable table = build_results_table(reader.list_runs(), options);
  const bool csv = args.format == "csv";
  const std::string text = csv ? results_table_csv(table) : results_table_markdown(table);
  if (args.output.empty()) {
    std::cout << text << std::flush;
  } else {
    std::ofstream out(args.output, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      throw Error(args.output +
                  ": cannot write the table (does its folder exist and is it "
                  "writable?)");
    }
    std::cerr << "wrote " << table.rows.size() << (table.groups ? " group" : " run") << " rows to "
              << args.output << std::endl;
  }
  // Markdown on stdout carries its warnings; a CSV or a file does not show them to the reader.
  if (csv || !args.output.empty()) {
    for (const std::string& w : table.warnings) std::cerr << "warning: " << w << std::endl;
  }
  return kExitFinished;
}

}  // namespace apportion::cli
