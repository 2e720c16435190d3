// Private to src/index: a reader/writer lock that does not starve writers.
//
// std::shared_mutex on glibc is a pthread rwlock that prefers readers: while searches
// keep overlapping, IndexPending() (and Upsert() on the pending tail) could wait forever.
// Here a writer first takes a turnstile mutex that every new reader must pass through,
// so readers arriving after a waiting writer queue behind it; readers already inside
// finish normally. Meets the SharedMutex requirements used by std::unique_lock and
// std::shared_lock.
//
// Thread safety: it is the synchronisation.
#pragma once

#include <mutex>
#include <shared_mutex>

namespace mnemo::index {

class FairSharedMutex {
 public:
  void lock() {
    std::lock_guard<std::mutex> gate(turnstile_);
    rw_.lock();
  }
  void unlock() { rw_.unlock(); }

  void lock_shared() {
    { std::lock_guard<std::mutex> gate(turnstile_); }
    rw_.lock_shared();
  }
  void unlock_shared() { rw_.unlock_shared(); }

 private:
  std::mutex turnstile_;  // held by a writer from its arrival until it owns rw_
  std::shared_mutex rw_;
};

}  // namespace mnemo::index
