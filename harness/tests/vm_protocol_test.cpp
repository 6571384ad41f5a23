// The frame format of the host-guest channel.
#include <gtest/gtest.h>

#include "vm/guest_protocol.h"

namespace nozero::vm::protocol {
namespace {

TEST(FrameEncode, HeaderIsTypeAndLittleEndianLength) {
  auto frame = encode_frame(FrameType::stdout_data, std::string(258, 'x'));
  ASSERT_EQ(frame.size(), 5u + 258u);
  EXPECT_EQ(frame[0], 'O');
  EXPECT_EQ(static_cast<unsigned char>(frame[1]), 2u);
  EXPECT_EQ(static_cast<unsigned char>(frame[2]), 1u);
  EXPECT_EQ(frame[3], 0);
  EXPECT_EQ(frame[4], 0);
}

TEST(FrameDecoder, ReassemblesFramesSplitAnywhere) {
  std::string stream = encode_frame(FrameType::stdout_data, "hello\n") +
                       encode_frame(FrameType::stderr_data, "") +
                       encode_frame(FrameType::exited, R"({"status":3})");
  FrameDecoder decoder;
  std::vector<Frame> frames;
  for (char byte : stream) {
    for (auto& frame : decoder.feed(std::string_view{&byte, 1})) frames.push_back(frame);
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].type, FrameType::stdout_data);
  EXPECT_EQ(frames[0].payload, "hello\n");
  EXPECT_EQ(frames[1].type, FrameType::stderr_data);
  EXPECT_EQ(frames[1].payload, "");
  EXPECT_EQ(frames[2].type, FrameType::exited);
  EXPECT_EQ(frames[2].payload, R"({"status":3})");
  EXPECT_TRUE(decoder.error().empty());
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST(FrameDecoder, KeepsBinaryPayloads) {
  std::string binary{"\0\r\n\x05\xff", 5};
  FrameDecoder decoder;
  auto frames = decoder.feed(encode_frame(FrameType::stdout_data, binary));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, binary);
}

TEST(FrameDecoder, RejectsUnknownType) {
  FrameDecoder decoder;
  auto frames = decoder.feed(encode_frame(FrameType::log, "ok") + std::string{"Z\0\0\0\0", 5});
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_NE(decoder.error().find("corrupt frame header at byte 7"), std::string::npos)
      << decoder.error();
  EXPECT_TRUE(decoder.feed(encode_frame(FrameType::log, "later")).empty());
}

TEST(FrameDecoder, RejectsOversizedLength) {
  FrameDecoder decoder;
  decoder.feed(std::string{"O\xff\xff\xff\x7f", 5});
  EXPECT_FALSE(decoder.error().empty());
}

}  // namespace
}  // namespace nozero::vm::protocol
