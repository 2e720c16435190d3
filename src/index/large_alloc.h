// Private to src/index: an allocator for arrays that grow to megabytes (the lexical
// index's document columns). Blocks of 2 MiB and more are mapped on their own, aligned
// to 2 MiB and advised to use transparent huge pages; smaller ones come from operator new.
//
// Why: on a VM a 4 KiB page fault costs ~3.5 µs, so the first touch of 64 MB of fresh
// memory costs ~230 ms (measured here) and a column that doubles while a writer waits
// stalls it for that long; with huge pages the same touch costs ~6 ms. Where the kernel
// gives no huge pages (THP "never") the blocks behave as plain anonymous memory.
//
// Thread safety: stateless; allocate and deallocate may be called from any thread.
#pragma once

#include <cstddef>
#include <new>
#include <string>
#include <vector>

namespace mnemo::index {

namespace large_alloc {
void* Allocate(size_t bytes);
void Deallocate(void* p, size_t bytes);
}  // namespace large_alloc

template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) { return static_cast<T*>(large_alloc::Allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { large_alloc::Deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using LargeVector = std::vector<T, LargeAllocator<T>>;
using LargeString = std::basic_string<char, std::char_traits<char>, LargeAllocator<char>>;

}  // namespace mnemo::index
