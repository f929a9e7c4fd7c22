// Gpu: RAII owners for the CUDA driver objects the runtime uses: the
// primary context of a device, device buffers, streams and events. The
// driver is loaded at run time; without one every constructor throws
// tlrt::Error("no CUDA driver: ..."). Handles are exposed as opaque
// pointers so this header needs no cuda.h.
#pragma once

#include "tlrt/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tlrt {

// True when libcuda loaded and cuInit succeeded; otherwise `reason` (if
// given) says why ("no CUDA driver: dlopen(libcuda.so.1) failed: ...").
bool cudaAvailable(std::string *reason = nullptr);
// Number of CUDA devices; 0 when no driver is available.
int cudaDeviceCount();

// The primary context of one device, retained on first use and kept for
// the life of the process.
class Context {
public:
  static Context &get(int device = 0);
  int device() const { return device_; }
  void *handle() const { return ctx_; } // CUcontext
  // Makes this context current on the calling thread.
  void makeCurrent() const;
  void synchronize() const;
  std::string deviceName() const;
  // Compute capability, e.g. {9, 0}.
  std::pair<int, int> computeCapability() const;
  int multiprocessorCount() const;

private:
  Context(int device);
  int device_;
  int cuDevice_ = 0;
  void *ctx_ = nullptr;
};

class Stream {
public:
  explicit Stream(int device = 0);
  ~Stream();
  Stream(Stream &&o) noexcept;
  Stream &operator=(Stream &&o) noexcept;
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;

  void *handle() const { return stream_; } // CUstream
  int device() const { return device_; }
  void synchronize() const;

private:
  int device_;
  void *stream_ = nullptr;
};

class Event {
public:
  explicit Event(int device = 0);
  ~Event();
  Event(Event &&o) noexcept;
  Event &operator=(Event &&o) noexcept;
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;

  // Records on `stream` (the legacy default stream when null).
  void record(const Stream *stream = nullptr);
  void synchronize() const;
  // Milliseconds between two recorded, completed events.
  static float elapsedMs(const Event &start, const Event &end);
  void *handle() const { return event_; }

private:
  int device_;
  void *event_ = nullptr;
};

// A CUDA graph: the kernel launches one piece of host code enqueued on a
// stream, recorded once (stream capture) and instantiated, then replayed with
// one launch (cuGraphLaunch) instead of one host call per kernel. A replay
// runs the same kernels with the same arguments (pointers, scalars, tensor
// maps as encoded at capture) over the buffers' current contents, so the
// captured code must only be replayed while every buffer it used is alive
// and what changes between replays lives in device memory.
class Graph {
public:
  Graph() = default;
  ~Graph();
  Graph(Graph &&o) noexcept;
  Graph &operator=(Graph &&o) noexcept;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  // Runs `body` with `stream` capturing (its launches on `stream` are recorded, not run) and
  // instantiates the result. The capture is relaxed: the body may allocate memory. When the
  // body throws, the capture is ended and dropped and the exception propagates.
  static Graph capture(const Stream &stream, const std::function<void()> &body);
  // Enqueues one replay on `stream` (of the graph's device).
  void launch(const Stream &stream) const;
  explicit operator bool() const { return exec_ != nullptr; }

private:
  void release() noexcept;
  int device_ = 0;
  void *exec_ = nullptr; // CUgraphExec
};

// Owned device memory (cuMemAlloc). Copies are synchronous.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes, int device = 0);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&o) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  void *data() const { return reinterpret_cast<void *>(ptr_); }
  size_t size() const { return bytes_; }
  int device() const { return device_; }

  void copyFromHost(const void *src, size_t bytes, size_t offset = 0);
  void copyToHost(void *dst, size_t bytes, size_t offset = 0) const;
  void memset(uint8_t value);
  template <typename T> void upload(const std::vector<T> &v) {
    copyFromHost(v.data(), v.size() * sizeof(T));
  }
  template <typename T> std::vector<T> download(size_t count) const {
    std::vector<T> v(count);
    copyToHost(v.data(), count * sizeof(T));
    return v;
  }
  // A device tensor view of this buffer; throws if it does not fit.
  Tensor view(DType dtype, std::vector<int64_t> shape) const;

private:
  void release() noexcept;
  uint64_t ptr_ = 0; // CUdeviceptr
  size_t bytes_ = 0;
  int device_ = 0;
};

} // namespace tlrt
