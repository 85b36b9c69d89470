/*
 * Room fan-out: writes one buffer (or a tail of it) to many non-blocking TCP sockets from native
 * threads, off the Node event loop and on several cores at once. A room of 10,000 sockets costs
 * 10,000 send(2) calls per flush, almost all of it kernel time (on loopback the sender also pays
 * the receiver's TCP processing); from JavaScript each also pays libuv's and the stream's bookkeeping,
 * and all of it runs on the one core of the event loop. Here the calls are split over up to
 * MAX_THREADS threads and the event loop is free while they run.
 *
 * The caller (src/room/room-server.ts with src/room/native-fanout.ts) owns the rules that make writing
 * beside libuv sound: no fd written here is closed until the returned promise settles (so its number
 * cannot go to another socket meanwhile), only sockets with nothing queued in libuv are written here,
 * and nothing else is written to them until then (then a short write's remainder goes through libuv).
 *
 * JavaScript API (N-API, version 8):
 *   write(fds: Int32Array, offsets: Int32Array, data: Uint8Array, out: Int32Array, threads: number)
 *     -> Promise<number>: sends data[offsets[i]..] to fds[i] once (MSG_DONTWAIT, MSG_NOSIGNAL);
 *     out[i] = bytes sent (0 when the socket's buffer is full) or -errno. Resolves with the CPU time
 *     the writing threads took, in microseconds.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
/* Fewer sockets than this per thread are not worth a thread. */
#define MIN_PER_THREAD 256

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[4];
  const int32_t *fds;
  const int32_t *offsets;
  int32_t *out;
  size_t n;
  const uint8_t *data;
  size_t len;
  int threads;
  double cpu_us;
} job_t;

typedef struct {
  job_t *job;
  size_t from, to;
  double cpu_us;
} part_t;

static double thread_cpu_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *write_part(void *arg) {
  part_t *p = arg;
  job_t *j = p->job;
  double c0 = thread_cpu_us();
  for (size_t i = p->from; i < p->to; i++) {
    size_t off = (size_t)j->offsets[i];
    ssize_t r;
    do {
      r = send(j->fds[i], j->data + off, j->len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r >= 0) j->out[i] = (int32_t)r;
    else j->out[i] = (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  }
  p->cpu_us = thread_cpu_us() - c0;
  return NULL;
}

/* On a libuv pool thread: this thread writes the first part, extra threads the others. */
static void execute(napi_env env, void *data) {
  (void)env;
  job_t *j = data;
  size_t t = (size_t)j->threads;
  size_t most = j->n / MIN_PER_THREAD + 1;
  if (t > most) t = most;
  if (t < 1) t = 1;
  pthread_t th[MAX_THREADS];
  part_t parts[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (size_t k = 0; k < t; k++) {
    parts[k].job = j;
    parts[k].from = j->n * k / t;
    parts[k].to = j->n * (k + 1) / t;
    parts[k].cpu_us = 0;
  }
  for (size_t k = 1; k < t; k++) started[k] = pthread_create(&th[k], NULL, write_part, &parts[k]) == 0;
  write_part(&parts[0]);
  j->cpu_us = parts[0].cpu_us;
  for (size_t k = 1; k < t; k++) {
    if (started[k]) pthread_join(th[k], NULL);
    else write_part(&parts[k]); /* no thread to be had: this one writes that part too */
    j->cpu_us += parts[k].cpu_us;
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  if (status == napi_ok) {
    napi_value cpu;
    napi_create_double(env, j->cpu_us, &cpu);
    napi_resolve_deferred(env, j->deferred, cpu);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "room fan-out write cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
  }
  for (int k = 0; k < 4; k++) napi_delete_reference(env, j->refs[k]);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* Whether v is a typed array of the given type; its elements (NULL when empty) and how many. */
static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **p, size_t *n) {
  bool is = false;
  *p = NULL;
  *n = 0;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &type, n, p, &ab, &off) == napi_ok && type == want;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return throw_type(env, "write(fds, offsets, data, out, threads)");
  size_t n, no, len, nout;
  void *fds_p, *offsets_p, *bytes_p, *out_p;
  int32_t threads;
  if (!typed(env, argv[0], napi_int32_array, &fds_p, &n) || !typed(env, argv[1], napi_int32_array, &offsets_p, &no) ||
      !typed(env, argv[2], napi_uint8_array, &bytes_p, &len) || !typed(env, argv[3], napi_int32_array, &out_p, &nout)) {
    return throw_type(env, "fds, offsets and out must be Int32Arrays, data a Uint8Array");
  }
  const int32_t *fds = fds_p;
  const int32_t *offsets = offsets_p;
  const uint8_t *bytes = bytes_p;
  int32_t *out = out_p;
  if (no != n || nout != n) return throw_type(env, "fds, offsets and out must have the same length");
  if (napi_get_value_int32(env, argv[4], &threads) != napi_ok) return throw_type(env, "threads must be a number");
  for (size_t i = 0; i < n; i++) {
    if (offsets[i] < 0 || (size_t)offsets[i] > len) return throw_type(env, "an offset is outside data");
  }
  job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  j->fds = fds;
  j->offsets = offsets;
  j->data = bytes;
  j->len = len;
  j->out = out;
  j->n = n;
  j->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
  /* The arrays stay alive (and their memory in place: typed arrays do not move) until complete(). */
  for (int k = 0; k < 4; k++) napi_create_reference(env, argv[k], 1, &j->refs[k]);
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "showcase.roomFanout", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    for (int k = 0; k < 4; k++) napi_delete_reference(env, j->refs[k]);
    free(j);
    napi_throw_error(env, NULL, "could not queue the fan-out write");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "write", NAPI_AUTO_LENGTH, js_write, NULL, &f);
  napi_set_named_property(env, exports, "write", f);
  return exports;
}
