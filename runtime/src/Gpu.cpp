// Context, Stream, Event and DeviceBuffer over the dynamically loaded driver.
#include "tlrt/Gpu.h"

#include "CudaDriver.h"
#include "tlrt/Error.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>

namespace tlrt {

#ifndef TLRT_HAVE_CUDA_H

namespace {
[[noreturn]] void noCuda() { throw Error(cuda::unavailableReason()); }
} // namespace

bool cudaAvailable(std::string *reason) {
  if (reason)
    *reason = cuda::unavailableReason();
  return false;
}
int cudaDeviceCount() { return 0; }
Context &Context::get(int) { noCuda(); }
Context::Context(int d) : device_(d) {}
void Context::makeCurrent() const { noCuda(); }
void Context::synchronize() const { noCuda(); }
std::string Context::deviceName() const { noCuda(); }
std::pair<int, int> Context::computeCapability() const { noCuda(); }
Stream::Stream(int d) : device_(d) { noCuda(); }
Stream::~Stream() = default;
Stream::Stream(Stream &&o) noexcept : device_(o.device_) {}
Stream &Stream::operator=(Stream &&) noexcept { return *this; }
void Stream::synchronize() const { noCuda(); }
Event::Event(int d) : device_(d) { noCuda(); }
Event::~Event() = default;
Event::Event(Event &&o) noexcept : device_(o.device_) {}
Event &Event::operator=(Event &&) noexcept { return *this; }
void Event::record(const Stream *) { noCuda(); }
void Event::synchronize() const { noCuda(); }
float Event::elapsedMs(const Event &, const Event &) { noCuda(); }
Graph::~Graph() = default;
Graph::Graph(Graph &&) noexcept {}
Graph &Graph::operator=(Graph &&) noexcept { return *this; }
void Graph::release() noexcept {}
Graph Graph::capture(const Stream &, const std::function<void()> &) { noCuda(); }
void Graph::launch(const Stream &) const { noCuda(); }
DeviceBuffer::DeviceBuffer(size_t, int) { noCuda(); }
DeviceBuffer::~DeviceBuffer() = default;
DeviceBuffer::DeviceBuffer(DeviceBuffer &&) noexcept {}
DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&) noexcept { return *this; }
void DeviceBuffer::release() noexcept {}
void DeviceBuffer::copyFromHost(const void *, size_t, size_t) { noCuda(); }
void DeviceBuffer::copyToHost(void *, size_t, size_t) const { noCuda(); }
void DeviceBuffer::memset(uint8_t) { noCuda(); }
Tensor DeviceBuffer::view(DType, std::vector<int64_t>) const { noCuda(); }

#else

using cuda::check;
using cuda::driver;

bool cudaAvailable(std::string *reason) {
  std::string why = cuda::unavailableReason();
  if (reason)
    *reason = why;
  return why.empty();
}

int cudaDeviceCount() {
  if (!cudaAvailable())
    return 0;
  int n = 0;
  if (driver().deviceGetCount(&n) != CUDA_SUCCESS)
    return 0;
  return n;
}

Context &Context::get(int device) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<Context>> contexts;
  std::lock_guard<std::mutex> lock(mu);
  auto it = contexts.find(device);
  if (it != contexts.end())
    return *it->second;
  std::unique_ptr<Context> c(new Context(device));
  Context &ref = *c;
  contexts[device] = std::move(c);
  return ref;
}

Context::Context(int device) : device_(device) {
  const auto &d = driver();
  int n = 0;
  check(d.deviceGetCount(&n), "cuDeviceGetCount");
  if (device < 0 || device >= n)
    throw Error(fmt::format("CUDA device {} does not exist ({} device{} present)", device, n,
                            n == 1 ? "" : "s"));
  CUdevice dev;
  check(d.deviceGet(&dev, device), fmt::format("cuDeviceGet({})", device));
  cuDevice_ = dev;
  CUcontext ctx;
  check(d.devicePrimaryCtxRetain(&ctx, dev), fmt::format("cuDevicePrimaryCtxRetain({})", device));
  ctx_ = ctx;
}

void Context::makeCurrent() const {
  check(driver().ctxSetCurrent(static_cast<CUcontext>(ctx_)), "cuCtxSetCurrent");
}

void Context::synchronize() const {
  makeCurrent();
  check(driver().ctxSynchronize(), "cuCtxSynchronize");
}

std::string Context::deviceName() const {
  char buf[256] = {};
  check(driver().deviceGetName(buf, sizeof(buf) - 1, cuDevice_), "cuDeviceGetName");
  return buf;
}

std::pair<int, int> Context::computeCapability() const {
  int major = 0, minor = 0;
  check(driver().deviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                    cuDevice_),
        "cuDeviceGetAttribute");
  check(driver().deviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                    cuDevice_),
        "cuDeviceGetAttribute");
  return {major, minor};
}

int Context::multiprocessorCount() const {
  int n = 0;
  check(driver().deviceGetAttribute(&n, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, cuDevice_),
        "cuDeviceGetAttribute");
  return n;
}

Stream::Stream(int device) : device_(device) {
  Context::get(device).makeCurrent();
  CUstream s;
  check(driver().streamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  stream_ = s;
}

Stream::~Stream() {
  if (stream_)
    driver().streamDestroy(static_cast<CUstream>(stream_));
}

Stream::Stream(Stream &&o) noexcept : device_(o.device_), stream_(o.stream_) {
  o.stream_ = nullptr;
}

Stream &Stream::operator=(Stream &&o) noexcept {
  if (this != &o) {
    if (stream_)
      driver().streamDestroy(static_cast<CUstream>(stream_));
    device_ = o.device_;
    stream_ = o.stream_;
    o.stream_ = nullptr;
  }
  return *this;
}

void Stream::synchronize() const {
  check(driver().streamSynchronize(static_cast<CUstream>(stream_)), "cuStreamSynchronize");
}

Event::Event(int device) : device_(device) {
  Context::get(device).makeCurrent();
  CUevent e;
  check(driver().eventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate");
  event_ = e;
}

Event::~Event() {
  if (event_)
    driver().eventDestroy(static_cast<CUevent>(event_));
}

Event::Event(Event &&o) noexcept : device_(o.device_), event_(o.event_) { o.event_ = nullptr; }

Event &Event::operator=(Event &&o) noexcept {
  if (this != &o) {
    if (event_)
      driver().eventDestroy(static_cast<CUevent>(event_));
    device_ = o.device_;
    event_ = o.event_;
    o.event_ = nullptr;
  }
  return *this;
}

void Event::record(const Stream *stream) {
  Context::get(device_).makeCurrent();
  check(driver().eventRecord(static_cast<CUevent>(event_),
                             stream ? static_cast<CUstream>(stream->handle()) : nullptr),
        "cuEventRecord");
}

void Event::synchronize() const {
  check(driver().eventSynchronize(static_cast<CUevent>(event_)), "cuEventSynchronize");
}

float Event::elapsedMs(const Event &start, const Event &end) {
  float ms = 0;
  check(driver().eventElapsedTime(&ms, static_cast<CUevent>(start.event_),
                                  static_cast<CUevent>(end.event_)),
        "cuEventElapsedTime");
  return ms;
}

Graph Graph::capture(const Stream &stream, const std::function<void()> &body) {
  const auto &d = driver();
  Context::get(stream.device()).makeCurrent();
  auto s = static_cast<CUstream>(stream.handle());
  check(d.streamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED), "cuStreamBeginCapture");
  CUgraph graph = nullptr;
  try {
    body();
  } catch (...) {
    // End the capture so the stream can be used again; what was recorded is dropped.
    if (d.streamEndCapture(s, &graph) == CUDA_SUCCESS && graph)
      d.graphDestroy(graph);
    throw;
  }
  check(d.streamEndCapture(s, &graph), "cuStreamEndCapture");
  CUgraphExec exec = nullptr;
  CUresult r = d.graphInstantiateWithFlags(&exec, graph, 0);
  d.graphDestroy(graph);
  check(r, "cuGraphInstantiateWithFlags");
  Graph g;
  g.device_ = stream.device();
  g.exec_ = exec;
  return g;
}

void Graph::launch(const Stream &stream) const {
  if (!exec_)
    throw Error("Graph::launch: an empty graph (nothing was captured)");
  if (stream.device() != device_)
    throw Error(fmt::format("Graph::launch: the graph belongs to device {}, the stream to device {}",
                            device_, stream.device()));
  Context::get(device_).makeCurrent();
  check(driver().graphLaunch(static_cast<CUgraphExec>(exec_), static_cast<CUstream>(stream.handle())),
        "cuGraphLaunch");
}

void Graph::release() noexcept {
  if (exec_) {
    driver().ctxSetCurrent(static_cast<CUcontext>(Context::get(device_).handle()));
    driver().graphExecDestroy(static_cast<CUgraphExec>(exec_));
  }
  exec_ = nullptr;
}

Graph::~Graph() { release(); }

Graph::Graph(Graph &&o) noexcept : device_(o.device_), exec_(o.exec_) { o.exec_ = nullptr; }

Graph &Graph::operator=(Graph &&o) noexcept {
  if (this != &o) {
    release();
    device_ = o.device_;
    exec_ = o.exec_;
    o.exec_ = nullptr;
  }
  return *this;
}

DeviceBuffer::DeviceBuffer(size_t bytes, int device) : bytes_(bytes), device_(device) {
  Context::get(device).makeCurrent();
  if (bytes == 0)
    return;
  CUdeviceptr p;
  check(driver().memAlloc(&p, bytes), fmt::format("cuMemAlloc({} bytes)", bytes));
  ptr_ = p;
}

void DeviceBuffer::release() noexcept {
  if (ptr_) {
    driver().ctxSetCurrent(static_cast<CUcontext>(Context::get(device_).handle()));
    driver().memFree(static_cast<CUdeviceptr>(ptr_));
  }
  ptr_ = 0;
  bytes_ = 0;
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer &&o) noexcept
    : ptr_(o.ptr_), bytes_(o.bytes_), device_(o.device_) {
  o.ptr_ = 0;
  o.bytes_ = 0;
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&o) noexcept {
  if (this != &o) {
    release();
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    device_ = o.device_;
    o.ptr_ = 0;
    o.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::copyFromHost(const void *src, size_t bytes, size_t offset) {
  if (offset > bytes_ || bytes > bytes_ - offset)
    throw Error(fmt::format("DeviceBuffer::copyFromHost: {} bytes at offset {} exceed the {}-byte "
                            "buffer",
                            bytes, offset, bytes_));
  if (bytes == 0)
    return;
  Context::get(device_).makeCurrent();
  check(driver().memcpyHtoD(static_cast<CUdeviceptr>(ptr_ + offset), src, bytes), "cuMemcpyHtoD");
}

void DeviceBuffer::copyToHost(void *dst, size_t bytes, size_t offset) const {
  if (offset > bytes_ || bytes > bytes_ - offset)
    throw Error(fmt::format("DeviceBuffer::copyToHost: {} bytes at offset {} exceed the {}-byte "
                            "buffer",
                            bytes, offset, bytes_));
  if (bytes == 0)
    return;
  Context::get(device_).makeCurrent();
  check(driver().memcpyDtoH(dst, static_cast<CUdeviceptr>(ptr_ + offset), bytes), "cuMemcpyDtoH");
}

void DeviceBuffer::memset(uint8_t value) {
  if (bytes_ == 0)
    return;
  Context::get(device_).makeCurrent();
  check(driver().memsetD8(static_cast<CUdeviceptr>(ptr_), value, bytes_), "cuMemsetD8");
}

Tensor DeviceBuffer::view(DType dtype, std::vector<int64_t> shape) const {
  Tensor t(data(), dtype, std::move(shape), Place::Device);
  if (t.nbytes() > static_cast<int64_t>(bytes_))
    throw Error(fmt::format("DeviceBuffer::view: {} needs {} bytes, the buffer has {}", t.str(),
                            t.nbytes(), bytes_));
  return t;
}

#endif

} // namespace tlrt
