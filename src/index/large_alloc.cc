#include "index/large_alloc.h"

#include <sys/mman.h>

#include <cstdint>

namespace mnemo::index::large_alloc {
namespace {

constexpr size_t kHuge = size_t{2} << 20;  // a transparent huge page on x86-64 and arm64

size_t RoundUp(size_t bytes) { return (bytes + kHuge - 1) & ~(kHuge - 1); }

}  // namespace

void* Allocate(size_t bytes) {
  if (bytes < kHuge) return ::operator new(bytes);
  const size_t size = RoundUp(bytes);
  // Mapped with a huge page of slack, then trimmed to a 2 MiB aligned range.
  void* raw =
      ::mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHuge - 1) & ~(kHuge - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = start + size + kHuge;
  if (end > aligned + size) ::munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
  void* p = reinterpret_cast<void*>(aligned);
  ::madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP the pages are small
  return p;
}

void Deallocate(void* p, size_t bytes) {
  if (bytes < kHuge) {
    ::operator delete(p);
    return;
  }
  ::munmap(p, RoundUp(bytes));
}

}  // namespace mnemo::index::large_alloc
