#include "index/quantize.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace mnemo::index {
namespace {

// The dot-product loops below work in fixed blocks of kLanes independent accumulators.
// GCC's default cost model at -O2 ("very cheap") only vectorises loops whose trip count
// is a known multiple of the vector width, so a plain `for (i < n)` over a runtime
// dimension stays scalar; an inner loop of exactly kLanes iterations does vectorise
// (SSE2 on any x86-64, NEON on arm64) without -march flags. Separate lanes also let
// the float loop vectorise without -ffast-math: no reassociation is needed.
constexpr size_t kLanes = 16;

// The scale is stored as the IEEE-754 bit pattern, little-endian, whatever the host.
void PutFloatLE(float f, char* out) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
}

float GetFloatLE(const char* in) {
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits |= uint32_t(static_cast<unsigned char>(in[i])) << (8 * i);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Blobs shorter than the scale are malformed; callers treat them as zero vectors.
bool WellFormed(std::string_view blob) { return blob.size() >= 4; }

size_t DimensionOf(std::string_view blob) { return blob.size() - 4; }

float ScaleOf(std::string_view blob) { return GetFloatLE(blob.data() + DimensionOf(blob)); }

int32_t DotInt8Portable(const int8_t* a, const int8_t* b, size_t n) {
  int32_t lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lanes[j] += int32_t(a[i + j]) * int32_t(b[i + j]);
  }
  int32_t sum = 0;
  for (; i < n; ++i) sum += int32_t(a[i]) * int32_t(b[i]);
  for (size_t j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
}

float DotFloatInt8Portable(const float* a, const int8_t* b, size_t n) {
  float lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lanes[j] += a[i + j] * float(b[i + j]);
  }
  float sum = 0;
  for (; i < n; ++i) sum += a[i] * float(b[i]);
  for (size_t j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
}

#if defined(__x86_64__)
// AVX2 kernels, chosen at run time when the CPU has AVX2 and FMA (the build targets
// plain x86-64): 16 codes per step, sign-extended to int16 and multiply-added in pairs
// into 8 int32 lanes; the float kernel widens 8 codes to floats per fused multiply-add.
// The sums are exact (int32) or equal up to float rounding order to the portable ones.
__attribute__((target("avx2"))) int32_t DotInt8Avx2(const int8_t* a, const int8_t* b, size_t n) {
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i va =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i vb =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(va, vb));
  }
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  int32_t sum = 0;
  for (int32_t x : lanes) sum += x;
  for (; i < n; ++i) sum += int32_t(a[i]) * int32_t(b[i]);
  return sum;
}

__attribute__((target("avx2,fma"))) float DotFloatInt8Avx2(const float* a, const int8_t* b,
                                                           size_t n) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i codes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes));
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), lo, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), hi, acc1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
  float sum = 0;
  for (float x : lanes) sum += x;
  for (; i < n; ++i) sum += a[i] * float(b[i]);
  return sum;
}

bool HasAvx2() {
  __builtin_cpu_init();  // static initialisers below may run before GCC's own
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

using DotInt8Fn = int32_t (*)(const int8_t*, const int8_t*, size_t);
using DotFloatInt8Fn = float (*)(const float*, const int8_t*, size_t);
const DotInt8Fn kDotInt8 = HasAvx2() ? DotInt8Avx2 : DotInt8Portable;
const DotFloatInt8Fn kDotFloatInt8 = HasAvx2() ? DotFloatInt8Avx2 : DotFloatInt8Portable;

int32_t DotInt8(const int8_t* a, const int8_t* b, size_t n) { return kDotInt8(a, b, n); }
float DotFloatInt8(const float* a, const int8_t* b, size_t n) { return kDotFloatInt8(a, b, n); }
#else
int32_t DotInt8(const int8_t* a, const int8_t* b, size_t n) { return DotInt8Portable(a, b, n); }
float DotFloatInt8(const float* a, const int8_t* b, size_t n) {
  return DotFloatInt8Portable(a, b, n);
}
#endif

const int8_t* Codes(std::string_view blob) { return reinterpret_cast<const int8_t*>(blob.data()); }

}  // namespace

std::string Quantize(const std::vector<float>& v) {
  // Non-finite components carry no usable direction; they quantize to 0 rather than
  // poisoning the scale (an inf would turn every other component into 0 or NaN).
  float max_abs = 0;
  for (float x : v) {
    if (std::isfinite(x)) max_abs = std::max(max_abs, std::fabs(x));
  }
  const float scale = max_abs / 127.0f;
  std::string blob(QuantizedSize(int(v.size())), '\0');
  if (scale > 0) {
    const float inv = 1.0f / scale;
    for (size_t i = 0; i < v.size(); ++i) {
      const float x = std::isfinite(v[i]) ? v[i] * inv : 0.0f;
      const float c = std::clamp(x, -127.0f, 127.0f);
      const int q = static_cast<int>(c + (c >= 0 ? 0.5f : -0.5f));  // half away from zero
      blob[i] = static_cast<char>(static_cast<int8_t>(q));
    }
  }
  PutFloatLE(scale, blob.data() + v.size());
  return blob;
}

float QuantizedDot(std::string_view a, std::string_view b) {
  if (!WellFormed(a) || a.size() != b.size()) return 0;
  const float scale = ScaleOf(a) * ScaleOf(b);
  if (scale == 0) return 0;
  return float(DotInt8(Codes(a), Codes(b), DimensionOf(a))) * scale;
}

float QuantizedDot(const std::vector<float>& a, std::string_view b) {
  if (!WellFormed(b) || a.size() != DimensionOf(b)) return 0;
  const float scale = ScaleOf(b);
  if (scale == 0) return 0;
  return DotFloatInt8(a.data(), Codes(b), a.size()) * scale;
}

std::vector<float> Dequantize(std::string_view blob) {
  if (!WellFormed(blob)) return {};
  const size_t n = DimensionOf(blob);
  const float scale = ScaleOf(blob);
  const int8_t* codes = Codes(blob);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(codes[i]) * scale;
  return v;
}

}  // namespace mnemo::index
