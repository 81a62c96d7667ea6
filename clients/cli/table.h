#ifndef DCDIR_CLIENTS_CLI_TABLE_H_
#define DCDIR_CLIENTS_CLI_TABLE_H_

// Plain aligned text tables for people: columns padded with two spaces, no trailing blanks.

#include <string>
#include <vector>

namespace dcdir::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // The header and every row, each line ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace dcdir::cli

#endif  // DCDIR_CLIENTS_CLI_TABLE_H_
