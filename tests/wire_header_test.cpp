// Tests of the v1 wire header: layout, round trips and every rejection path.
#include "wire/header.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <vector>

namespace inca::wire {
namespace {

using Bytes = std::vector<std::byte>;

Bytes make_payload(std::size_t n, unsigned seed = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 31 + seed * 7) & 0xff);
  return b;
}

Header sample_header() {
  Header h;
  h.type = PacketType::contribution;
  h.flags = kFlagLast | kFlagReproducible;
  h.dtype = Dtype::f32;
  h.op = ReduceOp::sum;
  h.attempt_tag = 0xfb;
  h.child = 0x0102;
  h.job = 0x0a0b0c0d;
  h.key_tag = 0xdeadbeef;
  h.tree = 0x1234;
  h.slot = 0x0567;
  h.shadow = true;
  h.sequence = 0x89abcdef;
  h.count = 4;
  return h;
}

Bytes encode_or_die(const Header& h, const Bytes& payload) {
  Bytes out(kHeaderBytes + payload.size());
  const std::size_t n = encode(h, payload, out);
  EXPECT_EQ(n, out.size());
  return out;
}

DecodeError decode_only(const Bytes& in) {
  Header h;
  std::span<const std::byte> payload;
  return decode(in, h, payload);
}

// Rewrites the checksum so a test reaches the check that follows it in order.
void refresh_checksum(Bytes& pkt) {
  const std::uint32_t c = checksum(std::span<const std::byte>(pkt).first(kHeaderBytes),
                                   std::span<const std::byte>(pkt).subspan(kHeaderBytes));
  for (int i = 0; i < 4; ++i) pkt[28 + i] = static_cast<std::byte>(c >> (24 - 8 * i));
}

void expect_same(const Header& a, const Header& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.attempt_tag, b.attempt_tag);
  EXPECT_EQ(a.child, b.child);
  EXPECT_EQ(a.job, b.job);
  EXPECT_EQ(a.key_tag, b.key_tag);
  EXPECT_EQ(a.tree, b.tree);
  EXPECT_EQ(a.slot, b.slot);
  EXPECT_EQ(a.shadow, b.shadow);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.count, b.count);
}

TEST(WireHeaderLayout, BytesAreBigEndianAtDocumentedOffsets) {
  const Header h = sample_header();
  const Bytes payload = make_payload(16);
  const Bytes pkt = encode_or_die(h, payload);
  const std::uint8_t expected[28] = {
      0x01, 0x01, 0x03, 0x0b, 0x01, 0xfb, 0x01, 0x02,  // version..child
      0x0a, 0x0b, 0x0c, 0x0d,                          // job
      0xde, 0xad, 0xbe, 0xef,                          // key_tag
      0x12, 0x34, 0x85, 0x67,                          // tree, shadow|slot
      0x89, 0xab, 0xcd, 0xef,                          // sequence
      0x00, 0x00, 0x00, 0x04,                          // count
  };
  for (std::size_t i = 0; i < sizeof expected; ++i)
    EXPECT_EQ(std::to_integer<int>(pkt[i]), expected[i]) << "offset " << i;
  EXPECT_EQ(0, std::memcmp(pkt.data() + kHeaderBytes, payload.data(), payload.size()));
}

TEST(WireHeaderChecksum, KnownVectorMatchesZlib) {
  const Header h = sample_header();
  const Bytes payload = make_payload(16);
  const Bytes pkt = encode_or_die(h, payload);

  // Independent computation: zlib over the header with the checksum zeroed,
  // then the payload.
  Bytes zeroed = pkt;
  for (int i = 28; i < 32; ++i) zeroed[i] = std::byte{0};
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(zeroed.data()), zeroed.size());
  const std::uint32_t on_wire = (std::to_integer<std::uint32_t>(pkt[28]) << 24) |
                                (std::to_integer<std::uint32_t>(pkt[29]) << 16) |
                                (std::to_integer<std::uint32_t>(pkt[30]) << 8) |
                                std::to_integer<std::uint32_t>(pkt[31]);
  EXPECT_EQ(on_wire, static_cast<std::uint32_t>(crc));
  // Pinned (cross-checked with Python zlib) so a change of layout or
  // polynomial is noticed.
  EXPECT_EQ(on_wire, 0xb1291533u);
  EXPECT_EQ(checksum(std::span<const std::byte>(pkt).first(kHeaderBytes),
                     std::span<const std::byte>(payload)),
            on_wire);
}

TEST(WireHeaderChecksum, EmptyPayloadDoesNotResetCrc) {
  Header h = sample_header();
  h.count = 0;
  const Bytes pkt = encode_or_die(h, {});
  uLong crc = crc32(0L, Z_NULL, 0);
  Bytes zeroed = pkt;
  for (int i = 28; i < 32; ++i) zeroed[i] = std::byte{0};
  crc = crc32(crc, reinterpret_cast<const Bytef*>(zeroed.data()), zeroed.size());
  EXPECT_EQ(checksum(pkt, {}), static_cast<std::uint32_t>(crc));
  EXPECT_EQ(decode_only(pkt), DecodeError::none);
}

TEST(WireHeaderRoundTrip, SampleKeepsEveryFieldAndPayload) {
  const Header h = sample_header();
  const Bytes payload = make_payload(16);
  const Bytes pkt = encode_or_die(h, payload);
  Header d;
  std::span<const std::byte> view;
  ASSERT_EQ(decode(pkt, d, view), DecodeError::none);
  expect_same(h, d);
  EXPECT_NE(d.checksum, 0u);
  EXPECT_TRUE(d.has(kFlagLast));
  EXPECT_TRUE(d.has(kFlagReproducible));
  ASSERT_EQ(view.size(), payload.size());
  EXPECT_EQ(view.data(), pkt.data() + kHeaderBytes);
  EXPECT_EQ(0, std::memcmp(view.data(), payload.data(), payload.size()));
}

TEST(WireHeaderRoundTrip, ExtremeFieldValues) {
  Header h = sample_header();
  h.flags = kFlagLast | kFlagReproducible;
  h.dtype = Dtype::i32;
  h.attempt_tag = 0x80;
  h.child = 0xffff;
  h.job = 0xffffffff;
  h.key_tag = 0xffffffff;
  h.tree = 0xffff;
  h.slot = kMaxSlot;
  h.shadow = true;
  h.sequence = 0xffffffff;
  h.count = 2;
  for (bool shadow : {false, true}) {
    for (std::uint8_t tag : {0x00, 0x7f, 0x80, 0xff}) {
      h.shadow = shadow;
      h.attempt_tag = tag;
      const Bytes pkt = encode_or_die(h, make_payload(8));
      Header d;
      std::span<const std::byte> view;
      ASSERT_EQ(decode(pkt, d, view), DecodeError::none);
      expect_same(h, d);
    }
  }
}

TEST(WireHeaderRoundTrip, EveryPacketType) {
  for (auto type : {PacketType::contribution, PacketType::result, PacketType::p2p,
                    PacketType::control, PacketType::error, PacketType::ack}) {
    Header h = sample_header();
    h.type = type;
    h.dtype = Dtype::u8;
    h.op = ReduceOp::sum;
    h.count = 5;
    const Bytes payload = make_payload(h.payload_bytes(), 3);
    ASSERT_EQ(payload.size(), 5u);
    const Bytes pkt = encode_or_die(h, payload);
    Header d;
    std::span<const std::byte> view;
    ASSERT_EQ(decode(pkt, d, view), DecodeError::none) << static_cast<int>(type);
    expect_same(h, d);
    EXPECT_EQ(view.size(), 5u);
  }
}

TEST(WireHeaderRoundTrip, EveryDtypeSizesThePayload) {
  for (Dtype dt : all_dtypes()) {
    Header h = sample_header();
    h.dtype = dt;
    h.count = 3;
    const Bytes payload = make_payload(3 * dtype_size(dt));
    ASSERT_EQ(h.payload_bytes(), payload.size()) << to_string(dt);
    const Bytes pkt = encode_or_die(h, payload);
    Header d;
    std::span<const std::byte> view;
    ASSERT_EQ(decode(pkt, d, view), DecodeError::none) << to_string(dt);
    expect_same(h, d);
    EXPECT_EQ(view.size(), payload.size());
  }
}

TEST(WireHeaderRoundTrip, ByteTypesCountBytesNotElements) {
  Header h = sample_header();
  h.type = PacketType::p2p;
  h.dtype = Dtype::f64;  // ignored for sizing on byte-oriented types
  h.count = 7;
  EXPECT_EQ(h.payload_bytes(), 7u);
  h.type = PacketType::result;
  EXPECT_EQ(h.payload_bytes(), 56u);
}

TEST(WireHeaderRoundTrip, MaxPayloadIsAccepted) {
  Header h = sample_header();
  h.dtype = Dtype::u8;
  h.count = kMaxPayloadBytes;
  const Bytes pkt = encode_or_die(h, make_payload(kMaxPayloadBytes));
  EXPECT_EQ(decode_only(pkt), DecodeError::none);
}

TEST(WireHeaderDecode, EveryTruncatedHeaderLength) {
  const Bytes pkt = encode_or_die(sample_header(), make_payload(16));
  for (std::size_t n = 0; n < kHeaderBytes; ++n) {
    // A fresh allocation of exactly n bytes lets ASan catch any over-read.
    const Bytes cut(pkt.begin(), pkt.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(decode_only(cut), DecodeError::truncated) << n;
  }
}

TEST(WireHeaderDecode, PayloadShorterThanAnnounced) {
  const Bytes pkt = encode_or_die(sample_header(), make_payload(16));
  for (std::size_t n = kHeaderBytes; n < pkt.size(); ++n) {
    const Bytes cut(pkt.begin(), pkt.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(decode_only(cut), DecodeError::truncated) << n;
  }
}

TEST(WireHeaderDecode, FailureLeavesOutputsUntouched) {
  Bytes pkt = encode_or_die(sample_header(), make_payload(16));
  pkt[0] = std::byte{2};
  Header h;
  h.job = 77;
  std::span<const std::byte> view;
  EXPECT_EQ(decode(pkt, h, view), DecodeError::bad_version);
  EXPECT_EQ(h.job, 77u);
  EXPECT_TRUE(view.empty());
}

TEST(WireHeaderDecode, WrongVersion) {
  for (int v : {0, 2, 255}) {
    Header h = sample_header();
    h.version = static_cast<std::uint8_t>(v);
    EXPECT_EQ(decode_only(encode_or_die(h, make_payload(16))), DecodeError::bad_version) << v;
  }
}

TEST(WireHeaderDecode, EveryInvalidTypeCode) {
  const Bytes good = encode_or_die(sample_header(), make_payload(16));
  for (int code = 0; code < 256; ++code) {
    if (code >= 1 && code <= 6) continue;
    Bytes pkt = good;
    pkt[1] = static_cast<std::byte>(code);
    refresh_checksum(pkt);
    EXPECT_EQ(decode_only(pkt), DecodeError::bad_type) << code;
  }
}

TEST(WireHeaderDecode, EveryInvalidDtypeCode) {
  const Bytes good = encode_or_die(sample_header(), make_payload(16));
  for (int code = 0; code < 256; ++code) {
    if (is_valid_dtype_code(static_cast<std::uint8_t>(code))) continue;
    Bytes pkt = good;
    pkt[3] = static_cast<std::byte>(code);
    refresh_checksum(pkt);
    EXPECT_EQ(decode_only(pkt), DecodeError::bad_dtype) << code;
  }
}

TEST(WireHeaderDecode, InvalidDtypeRejectedOnByteTypesToo) {
  Header h = sample_header();
  h.type = PacketType::control;
  h.dtype = Dtype::u8;
  h.count = 4;
  Bytes pkt = encode_or_die(h, make_payload(4));
  pkt[3] = std::byte{0};
  refresh_checksum(pkt);
  EXPECT_EQ(decode_only(pkt), DecodeError::bad_dtype);
}

TEST(WireHeaderDecode, EveryInvalidOpCode) {
  const Bytes good = encode_or_die(sample_header(), make_payload(16));
  for (int code = 0; code < 256; ++code) {
    if (is_valid_op_code(static_cast<std::uint8_t>(code))) continue;
    Bytes pkt = good;
    pkt[4] = static_cast<std::byte>(code);
    refresh_checksum(pkt);
    EXPECT_EQ(decode_only(pkt), DecodeError::bad_op) << code;
  }
}

// Bits 2 (identity) and 3 (header-only) have their own tests below.
TEST(WireHeaderDecode, UnknownFlagBits) {
  for (int bit = 4; bit < 8; ++bit) {
    Header h = sample_header();
    h.flags = static_cast<std::uint8_t>(kFlagLast | (1u << bit));
    EXPECT_EQ(decode_only(encode_or_die(h, make_payload(16))), DecodeError::bad_flags) << bit;
  }
}

// On types that do not carry chunks a chunk flag means nothing: rejected.
void expect_only_on_chunks(std::uint8_t flag) {
  for (auto type : {PacketType::p2p, PacketType::ack, PacketType::control, PacketType::error}) {
    Header h = sample_header();
    h.type = type;
    h.flags = flag;
    h.count = 16;
    EXPECT_EQ(decode_only(encode_or_die(h, make_payload(16))), DecodeError::bad_flags)
        << to_string(type) << " flag " << int{flag};
  }
}

// An identity chunk is its header alone, and still says how long the chunk is.
TEST(WireHeaderDecode, IdentityChunksAreHeaderOnly) {
  for (auto type : {PacketType::contribution, PacketType::result}) {
    Header h = sample_header();  // 4 floats
    h.type = type;
    h.flags = kFlagLast | kFlagIdentity;
    EXPECT_EQ(h.chunk_bytes(), 16u);
    EXPECT_EQ(h.payload_bytes(), 0u);
    const Bytes pkt = encode_or_die(h, {});
    ASSERT_EQ(pkt.size(), kHeaderBytes);
    Header d;
    std::span<const std::byte> payload;
    ASSERT_EQ(decode(pkt, d, payload), DecodeError::none);
    expect_same(d, h);
    EXPECT_TRUE(payload.empty());
    // Carrying the data it says it leaves out is refused, both ways.
    Bytes out(kHeaderBytes + 16);
    EXPECT_EQ(encode(h, make_payload(16), out), 0u);
    Bytes padded = pkt;
    padded.resize(kHeaderBytes + 16);
    refresh_checksum(padded);
    EXPECT_EQ(decode_only(padded), DecodeError::bad_count);
  }
  // A chunk larger than a packet is refused even though nothing follows.
  Header big = sample_header();
  big.flags = kFlagIdentity;
  big.count = kMaxPayloadBytes / 4 + 1;
  EXPECT_EQ(decode_only(encode_or_die(big, {})), DecodeError::bad_count);
  expect_only_on_chunks(kFlagIdentity);
}

// Header-only: a contribution still carries its data (it only asks for a
// bare answer); a result is its header alone.
TEST(WireHeaderDecode, HeaderOnlyResultsCarryNoData) {
  Header asks = sample_header();
  asks.flags = kFlagHeaderOnly;
  EXPECT_EQ(asks.payload_bytes(), 16u);
  EXPECT_EQ(decode_only(encode_or_die(asks, make_payload(16))), DecodeError::none);
  Header answer = asks;
  answer.type = PacketType::result;
  EXPECT_EQ(answer.payload_bytes(), 0u);
  EXPECT_EQ(answer.chunk_bytes(), 16u);
  const Bytes pkt = encode_or_die(answer, {});
  Header d;
  std::span<const std::byte> payload;
  ASSERT_EQ(decode(pkt, d, payload), DecodeError::none);
  expect_same(d, answer);
  EXPECT_TRUE(payload.empty());
  expect_only_on_chunks(kFlagHeaderOnly);
}

TEST(WireHeaderDecode, BitwiseOpOnFloatIsBadPair) {
  for (auto op : {ReduceOp::band, ReduceOp::bor, ReduceOp::bxor}) {
    Header h = sample_header();  // f32
    h.op = op;
    EXPECT_EQ(decode_only(encode_or_die(h, make_payload(16))), DecodeError::bad_pair)
        << to_string(op);
    h.type = PacketType::result;
    EXPECT_EQ(decode_only(encode_or_die(h, make_payload(16))), DecodeError::bad_pair);
    h.type = PacketType::p2p;  // pairs only matter where elements are reduced
    h.count = 16;
    EXPECT_EQ(decode_only(encode_or_die(h, make_payload(16))), DecodeError::none);
  }
}

TEST(WireHeaderDecode, CountAnnouncingTooMuchIsBadCount) {
  Header h = sample_header();  // f32: 2251 elements = 9004 bytes
  h.count = kMaxPayloadBytes / 4 + 1;
  Bytes pkt = encode_or_die(h, make_payload(h.payload_bytes()));
  EXPECT_EQ(decode_only(pkt), DecodeError::bad_count);
  // Checked before the length, so a short buffer still reports the count.
  pkt.resize(kHeaderBytes);
  EXPECT_EQ(decode_only(pkt), DecodeError::bad_count);
  // A count whose byte size would overflow 32 bits must not wrap around.
  Bytes huge = encode_or_die(sample_header(), make_payload(16));
  huge[3] = std::byte{12};  // f64
  for (int i = 24; i < 28; ++i) huge[i] = std::byte{0xff};
  huge.resize(kHeaderBytes);
  EXPECT_EQ(decode_only(huge), DecodeError::bad_count);
}

TEST(WireHeaderDecode, TrailingBytesAreBadCount) {
  Bytes pkt = encode_or_die(sample_header(), make_payload(16));
  pkt.push_back(std::byte{0});
  EXPECT_EQ(decode_only(pkt), DecodeError::bad_count);
}

TEST(WireHeaderDecode, EverySingleBitFlipIsCaught) {
  const Bytes good = encode_or_die(sample_header(), make_payload(16));
  ASSERT_EQ(decode_only(good), DecodeError::none);
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes pkt = good;
      pkt[byte] ^= static_cast<std::byte>(1u << bit);
      EXPECT_NE(decode_only(pkt), DecodeError::none) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(WireHeaderDecode, PayloadFlipIsBadChecksum) {
  Bytes pkt = encode_or_die(sample_header(), make_payload(16));
  pkt[kHeaderBytes + 3] ^= std::byte{0x10};
  EXPECT_EQ(decode_only(pkt), DecodeError::bad_checksum);
}

TEST(WireHeaderEncode, RejectsTooSmallOutput) {
  const Header h = sample_header();
  const Bytes payload = make_payload(16);
  for (std::size_t n : {std::size_t{0}, kHeaderBytes, kHeaderBytes + payload.size() - 1}) {
    Bytes out(n);
    EXPECT_EQ(encode(h, payload, out), 0u) << n;
  }
  Bytes bigger(kHeaderBytes + payload.size() + 10);
  EXPECT_EQ(encode(h, payload, bigger), kHeaderBytes + payload.size());
}

TEST(WireHeaderEncode, RejectsMismatchedPayloadSize) {
  const Header h = sample_header();  // announces 16 bytes
  Bytes out(256);
  EXPECT_EQ(encode(h, make_payload(15), out), 0u);
  EXPECT_EQ(encode(h, make_payload(17), out), 0u);
  EXPECT_EQ(encode(h, {}, out), 0u);
}

TEST(WireHeaderEncode, RejectsSlotOutOfRange) {
  Header h = sample_header();
  h.slot = kMaxSlot + 1;
  Bytes out(256);
  EXPECT_EQ(encode(h, make_payload(16), out), 0u);
}

TEST(WireHeaderNames, DecodeErrorNames) {
  EXPECT_EQ(to_string(DecodeError::none), "none");
  EXPECT_EQ(to_string(DecodeError::truncated), "truncated");
  EXPECT_EQ(to_string(DecodeError::bad_version), "bad_version");
  EXPECT_EQ(to_string(DecodeError::bad_type), "bad_type");
  EXPECT_EQ(to_string(DecodeError::bad_dtype), "bad_dtype");
  EXPECT_EQ(to_string(DecodeError::bad_op), "bad_op");
  EXPECT_EQ(to_string(DecodeError::bad_flags), "bad_flags");
  EXPECT_EQ(to_string(DecodeError::bad_slot), "bad_slot");
  EXPECT_EQ(to_string(DecodeError::bad_count), "bad_count");
  EXPECT_EQ(to_string(DecodeError::bad_pair), "bad_pair");
  EXPECT_EQ(to_string(DecodeError::bad_checksum), "bad_checksum");
}

}  // namespace
}  // namespace inca::wire
