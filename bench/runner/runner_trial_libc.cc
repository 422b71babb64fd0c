// runner_trial without sherpa::Client: the same arguments, the same work
// (get the trial, optionally sleep, send reports, one line of timestamps)
// and the same output, but it speaks the trial API (docs/http_api.md) with
// libc alone: one keep-alive socket, each request written with one send().
//
// Why it exists: sherpa::Client is built on the shared libcpp-httplib, which
// loads libssl, libcrypto, zlib and brotli into every trial process. This
// program starts about as fast as a C program can, so with it a benchmark
// shows the runner's own costs; the difference to runner_trial is what the
// client library costs a trial.
//
// Only libc: no libstdc++ symbols are used, so the linker (--as-needed)
// drops it and the process maps libc alone.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int Fail(const char* what, const char* detail) {
  fprintf(stderr, "runner_trial_libc: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

const char* Env(const char* name) {
  const char* value = getenv(name);
  return value && *value ? value : nullptr;
}

int Connect(const char* host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return -1;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One request on the keep-alive connection; the answer's body is left in
// `body` (NUL-terminated). Returns the HTTP status, or -1 on a socket error.
char g_buffer[1 << 16];
int Request(int fd, const char* method, const char* path, const char* authority, const char* token,
            const char* payload, const char** body) {
  const size_t payload_len = payload ? strlen(payload) : 0;
  const int n = snprintf(g_buffer, sizeof(g_buffer),
                         "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         method, path, authority, token, payload_len, payload ? payload : "");
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(g_buffer)) return -1;
  for (int sent = 0; sent < n;) {
    const ssize_t w = send(fd, g_buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
    if (w <= 0) return -1;
    sent += static_cast<int>(w);
  }
  size_t have = 0;
  char* header_end = nullptr;
  size_t content_length = 0;
  for (;;) {
    const ssize_t r = recv(fd, g_buffer + have, sizeof(g_buffer) - 1 - have, 0);
    if (r <= 0) return -1;
    have += static_cast<size_t>(r);
    g_buffer[have] = '\0';
    if (!header_end) {
      header_end = strstr(g_buffer, "\r\n\r\n");
      if (!header_end) continue;
      for (char* line = strstr(g_buffer, "\r\n"); line && line < header_end;
           line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
          content_length = strtoul(line + 17, nullptr, 10);
        }
      }
    }
    const size_t header_len = static_cast<size_t>(header_end + 4 - g_buffer);
    if (header_len + content_length >= sizeof(g_buffer)) return -1;
    if (have >= header_len + content_length) {
      *body = header_end + 4;
      return atoi(g_buffer + 9);  // "HTTP/1.1 200 OK"
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // First thing: the hand-off ends here.
  const int64_t main_ns = RealtimeNs();

  const char* times_path = nullptr;
  long reports = 1;
  long sleep_ms = 0;
  bool probe = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (strcmp(argv[i], "--times") == 0 && has_value) {
      times_path = argv[++i];
    } else if (strcmp(argv[i], "--reports") == 0 && has_value) {
      reports = strtol(argv[++i], nullptr, 10);
    } else if (strcmp(argv[i], "--sleep-ms") == 0 && has_value) {
      sleep_ms = strtol(argv[++i], nullptr, 10);
    } else if (strcmp(argv[i], "--probe") == 0) {
      probe = true;
    } else {
      return Fail("unknown argument", argv[i]);
    }
  }

  // Opened now, not at the end: the stamps are the measurement, and opening
  // a file costs 0.03 ms that would land between <exit> and the runner
  // seeing the exit (a process started ahead opens it while it waits).
  // O_APPEND: concurrent trials append whole lines without tearing them.
  int times_fd = -1;
  if (times_path != nullptr) {
    times_fd = open(times_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (times_fd < 0) return Fail("cannot open --times file", strerror(errno));
  }

  long long trial_id = 0;
  int64_t got_trial_ns = 0, reports_begin_ns = 0, reports_end_ns = 0;
  if (!probe) {
    const char* id = Env("SHERPA_TRIAL_ID");
    const char* trial_fd = Env("SHERPA_TRIAL_FD");  // started ahead (prestart)
    const char* host = Env("SHERPA_HOST");
    const char* port = Env("SHERPA_PORT");
    const char* token = Env("SHERPA_TOKEN");
    if ((!id && !trial_fd) || !host || !port || !token) {
      return Fail("not started by the runner", nullptr);
    }
    char authority[128], path[128], payload[128];
    snprintf(authority, sizeof(authority), "%s:%s", host, port);
    // The runner listens before it starts any trial: no retry needed here.
    const int fd = Connect(host, atoi(port));
    if (fd < 0) return Fail("cannot connect", strerror(errno));
    const char* body = "";
    if (id) {
      trial_id = atoll(id);
      snprintf(path, sizeof(path), "/api/v1/trials/%lld", trial_id);
      const int status = Request(fd, "GET", path, authority, token, nullptr, &body);
      if (status != 200) return Fail("GET trial failed", body);
    } else {
      // The runner sends the trial as JSON and closes; only its id is needed.
      static char message[32768];
      size_t size = 0;
      for (ssize_t n;
           (n = read(atoi(trial_fd), message + size, sizeof(message) - 1 - size)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Fail("cannot read SHERPA_TRIAL_FD", strerror(errno));
        size += static_cast<size_t>(n);
      }
      message[size] = '\0';
      const char* at = strstr(message, "\"id\":");
      if (!at) return Fail("no trial id in", message);
      trial_id = atoll(at + 5);
    }
    got_trial_ns = RealtimeNs();
    if (sleep_ms > 0) {
      const timespec pause{sleep_ms / 1000, (sleep_ms % 1000) * 1'000'000};
      nanosleep(&pause, nullptr);
    }
    reports_begin_ns = RealtimeNs();
    snprintf(path, sizeof(path), "/api/v1/trials/%lld/observations", trial_id);
    for (long i = 1; i <= reports; ++i) {
      snprintf(payload, sizeof(payload), "{\"iteration\":%ld,\"objective\":%.17g,\"context\":{}}",
               i, 1.0 / static_cast<double>(i + trial_id));
      // Answered only once durable (committed to study.db).
      body = "";
      const int status = Request(fd, "POST", path, authority, token, payload, &body);
      if (status != 200) return Fail("report failed", body);
      if (strstr(body, "\"stop\":true")) break;
    }
    reports_end_ns = RealtimeNs();
    close(fd);
  }

  const int64_t exit_ns = RealtimeNs();
  if (times_fd >= 0) {
    char line[160];
    const int n = snprintf(line, sizeof(line), "%lld %lld %lld %lld %lld %lld\n", trial_id,
                           static_cast<long long>(main_ns), static_cast<long long>(got_trial_ns),
                           static_cast<long long>(reports_begin_ns),
                           static_cast<long long>(reports_end_ns), static_cast<long long>(exit_ns));
    const bool written = write(times_fd, line, static_cast<size_t>(n)) == n;
    close(times_fd);
    if (!written) return Fail("cannot write the --times file", nullptr);
  }
  return 0;
}
