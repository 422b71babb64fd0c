// The trial program of load_bench: one trial client that fetches its trial
// and sends reports back to back, each with an Idempotency-Key, timing each
// report from the first send to the durable answer. It speaks the trial API
// (docs/http_api.md) with libc alone, like bench/runner/runner_trial_libc,
// so that hundreds of them fit on a small machine next to the runner and
// the figures are the runner's.
//
// --no-latencies skips the latency file (studies of many short trials).
// --cut-every K makes every K-th report lose its answer: the request is
// sent and the connection closed at once, as a network failure would, and
// the report is resent with the same key on a new connection until it is
// answered. The runner must store it once.
//
// Output, when the trial is done:
//   <out>/lat/<trial id>  the latency of each acknowledged report, in
//                         microseconds, as native uint32 values in order;
//   <out>/acks            one line per trial (fixed width, appended with
//                         O_APPEND): trial id, reports acknowledged,
//                         resends, first send and last answer
//                         (CLOCK_REALTIME, microseconds).
// Report i carries iteration i, so the acknowledged reports of a trial are
// iterations 1..acknowledged.
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

int64_t NowUs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

int Fail(const char* what, const char* detail) {
  fprintf(stderr, "load_trial: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

const char* Env(const char* name) {
  const char* value = getenv(name);
  return value && *value ? value : nullptr;
}

struct Server {
  sockaddr_in addr{};
  char authority[96];
  const char* token;
};

int Connect(const Server& server) {
  // Hundreds of clients connect at once: a full accept queue is retried.
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, reinterpret_cast<const sockaddr*>(&server.addr), sizeof(server.addr)) == 0) {
      return fd;
    }
    close(fd);
    const timespec pause{0, 20'000'000};
    nanosleep(&pause, nullptr);
  }
  return -1;
}

bool SendAll(int fd, const char* data, size_t n) {
  for (size_t sent = 0; sent < n;) {
    const ssize_t w = send(fd, data + sent, n - sent, MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += static_cast<size_t>(w);
  }
  return true;
}

// Reads one answer from the keep-alive connection; its body is left in
// `body` (NUL-terminated). Returns the HTTP status, or -1 if the connection
// broke.
char g_answer[1 << 16];
int ReadAnswer(int fd, const char** body) {
  size_t have = 0;
  char* header_end = nullptr;
  size_t content_length = 0;
  for (;;) {
    const ssize_t r = recv(fd, g_answer + have, sizeof(g_answer) - 1 - have, 0);
    if (r <= 0) return -1;
    have += static_cast<size_t>(r);
    g_answer[have] = '\0';
    if (!header_end) {
      header_end = strstr(g_answer, "\r\n\r\n");
      if (!header_end) continue;
      for (char* line = strstr(g_answer, "\r\n"); line && line < header_end;
           line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
          content_length = strtoul(line + 17, nullptr, 10);
        }
      }
    }
    const size_t header_len = static_cast<size_t>(header_end + 4 - g_answer);
    if (header_len + content_length >= sizeof(g_answer)) return -1;
    if (have >= header_len + content_length) {
      *body = header_end + 4;
      return atoi(g_answer + 9);  // "HTTP/1.1 200 OK"
    }
  }
}

int FormatRequest(char* out, size_t size, const char* method, const char* path,
                  const Server& server, const char* key, const char* payload) {
  const size_t payload_len = payload ? strlen(payload) : 0;
  char key_header[96] = "";
  if (key) snprintf(key_header, sizeof(key_header), "Idempotency-Key: %s\r\n", key);
  return snprintf(out, size,
                  "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n%s"
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                  method, path, server.authority, server.token, key_header, payload_len,
                  payload ? payload : "");
}

bool WriteAll(const char* path, const void* data, size_t n, int flags) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0) return false;
  const bool ok = write(fd, data, n) == static_cast<ssize_t>(n);
  close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  long reports = 1;
  long cut_every = 0;
  bool write_latencies = true;
  const char* out = nullptr;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (strcmp(argv[i], "--reports") == 0 && has_value) {
      reports = strtol(argv[++i], nullptr, 10);
    } else if (strcmp(argv[i], "--cut-every") == 0 && has_value) {
      cut_every = strtol(argv[++i], nullptr, 10);
    } else if (strcmp(argv[i], "--no-latencies") == 0) {
      write_latencies = false;
    } else if (strcmp(argv[i], "--out") == 0 && has_value) {
      out = argv[++i];
    } else {
      return Fail("unknown argument", argv[i]);
    }
  }
  const char* id = Env("SHERPA_TRIAL_ID");
  const char* host = Env("SHERPA_HOST");
  const char* port = Env("SHERPA_PORT");
  Server server;
  server.token = Env("SHERPA_TOKEN");
  if (!id || !host || !port || !server.token || !out) {
    return Fail("needs --out and the SHERPA_* variables of the runner", nullptr);
  }
  const long long trial_id = atoll(id);
  server.addr.sin_family = AF_INET;
  server.addr.sin_port = htons(static_cast<uint16_t>(atoi(port)));
  if (inet_pton(AF_INET, host, &server.addr.sin_addr) != 1) return Fail("not an IPv4 host", host);
  snprintf(server.authority, sizeof(server.authority), "%s:%s", host, port);

  // Keys differ between trials and between runs of the same trial id.
  char key_prefix[40];
  snprintf(key_prefix, sizeof(key_prefix), "%lld.%lld", trial_id,
           static_cast<long long>(NowUs(CLOCK_REALTIME)));

  uint32_t* latencies = static_cast<uint32_t*>(calloc(static_cast<size_t>(reports) + 1, 4));
  int fd = Connect(server);
  if (fd < 0 || !latencies) return Fail("cannot connect", strerror(errno));
  static char request[1024];
  const char* body = "";
  char path[96];
  snprintf(path, sizeof(path), "/api/v1/trials/%lld", trial_id);
  int n = FormatRequest(request, sizeof(request), "GET", path, server, nullptr, nullptr);
  if (!SendAll(fd, request, static_cast<size_t>(n)) || ReadAnswer(fd, &body) != 200) {
    return Fail("GET trial failed", body);
  }

  snprintf(path, sizeof(path), "/api/v1/trials/%lld/observations", trial_id);
  long acked = 0, resends = 0;
  const int64_t first_send = NowUs(CLOCK_REALTIME);
  for (long i = 1; i <= reports; ++i) {
    char payload[128], key[64];
    snprintf(payload, sizeof(payload), "{\"iteration\":%ld,\"objective\":%.17g}", i,
             1.0 / static_cast<double>(i + trial_id));
    snprintf(key, sizeof(key), "%s-%ld", key_prefix, i);
    n = FormatRequest(request, sizeof(request), "POST", path, server, key, payload);
    const int64_t began = NowUs(CLOCK_MONOTONIC);
    bool cut = cut_every > 0 && i % cut_every == 0;
    int status = -1;
    for (int attempt = 0; attempt < 100 && status < 0; ++attempt) {
      if (fd < 0) fd = Connect(server);
      if (fd < 0) return Fail("cannot reconnect", strerror(errno));
      if (SendAll(fd, request, static_cast<size_t>(n))) {
        if (cut) {
          // The request is on its way; its answer will never be read.
          cut = false;
        } else {
          status = ReadAnswer(fd, &body);
        }
      }
      if (status < 0) {
        close(fd);
        fd = -1;
        ++resends;
      }
    }
    if (status != 200) return Fail("report failed", body);
    const int64_t us = NowUs(CLOCK_MONOTONIC) - began;
    latencies[acked++] = static_cast<uint32_t>(us > 0xffffffff ? 0xffffffff : us);
    if (strstr(body, "\"stop\":true")) break;
  }
  const int64_t last_answer = NowUs(CLOCK_REALTIME);
  close(fd);

  char file[512];
  snprintf(file, sizeof(file), "%s/lat/%lld", out, trial_id);
  if (write_latencies && !WriteAll(file, latencies, static_cast<size_t>(acked) * 4, O_TRUNC)) {
    return Fail("cannot write", file);
  }
  char line[128];
  const int len =
      snprintf(line, sizeof(line), "%12lld %10ld %8ld %20lld %20lld\n", trial_id, acked, resends,
               static_cast<long long>(first_send), static_cast<long long>(last_answer));
  snprintf(file, sizeof(file), "%s/acks", out);
  if (!WriteAll(file, line, static_cast<size_t>(len), O_APPEND)) return Fail("cannot write", file);
  return 0;
}
