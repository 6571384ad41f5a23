// What the host and the guest init program (harness/guest/) exchange.
//
// The host passes the request (command, uid, environment, mounts) as a JSON file
// in the initramfs. While the guest runs, one virtio console port (/dev/hvc0 in the
// guest, a UNIX socket on the host) carries frames in both directions: a type byte,
// a 32-bit little-endian payload length, the payload. One channel keeps stdout,
// stderr and the exit status in the order the guest produced them, so when the
// host reads the exit frame it has every byte of output before it.
//
// Header-only: the static guest init includes it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nozero::vm::protocol {

// Paths inside the initramfs.
inline constexpr const char* kRequestPath = "/nozero/request.json";
inline constexpr const char* kInitPath = "/init";
// 9p mount tags of the host root and of the read-write share.
inline constexpr const char* kRootTag = "nozero-root";
inline constexpr const char* kShareTag = "nozero-share";
// The guest device of the frame channel (the first virtio console port).
inline constexpr const char* kChannelDevice = "/dev/hvc0";

enum class FrameType : char {
  stdout_data = 'O',   // guest -> host: bytes the command wrote to stdout
  stderr_data = 'E',   // guest -> host: bytes the command wrote to stderr
  started = 'S',       // guest -> host: JSON {"release", "cmdline"} just before exec
  exited = 'X',        // guest -> host: JSON {"status", "signal"} after the command ended
  failed = 'F',        // guest -> host: text, the guest could not set up or run the command
  log = 'L',           // guest -> host: text, a note from the init program
  ack = 'A',           // host -> guest: the exit frame arrived; the guest may power off
};

inline constexpr std::size_t kHeaderSize = 5;
// Larger payloads are split; the decoder rejects anything bigger as corruption.
inline constexpr std::uint32_t kMaxPayload = 1u << 20;

struct Frame {
  FrameType type;
  std::string payload;
};

inline std::string encode_frame(FrameType type, std::string_view payload) {
  std::string frame;
  frame.reserve(kHeaderSize + payload.size());
  frame.push_back(static_cast<char>(type));
  auto length = static_cast<std::uint32_t>(payload.size());
  for (int shift = 0; shift < 32; shift += 8)
    frame.push_back(static_cast<char>((length >> shift) & 0xff));
  frame.append(payload);
  return frame;
}

inline bool known_frame_type(char type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::stdout_data:
    case FrameType::stderr_data:
    case FrameType::started:
    case FrameType::exited:
    case FrameType::failed:
    case FrameType::log:
    case FrameType::ack:
      return true;
  }
  return false;
}

// Reassembles frames from a byte stream delivered in arbitrary pieces.
class FrameDecoder {
 public:
  // Appends bytes and returns the frames they complete. Sets error() and stops
  // decoding on an unknown type or an oversized length.
  std::vector<Frame> feed(std::string_view bytes) {
    std::vector<Frame> frames;
    if (!error_.empty()) return frames;
    buffer_.append(bytes);
    std::size_t offset = 0;
    while (buffer_.size() - offset >= kHeaderSize) {
      char type = buffer_[offset];
      std::uint32_t length = 0;
      for (int index = 0; index < 4; ++index)
        length |= static_cast<std::uint32_t>(static_cast<unsigned char>(buffer_[offset + 1 + index]))
                  << (8 * index);
      if (!known_frame_type(type) || length > kMaxPayload) {
        error_ = "corrupt frame header at byte " + std::to_string(consumed_ + offset) +
                 " (type 0x" + hex(static_cast<unsigned char>(type)) + ", length " +
                 std::to_string(length) + ")";
        break;
      }
      if (buffer_.size() - offset - kHeaderSize < length) break;
      frames.push_back({static_cast<FrameType>(type), buffer_.substr(offset + kHeaderSize, length)});
      offset += kHeaderSize + length;
    }
    buffer_.erase(0, offset);
    consumed_ += offset;
    return frames;
  }

  const std::string& error() const { return error_; }
  std::size_t pending_bytes() const { return buffer_.size(); }

 private:
  static std::string hex(unsigned value) {
    const char* digits = "0123456789abcdef";
    return {digits[(value >> 4) & 0xf], digits[value & 0xf]};
  }

  std::string buffer_;
  std::string error_;
  std::size_t consumed_ = 0;
};

}  // namespace nozero::vm::protocol
