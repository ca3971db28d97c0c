// Splitting a schema script (sql/schema.sql) into statements that can be run one at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chat::storage {

// A statement ends with a ';' at the end of a line (trailing blanks allowed); the ';' is not
// part of it. Blank lines and lines starting with "--" are skipped; text after the last ';'
// still forms a statement. Stored procedures or ';' at the end of a line inside a string are not
// supported, which schema.sql respects.
std::vector<std::string> split_sql_statements(std::string_view script);

}  // namespace chat::storage
