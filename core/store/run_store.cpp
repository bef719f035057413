// SPDX-License-Identifier: GPL-3.0-or-later
// RunStore's writer thread and job queue: jobs are batched into BEGIN IMMEDIATE transactions of
// at most ~100 ms of work, committed when the queue drains, and reported to the commit
// listener. Also RunStoreSink, the trainer-facing adapter.
#include "core/store/run_store.h"

#include "core/store/liveness.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/store/matrix_codec.h"
#include "core/store/run_writer.h"

namespace apportion {
namespace {

/// Work per transaction before committing, so other writer processes are not starved.
constexpr auto kTransactionBudget = std::chrono::milliseconds(100);

/// One queued write. `step` >= 0 marks rows the commit listener reports.
struct Job {
  std::function<void(RunWriter&)> work;
  std::string run_id;
  int64_t step = -1;
  /// Set for synchronous jobs: receives "" on success or the error message. Messages, not
  /// exception objects, cross threads.
  std::shared_ptr<std::promise<std::string>> done;
  std::string error;
};

Job make_job(std::function<void(RunWriter&)> work, const std::string& run_id, int64_t step = -1) {
  Job job;
  job.work = std::move(work);
  job.run_id = run_id;
  job.step = step;
  return job;
}

/// The message of the exception being handled (call inside a catch block).
std::string current_error_message() {
  try {
    throw;
  } catch (const StoreError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("run store writer: ") + e.what();
  } catch (...) {
    return "run store writer: unknown error";
  }
}

}  // namespace

struct RunStore::Impl {
  explicit Impl(const std::string& db_path) : path(db_path), writer(db_path) {}

  void enqueue(Job job);
  void run_sync(Job job);
  void loop();
  void run_transaction(std::deque<Job>& pending);
  void finish_jobs(std::vector<Job>& done,
                   const std::string& commit_error,
                   const std::map<std::string, int64_t>& steps);

  std::string path;
  RunWriter writer;
  std::mutex mutex;
  std::condition_variable wake;       ///< the writer thread waits for jobs
  std::condition_variable committed;  ///< flush() waits for commits
  std::deque<Job> queue;
  uint64_t enqueued = 0;
  uint64_t finished = 0;
  bool stopping = false;
  std::string error;            ///< first asynchronous failure since the last flush()
  std::set<std::string> owned;  ///< runs started here and not finished: they get heartbeats
  std::mutex listener_mutex;
  std::function<void(const std::string&, int64_t)> listener;
  std::thread thread;
};

void RunStore::Impl::enqueue(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    queue.push_back(std::move(job));
    ++enqueued;
  }
  wake.notify_one();
}

void RunStore::Impl::run_sync(Job job) {
  job.done = std::make_shared<std::promise<std::string>>();
  std::future<std::string> result = job.done->get_future();
  enqueue(std::move(job));
  const std::string error_text = result.get();
  if (!error_text.empty()) throw StoreError(error_text);
}

void RunStore::Impl::loop() {
  std::deque<Job> pending;
  auto last_beat = std::chrono::steady_clock::now();
  const auto interval = std::chrono::milliseconds(kHeartbeatIntervalMs);
  for (;;) {
    if (pending.empty()) {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait_for(lock, interval, [this] { return stopping || !queue.empty(); });
      if (stopping && queue.empty()) return;  // everything is committed
      std::move(queue.begin(), queue.end(), std::back_inserter(pending));
      queue.clear();
      // Every interval, idle or busy, the runs trained here get a heartbeat (liveness.h).
      const auto now = std::chrono::steady_clock::now();
      if (now - last_beat >= interval && !owned.empty()) {
        for (const std::string& run : owned)
          pending.push_back(make_job([run](RunWriter& w) { w.heartbeat(run, now_ms()); }, run));
        enqueued += owned.size();  // flush() counts them like any job
        last_beat = now;
      }
      if (pending.empty()) continue;
    }
    run_transaction(pending);
  }
}

void RunStore::Impl::run_transaction(std::deque<Job>& pending) {
  std::vector<Job> done;
  std::map<std::string, int64_t> steps;
  try {
    writer.begin();
  } catch (...) {
    done.assign(std::make_move_iterator(pending.begin()), std::make_move_iterator(pending.end()));
    pending.clear();
    finish_jobs(done, current_error_message(), steps);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  auto over_budget = [&] { return std::chrono::steady_clock::now() - start >= kTransactionBudget; };
  for (;;) {
    while (!pending.empty() && !over_budget()) {
      Job job = std::move(pending.front());
      pending.pop_front();
      try {
        job.work(writer);
        if (job.step >= 0) {
          auto [it, inserted] = steps.emplace(job.run_id, job.step);
          if (!inserted) it->second = std::max(it->second, job.step);
        }
      } catch (...) {
        job.error = current_error_message();
      }
      done.push_back(std::move(job));
    }
    if (!pending.empty() || over_budget()) break;
    std::lock_guard<std::mutex> lock(mutex);
    if (queue.empty()) break;  // drained: commit now
    std::move(queue.begin(), queue.end(), std::back_inserter(pending));
    queue.clear();
  }
  std::string commit_error;
  try {
    writer.commit();
  } catch (...) {
    writer.rollback();
    commit_error = current_error_message();
  }
  finish_jobs(done, commit_error, steps);
}

void RunStore::Impl::finish_jobs(std::vector<Job>& done,
                                 const std::string& commit_error,
                                 const std::map<std::string, int64_t>& steps) {
  std::string first_error = commit_error;
  if (commit_error.empty()) {
    std::function<void(const std::string&, int64_t)> notify;
    {
      std::lock_guard<std::mutex> lock(listener_mutex);
      notify = listener;
    }
    for (const auto& [run_id, step] : steps) {
      if (!notify) break;
      try {
        notify(run_id, step);
      } catch (...) {
        if (first_error.empty()) first_error = "commit listener: " + current_error_message();
      }
    }
  }
  for (Job& job : done) {
    const std::string& job_error = commit_error.empty() ? job.error : commit_error;
    if (job.done) {
      job.done->set_value(job_error);
    } else if (!job_error.empty() && first_error.empty()) {
      first_error = job_error;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!first_error.empty() && error.empty()) error = first_error;
    finished += done.size();
  }
  committed.notify_all();
}

RunStore::RunStore(const std::string& db_path) : impl_(std::make_unique<Impl>(db_path)) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

RunStore::~RunStore() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
  if (!impl_->error.empty()) {
    std::cerr << "apportion: run store '" << impl_->path
              << "': an error was never reported by flush(): " << impl_->error << "\n";
  }
}

void RunStore::start_run(const RunStarted& e) {
  const int64_t start_ms = now_ms();
  impl_->run_sync(make_job([e, start_ms](RunWriter& w) { w.start_run(e, start_ms); }, e.run_id));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->owned.insert(e.run_id);
}

void RunStore::log_metric(const std::string& run_id, const MetricPoint& m) {
  MetricPoint point = m;
  if (point.wall_ms == 0) point.wall_ms = now_ms();
  impl_->enqueue(
      make_job([run_id, point](RunWriter& w) { w.log_metric(run_id, point); }, run_id, point.step));
}

void RunStore::log_matrix(const std::string& run_id, const MatrixPoint& m) {
  // Encode on the caller's thread: a shape mismatch throws here, where the caller can see it.
  auto blob = std::make_shared<const std::vector<uint8_t>>(encode_matrix(m));
  MatrixPoint header;
  header.key = m.key;
  header.step = m.step;
  header.shape = m.shape;
  header.axes = m.axes;
  header.dtype = m.dtype;
  header.wall_ms = m.wall_ms == 0 ? now_ms() : m.wall_ms;
  impl_->enqueue(
      make_job([run_id, header, blob](RunWriter& w) { w.log_matrix(run_id, header, *blob); },
               run_id, m.step));
}

void RunStore::set_tag(const std::string& run_id,
                       const std::string& key,
                       const std::string& value) {
  impl_->enqueue(
      make_job([run_id, key, value](RunWriter& w) { w.set_tag(run_id, key, value); }, run_id));
}

void RunStore::log_artifact(const std::string& run_id, const ArtifactWritten& a) {
  impl_->enqueue(make_job([run_id, a](RunWriter& w) { w.log_artifact(run_id, a); }, run_id));
}

void RunStore::finish_run(const std::string& run_id, RunStatus status, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->owned.erase(run_id);
  }
  const int64_t end_ms = now_ms();
  impl_->run_sync(make_job([run_id, status, message, end_ms](
                               RunWriter& w) { w.finish_run(run_id, status, message, end_ms); },
                           run_id));
}

void RunStore::flush() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  const uint64_t target = impl_->enqueued;
  impl_->committed.wait(lock, [&] { return impl_->finished >= target; });
  if (!impl_->error.empty()) throw StoreError(std::exchange(impl_->error, std::string()));
}

void RunStore::set_commit_listener(std::function<void(const std::string&, int64_t)> listener) {
  std::lock_guard<std::mutex> lock(impl_->listener_mutex);
  impl_->listener = std::move(listener);
}

const std::string& RunStore::path() const { return impl_->path; }

void RunStoreSink::on_run_started(const RunStarted& e) {
  run_id_ = e.run_id;
  store_.start_run(e);
}

void RunStoreSink::on_metric(const MetricPoint& e) {
  AP_CHECK_AS(StoreError, !run_id_.empty(), "RunStoreSink: metric before on_run_started");
  store_.log_metric(run_id_, e);
}

void RunStoreSink::on_matrix(const MatrixPoint& e) {
  AP_CHECK_AS(StoreError, !run_id_.empty(), "RunStoreSink: matrix before on_run_started");
  store_.log_matrix(run_id_, e);
}

void RunStoreSink::on_artifact(const ArtifactWritten& e) {
  AP_CHECK_AS(StoreError, !run_id_.empty(), "RunStoreSink: artifact before on_run_started");
  store_.log_artifact(run_id_, e);
}

void RunStoreSink::on_tag(const TagSet& e) {
  AP_CHECK_AS(StoreError, !run_id_.empty(), "RunStoreSink: tag before on_run_started");
  store_.set_tag(run_id_, e.key, e.value);
}

void RunStoreSink::on_run_finished(const RunFinished& e) {
  AP_CHECK_AS(StoreError, !run_id_.empty(), "RunStoreSink: run finished before it started");
  store_.finish_run(run_id_, e.status, e.message);
}

void RunStoreSink::flush() { store_.flush(); }

}  // namespace apportion
