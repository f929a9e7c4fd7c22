// Gpu: RAII owners for the CUDA driver objects the runtime uses: the
// primary context of a device, device buffers, streams and events. The
// driver is loaded at run time; without one every constructor throws
// tlrt::Error("no CUDA driver: ..."). Handles are exposed as opaque
// pointers so this header needs no cuda.h.
#pragma once

#include "tlrt/Tensor.h"

#include <cstddef>
#include <cstdint>
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
