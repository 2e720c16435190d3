// Private to src/index: little-endian fixed-width encoding for snapshot payloads, and a
// bounds-checked reader (every read reports whether the bytes were there).
//
// Thread safety: plain functions and a reader over a caller-owned string.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mnemo::index::wire {

static_assert(std::endian::native == std::endian::little, "wire: add byte swaps for this host");

// One append per value: snapshots are written while writers wait.
template <typename T>
inline void PutFixed(std::string* out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out->append(bytes, sizeof(T));
}
inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
inline void PutU16(std::string* out, uint16_t v) { PutFixed(out, v); }
inline void PutU32(std::string* out, uint32_t v) { PutFixed(out, v); }
inline void PutU64(std::string* out, uint64_t v) { PutFixed(out, v); }
inline void PutI64(std::string* out, int64_t v) { PutU64(out, static_cast<uint64_t>(v)); }
// A u32 length, then the bytes.
inline void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

// Arrays of fixed-width integers go out in bulk: a u32 count, then the elements'
// little-endian bytes (the host's own order: asserted above).
template <typename T, typename A>
void PutArray(std::string* out, const std::vector<T, A>& v) {
  static_assert(std::is_integral_v<T>);
  PutU32(out, static_cast<uint32_t>(v.size()));
  out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  Reader(std::string_view in, size_t pos) : in_(in), pos_(pos) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  void Seek(size_t pos) { pos_ = pos <= in_.size() ? pos : in_.size(); }

  bool U8(uint8_t* v) {
    uint64_t x;
    if (!Fixed(1, &x)) return false;
    *v = static_cast<uint8_t>(x);
    return true;
  }
  bool U16(uint16_t* v) {
    uint64_t x;
    if (!Fixed(2, &x)) return false;
    *v = static_cast<uint16_t>(x);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Fixed(4, &x)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Fixed(8, v); }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!Fixed(8, &x)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  template <typename T, typename A>
  bool Array(std::vector<T, A>* v) {
    static_assert(std::is_integral_v<T>);
    uint32_t n;
    if (!U32(&n) || n > remaining() / sizeof(T)) return false;
    v->resize(n);
    if (n > 0) std::memcpy(v->data(), in_.data() + pos_, n * sizeof(T));  // data() may be null
    pos_ += n * sizeof(T);
    return true;
  }
  template <typename S>
  bool Bytes(S* out) {
    uint32_t n;
    if (!U32(&n) || n > remaining()) return false;
    out->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }

 private:
  bool Fixed(size_t n, uint64_t* v) {
    if (remaining() < n) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x |= uint64_t(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    *v = x;
    return true;
  }

  std::string_view in_;
  size_t pos_;
};

}  // namespace mnemo::index::wire
