// split_sql_statements on small scripts and on sql/schema.sql's conventions.
#include <chat/storage/schema.hpp>

#include <gtest/gtest.h>

namespace {

using chat::storage::split_sql_statements;
using v = std::vector<std::string>;

TEST(split_sql_statements, splits_at_semicolons_at_line_end) {
  EXPECT_EQ(split_sql_statements("CREATE TABLE a (\n  x INT\n);\nCREATE TABLE b (y INT);\n"),
            (v{"CREATE TABLE a (\nx INT\n)", "CREATE TABLE b (y INT)"}));
}

TEST(split_sql_statements, skips_comments_and_blank_lines) {
  EXPECT_EQ(split_sql_statements("-- header; with a semicolon;\n\n  \nSELECT 1;\n-- trailer\n"), (v{"SELECT 1"}));
}

TEST(split_sql_statements, keeps_semicolons_inside_a_line) {
  EXPECT_EQ(split_sql_statements("INSERT INTO t VALUES ('a;b');\n"), (v{"INSERT INTO t VALUES ('a;b')"}));
}

TEST(split_sql_statements, handles_crlf_trailing_blanks_and_a_missing_final_semicolon) {
  EXPECT_EQ(split_sql_statements("SELECT 1;  \r\nSELECT 2"), (v{"SELECT 1", "SELECT 2"}));
}

TEST(split_sql_statements, empty_statements_are_dropped) {
  EXPECT_EQ(split_sql_statements(";\n  ;\n"), v{});
  EXPECT_EQ(split_sql_statements(""), v{});
}

}  // namespace
