// The records one node forwards to another, as the route script writes them.
#include "../src/forward_payload.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::services::detail {
namespace {

std::string record(std::string_view ids, std::string_view body) {
  return std::string(ids) + "\n" + std::to_string(body.size()) + "\n" + std::string(body);
}

TEST(ForwardPayload, ReadsEveryRecordInOrder) {
  const std::string first = R"({"msgid":5,"msg":"a\nb"})";  // a body may hold newlines
  const std::string second = R"({"msgid":12,"msg":"x"})";
  const auto payload = record("3", first) + record("4,17,9", second);
  std::vector<forwarded_record> out;
  ASSERT_TRUE(parse_forward_payload(payload, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].recipients, std::vector<user_id>{3});
  EXPECT_EQ(out[0].body, first);
  EXPECT_EQ(out[1].recipients, (std::vector<user_id>{4, 17, 9}));
  EXPECT_EQ(out[1].body, second);
}

TEST(ForwardPayload, RejectsMalformedPayloads) {
  for (const std::string& bad : {std::string(), std::string("3\n"), std::string("3\n5\nabc"), std::string("3\n0\n"),
                                std::string("x\n1\na"), std::string("0\n1\na"), std::string("-2\n1\na"),
                                std::string("3,\n1\na"), std::string(",3\n1\na"), std::string("3\n1x\na"),
                                record("3", "{}") + "4\n"}) {
    std::vector<forwarded_record> out;
    EXPECT_FALSE(parse_forward_payload(bad, out)) << bad;
  }
}

}  // namespace
}  // namespace chat::services::detail
