// Tests for the safetensors reader/writer: round trips, and every kind of
// damaged or hostile input giving a clear error instead of a crash.
#include "ModelsTestUtil.h"
#include "tlv4/Safetensors.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

using namespace tlv4;

namespace {

std::vector<uint8_t> withHeader(const std::string &header,
                                size_t dataBytes = 0) {
  std::vector<uint8_t> out;
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + dataBytes, 0xAB);
  return out;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  try {
    SafetensorsFile::fromBuffer(bytes.data(), bytes.size(), "buf");
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

std::string headerError(const std::string &header, size_t dataBytes = 0) {
  return parseError(withHeader(header, dataBytes));
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, needle)                                               \
  EXPECT_NE((text).find(needle), std::string::npos) << (text)

} // namespace

TEST(Safetensors, SerializeParseRoundTrip) {
  TensorData a{"a", DType::BF16, {2, 3}, std::vector<uint8_t>(12)};
  TensorData b{"b.weight", DType::F4, {3, 3}, std::vector<uint8_t>(5)};
  TensorData c{"empty", DType::F32, {0, 4}, {}};
  for (size_t i = 0; i < a.bytes.size(); ++i)
    a.bytes[i] = static_cast<uint8_t>(i * 7);
  b.bytes = {1, 2, 3, 4, 5};
  std::vector<uint8_t> bytes =
      serializeSafetensors({&a, &b, &c}, {{"format", "pt"}});
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  EXPECT_EQ((8 + headerLen) % 8, 0u);
  SafetensorsFile f = SafetensorsFile::fromBuffer(bytes.data(), bytes.size());
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const SafetensorsTensor *ta = f.find("a");
  ASSERT_TRUE(ta);
  EXPECT_EQ(ta->dtype, DType::BF16);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f.data(*ta), a.bytes.data(), 12), 0);
  const SafetensorsTensor *tb = f.find("b.weight");
  ASSERT_TRUE(tb);
  EXPECT_EQ(tb->numElements(), 9);
  EXPECT_FALSE(tb->fp4PairShape);
  EXPECT_EQ(std::memcmp(f.data(*tb), b.bytes.data(), 5), 0);
  EXPECT_EQ(f.find("empty")->byteSize(), 0u);
  EXPECT_EQ(f.find("missing"), nullptr);

  std::string dir = modeltest::makeTempDir("st");
  writeSafetensors(dir + "/x.safetensors", {&a, &b, &c});
  SafetensorsFile g = SafetensorsFile::open(dir + "/x.safetensors");
  EXPECT_EQ(std::memcmp(g.data(*g.find("a")), a.bytes.data(), 12), 0);
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  TensorData bad{"x", DType::F32, {3}, std::vector<uint8_t>(11)};
  EXPECT_HAS(errorOf([&] { serializeSafetensors({&bad}); }),
             "tensor 'x': 11 bytes do not match dtype F32 x shape [3]");
  TensorData a{"x", DType::U8, {1}, {0}};
  EXPECT_HAS(errorOf([&] { serializeSafetensors({&a, &a}); }),
             "tensor 'x' written twice");
}

TEST(Safetensors, TruncatedAndBadLength) {
  EXPECT_HAS(parseError({1, 2, 3}), "buf: truncated file: 3 bytes");
  std::vector<uint8_t> huge(16, 0);
  huge[5] = 1; // 2^40
  EXPECT_HAS(parseError(huge), "bad header length 1099511627776");
  std::vector<uint8_t> longer = withHeader("{}");
  longer[0] = 50;
  EXPECT_HAS(parseError(longer), "truncated file: header length 50 but only "
                                 "2 bytes follow");
  // A file cut inside its data section.
  std::vector<uint8_t> cut = withHeader(
      R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 10);
  EXPECT_HAS(parseError(cut), "tensor 't': data_offsets [0, 16] out of "
                              "range: the data section has 10 bytes");
}

TEST(Safetensors, BadJsonAndStructure) {
  EXPECT_HAS(headerError("{\"a\": "), "header is not valid JSON");
  EXPECT_HAS(headerError("[1, 2]"), "header must be a JSON object");
  EXPECT_HAS(headerError("{\"a\": 3}"), "tensor 'a': entry must be an object");
  EXPECT_HAS(headerError(R"({"a":{"shape":[1],"data_offsets":[0,1]}})"),
             "tensor 'a': missing or non-string \"dtype\"");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","data_offsets":[0,1]}})"),
             "tensor 'a': missing or non-list \"shape\"");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[1]}})", 1),
             "\"data_offsets\" must be a list [begin, end]");
  EXPECT_HAS(headerError(R"({"":{"dtype":"U8","shape":[1],
                             "data_offsets":[0,1]}})",
                         1),
             "tensor with an empty name");
  EXPECT_HAS(headerError(R"({"__metadata__":{"a":1}})"),
             "__metadata__ entry 'a' must be a string");
  EXPECT_HAS(headerError(R"({"__metadata__":[1]})"),
             "__metadata__ must be an object");
  EXPECT_HAS(headerError("{\"a\xff\": 1}"), "header is not valid JSON");
}

TEST(Safetensors, BadDtypeShapeAndOffsets) {
  EXPECT_HAS(headerError(R"({"a":{"dtype":"F12","shape":[1],
                             "data_offsets":[0,1]}})",
                         1),
             "tensor 'a': unknown dtype \"F12\"");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[-1],
                             "data_offsets":[0,1]}})",
                         1),
             "shape entries must be non-negative integers, found -1");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[1.5],
                             "data_offsets":[0,1]}})",
                         1),
             "shape entries must be non-negative integers, found 1.5");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[1],
                             "data_offsets":[1,0]}})",
                         1),
             "has begin after end");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[1],
                             "data_offsets":[0,-1]}})",
                         1),
             "data_offsets must be non-negative integers");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"F32","shape":[2],
                             "data_offsets":[0,4]}})",
                         4),
             "tensor 'a': 4 bytes in data_offsets [0, 4] but dtype F32 x "
             "shape [2] needs 8 bytes");
  // Element counts that would overflow 64-bit arithmetic.
  EXPECT_HAS(headerError(R"({"a":{"dtype":"F64",
                             "shape":[4294967296,4294967296,16],
                             "data_offsets":[0,0]}})"),
             "element count of shape [4294967296, 4294967296, 16] overflows");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"F64",
                             "shape":[18446744073709551615],
                             "data_offsets":[0,0]}})"),
             "too large");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[4],
                             "data_offsets":[0,18446744073709551615]}})",
                         4),
             "out of range");
  EXPECT_HAS(headerError(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},
                             "b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                         8),
             "tensors 'a' [0, 4] and 'b' [2, 6] overlap");
}

TEST(Safetensors, Fp4ShapeConventions) {
  // Shape counts fp4 values: 5 values in 3 bytes.
  std::vector<uint8_t> values = withHeader(
      R"({"w":{"dtype":"F4","shape":[5],"data_offsets":[0,3]}})", 3);
  SafetensorsFile a =
      SafetensorsFile::fromBuffer(values.data(), values.size(), "a");
  EXPECT_FALSE(a.find("w")->fp4PairShape);
  EXPECT_EQ(a.find("w")->numElements(), 5);
  // Shape counts packed pairs (torch float4_e2m1fn_x2): [2, 3] in 6 bytes.
  std::vector<uint8_t> pairs = withHeader(
      R"({"w":{"dtype":"F4","shape":[2,3],"data_offsets":[0,6]}})", 6);
  SafetensorsFile b =
      SafetensorsFile::fromBuffer(pairs.data(), pairs.size(), "b");
  EXPECT_TRUE(b.find("w")->fp4PairShape);
  EXPECT_EQ(b.find("w")->logicalShape(), (std::vector<int64_t>{2, 6}));
  // Anything else is an error.
  EXPECT_HAS(headerError(R"({"w":{"dtype":"F4","shape":[8],
                             "data_offsets":[0,5]}})",
                         5),
             "dtype F4 x shape [8] needs 4 bytes");
  // E8M0 is a known label.
  EXPECT_EQ(headerError(R"({"s":{"dtype":"F8_E8M0","shape":[2],
                             "data_offsets":[0,2]}})",
                        2),
            "");
}

TEST(Safetensors, DirectoryErrors) {
  std::string dir = modeltest::makeTempDir("st");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir + "/nope"); }),
             "checkpoint directory does not exist");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "no *.safetensors files");
  TensorData t{"t", DType::U8, {2}, {1, 2}};
  writeSafetensors(dir + "/a.safetensors", {&t});
  SafetensorsSet single = SafetensorsSet::openDir(dir);
  EXPECT_FALSE(single.hasIndex());
  ASSERT_TRUE(single.find("t"));
  writeSafetensors(dir + "/b.safetensors", {&t});
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "2 *.safetensors files but no model.safetensors.index.json");

  writeText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"t": "a.safetensors", "u": "a.safetensors"}})");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "tensor 'u' is listed in shard a.safetensors but not present");
  writeText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"t": "a.safetensors", "u": "b.safetensors"}})");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "tensor 't' appears in both");
  writeText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"t": "c.safetensors"}})");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "missing shard c.safetensors (listed for tensor 't'");
  writeText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"t": "../a.safetensors"}})");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "bad shard name \"../a.safetensors\"");
  writeText(dir + "/model.safetensors.index.json", R"({"weight_map": [1]})");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }),
             "expected an object with a \"weight_map\" object");
  writeText(dir + "/model.safetensors.index.json", "{");
  EXPECT_HAS(errorOf([&] { SafetensorsSet::openDir(dir); }), "invalid JSON");
  EXPECT_HAS(errorOf([&] { SafetensorsFile::open(dir); }),
             "not a regular file");
  EXPECT_HAS(errorOf([&] { SafetensorsFile::open(dir + "/zz"); }),
             "cannot open");
}

TEST(Safetensors, ShardedWriterSplitsAndIndexes) {
  std::vector<TensorData> tensors;
  for (int i = 0; i < 10; ++i)
    tensors.push_back({"t" + std::to_string(i), DType::F32, {i + 1},
                       std::vector<uint8_t>(4 * (i + 1), uint8_t(i))});
  std::string dir = modeltest::makeTempDir("st");
  std::vector<std::string> shards = writeShardedSafetensors(dir, tensors, 4);
  ASSERT_EQ(shards.size(), 4u);
  EXPECT_EQ(shards[0], "model-00001-of-00004.safetensors");
  SafetensorsSet set = SafetensorsSet::openDir(dir);
  EXPECT_TRUE(set.hasIndex());
  EXPECT_EQ(set.files().size(), 4u);
  ASSERT_EQ(set.tensors().size(), 10u);
  for (const TensorData &t : tensors) {
    const SafetensorsSet::Entry *e = set.find(t.name);
    ASSERT_TRUE(e) << t.name;
    EXPECT_EQ(std::memcmp(e->file->data(*e->tensor), t.bytes.data(),
                          t.bytes.size()),
              0);
  }
  // More shards than tensors: one tensor per shard.
  std::string dir2 = modeltest::makeTempDir("st");
  EXPECT_EQ(writeShardedSafetensors(dir2, {tensors[0], tensors[1]}, 5).size(),
            2u);
}
