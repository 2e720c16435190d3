// int8 quantization of float vectors, the form in which mnemo stores vectors (SQLite
// and the HNSW graph).
//
// Blob layout (little-endian): `dimension` int8 values q[i], then a float32 scale s, so
// that v[i] ~= q[i] * s. A zero vector has s = 0.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mnemo::index {

inline constexpr size_t QuantizedSize(int dimension) { return size_t(dimension) + 4; }

// Non-finite components (NaN, inf) are stored as 0.
std::string Quantize(const std::vector<float>& v);
// The dot products use AVX2 when the CPU has it (chosen at run time), else portable
// loops; both give the same int32 sums.
// Approximate dot product of two blobs of the same dimension (int32 accumulation).
// Blobs of different sizes, or shorter than the scale, give 0.
float QuantizedDot(std::string_view a, std::string_view b);
// Dot product of a float vector and a blob (the query side stays exact); 0 when the
// dimensions differ.
float QuantizedDot(const std::vector<float>& a, std::string_view b);
std::vector<float> Dequantize(std::string_view blob);


}  // namespace mnemo::index
