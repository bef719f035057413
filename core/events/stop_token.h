// SPDX-License-Identifier: GPL-3.0-or-later
// StopSource/StopToken: a lock-free flag a signal handler (or the GUI test harness) sets and
// the trainer polls between steps. Setting it is async-signal-safe (one atomic store).
#pragma once

#include <atomic>

namespace apportion {

/// Owns the flag. request_stop() is async-signal-safe.
class StopSource {
 public:
  void request_stop() noexcept { flag_.store(true, std::memory_order_relaxed); }
  bool stop_requested() const noexcept { return flag_.load(std::memory_order_relaxed); }
  const std::atomic<bool>* flag() const noexcept { return &flag_; }

 private:
  std::atomic<bool> flag_{false};
};

/// A read-only view of a StopSource (or never-stopping when default-constructed).
class StopToken {
 public:
  StopToken() = default;
  explicit StopToken(const StopSource& source) : flag_(source.flag()) {}
  bool stop_requested() const noexcept {
    return flag_ != nullptr && flag_->load(std::memory_order_relaxed);
  }

 private:
  const std::atomic<bool>* flag_ = nullptr;
};

}  // namespace apportion
