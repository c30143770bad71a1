/* vaxviet-loadgen: a small open-loop HTTP/1.1 load generator for the benchmarks in bench/.
 *
 * One thread, epoll, non-blocking sockets, keep-alive. Visitors repeat a "view script" (the
 * ordered requests of one page view, written by bench/portal_crowd.py; format below), one
 * request at a time on their own connection, reconnecting when the server closes it.
 *
 *   vaxviet-loadgen --port P [--host 127.0.0.1] [--duration-s 10] [--warmup-s 0]
 *                   [--timeout-ms 10000] [--visitors N] [--rate R] [--think-ms T]
 *                   [--out FILE] --script SPEC [--script SPEC ...]
 *
 * SPEC is comma-separated key=value: file=PATH (required), name=NAME, weight=W,
 * visitors=N, rate=VIEWS_PER_S (0: closed loop), think-ms=T, max-connections=M,
 * fresh=1 (a new connection for every view), bind=1 (each new connection from a loopback
 * address of its own, 127.x.y.z, so per-address limits apply per visitor),
 * seq-start=S, seq-count=C (the {seq:W} placeholder, below). Scripts without their own
 * visitors or rate share the global --visitors and --rate in proportion to their weights.
 *
 * Closed loop (rate 0): each visitor starts its next view think-ms after the last ended.
 * Open loop (rate > 0): views arrive every 1/rate s whether or not the server keeps up;
 * an arriving view goes to an idle visitor, else to a new connection (up to
 * max-connections, default: visitors), else it waits in the generator's queue. Latency
 * is measured from each request's *intended* start: for a view's first request its
 * arrival (waiting in the queue included: no coordinated omission), for the others the
 * end of the one before (when a browser would send it). A view ends early on a 503, a
 * socket error or a timeout (--timeout-ms from the request's sending). When the time is
 * up no view starts that arrived later; the views that arrived in time are served to
 * their end (the slowest are not left out), for at most --timeout-ms + 1 s more (wall_s
 * says how long the run took); what is left then is reported as cut or unstarted.
 *
 * View script format (text lines; bodies length-prefixed):
 *   VIEW <name>
 *   REQ <METHOD> <dynamic 0|1> <path>
 *   L <label>                 (optional)
 *   H <Name>: <value>         (any number; Host, Content-Length, Connection are the generator's)
 *   B <n>                     then n bytes of body and a newline
 * "{seq:W}" in a path or body becomes the view's sequence number modulo 10^W, W digits
 * (a different person for every view: seq-start + views started, modulo seq-count).
 *
 * Output: one JSON document (stdout or --out) per script: views/s and requests/s (those
 * completed before the time was up, over the duration), counts per
 * status class and status, latency p50/p95/p99/max overall, per request index, for 503s,
 * for a view's dynamic requests answered 2xx/304, for whole views; the wait of arriving
 * views for a connection (queue_ms) and latency from the sending of the request instead of
 * its intended start (from_send_ms, from_send_503_ms: the server's part); Retry-After.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { C2XX, C304, C503, COTHER, CERROR, CTIMEOUT, NCLASS };
static const char *CLASS_NAMES[NCLASS] = {"2xx", "304", "503", "other", "errors", "timeouts"};

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vaxviet-loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void *xmalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

static char *xstrndup(const char *s, size_t n) {
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    return d;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* -- growable arrays of latencies (ms) ------------------------------------------------------ */

typedef struct {
    double *v;
    size_t n, cap;
} Samples;

static void add(Samples *s, double x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof(double));
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(Samples *s, double q) { /* s sorted */
    if (!s->n) return 0;
    size_t i = (size_t)ceil(q * s->n);
    if (i < 1) i = 1;
    return s->v[i - 1];
}

static void print_samples(FILE *f, Samples *s) {
    qsort(s->v, s->n, sizeof(double), cmp_double);
    fprintf(f, "{\"n\": %zu, \"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f, \"max\": %.3f}", s->n,
            quantile(s, 0.5), quantile(s, 0.95), quantile(s, 0.99), s->n ? s->v[s->n - 1] : 0.0);
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* -- view scripts --------------------------------------------------------------------------- */

typedef struct {
    char *method, *path, *label, *headers; /* headers: "Name: value\r\n" lines */
    char *body;
    size_t body_len;
    int dynamic, has_seq, no_body; /* no_body: HEAD */
    char *prebuilt;                 /* the whole request when it has no {seq} */
    size_t prebuilt_len;
    /* stats */
    uint64_t status_class[NCLASS], ok_by_end;
    Samples lat;
} Req;

#define MAX_RETRY_AFTER 8
typedef struct {
    char *name, *file;
    Req *reqs;
    int nreq;
    double weight, rate, think_ms;
    int visitors, max_conns, fresh, bind_loopback;
    int rate_set, visitors_set, think_set, max_set;
    uint64_t seq_start, seq_count, seq_next;
    /* open-loop arrivals */
    double interval, next_arrival;
    double *queue;
    size_t qhead, qlen, qcap, qmax;
    int *idle; /* stack of idle visitor indices (open loop) */
    int nidle, nconns;
    /* stats */
    uint64_t views_started, views_completed, views_shed, views_failed, views_unstarted, views_cut;
    uint64_t views_by_end, requests_by_end; /* completed / answered before the time was up */
    uint64_t status_class[NCLASS], connects, bytes_in;
    uint64_t statuses[600];
    Samples lat, lat503, dynamic_ok, view, queue_wait, from_send, from_send503;
    char *retry_after[MAX_RETRY_AFTER];
    uint64_t retry_after_n[MAX_RETRY_AFTER];
    uint64_t retry_after_missing;
} Script;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap) *cap = *cap ? *cap * 2 : 1024;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

static void load_script(Script *s) {
    size_t len, pos = 0;
    char *text = read_file(s->file, &len);
    int cap = 0;
    while (pos < len) {
        char *line = text + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (llen && line[llen - 1] == '\r') llen--;
        if (!llen || line[0] == '#') continue;
        if (!strncmp(line, "VIEW ", 5)) {
            if (!s->name) s->name = xstrndup(line + 5, llen - 5);
        } else if (!strncmp(line, "REQ ", 4)) {
            if (s->nreq == cap) {
                cap = cap ? cap * 2 : 16;
                s->reqs = xrealloc(s->reqs, cap * sizeof(Req));
            }
            Req *r = &s->reqs[s->nreq++];
            memset(r, 0, sizeof *r);
            char *rest = xstrndup(line + 4, llen - 4);
            char *method = strtok(rest, " "), *dyn = strtok(NULL, " "), *path = strtok(NULL, " ");
            if (!method || !dyn || !path) die("%s: bad REQ line", s->file);
            r->method = strdup(method);
            r->dynamic = atoi(dyn) != 0;
            r->path = strdup(path);
            r->label = strdup(path);
            r->headers = strdup("");
            r->no_body = !strcmp(method, "HEAD");
            free(rest);
        } else if (!s->nreq) {
            die("%s: a line before the first REQ", s->file);
        } else if (!strncmp(line, "L ", 2)) {
            Req *r = &s->reqs[s->nreq - 1];
            free(r->label);
            r->label = xstrndup(line + 2, llen - 2);
        } else if (!strncmp(line, "H ", 2)) {
            Req *r = &s->reqs[s->nreq - 1];
            const char *h = line + 2;
            size_t hl = llen - 2;
            if (!strncasecmp(h, "host:", 5) || !strncasecmp(h, "content-length:", 15) ||
                !strncasecmp(h, "connection:", 11))
                continue;
            size_t old = strlen(r->headers);
            r->headers = xrealloc(r->headers, old + hl + 3);
            memcpy(r->headers + old, h, hl);
            memcpy(r->headers + old + hl, "\r\n", 3);
        } else if (!strncmp(line, "B ", 2)) {
            Req *r = &s->reqs[s->nreq - 1];
            size_t n = strtoul(line + 2, NULL, 10);
            if (pos + n > len) die("%s: body runs past the end", s->file);
            r->body = xstrndup(text + pos, n);
            r->body_len = n;
            pos += n;
            if (pos < len && text[pos] == '\n') pos++;
        } else {
            die("%s: unknown line '%.*s'", s->file, (int)llen, line);
        }
    }
    free(text);
    if (!s->nreq) die("%s: no requests", s->file);
    if (!s->name) s->name = strdup(s->file);
    for (int i = 0; i < s->nreq; i++) {
        Req *r = &s->reqs[i];
        r->has_seq = strstr(r->path, "{seq:") || (r->body && memmem(r->body, r->body_len, "{seq:", 5));
    }
}

/* Replace each {seq:W} with seq modulo 10^W in W digits. */
static void substitute(char **buf, size_t *len, size_t *cap, const char *s, size_t n, uint64_t seq) {
    size_t i = 0;
    while (i < n) {
        const char *p = memmem(s + i, n - i, "{seq:", 5);
        if (!p) {
            append(buf, len, cap, s + i, n - i);
            return;
        }
        append(buf, len, cap, s + i, p - (s + i));
        const char *end = memchr(p, '}', n - (p - s));
        int width = end ? atoi(p + 5) : 0;
        if (!end || width < 1 || width > 19) die("bad {seq:W} placeholder");
        uint64_t mod = 1;
        for (int k = 0; k < width; k++) mod *= 10;
        char digits[32];
        snprintf(digits, sizeof digits, "%0*llu", width, (unsigned long long)(seq % mod));
        append(buf, len, cap, digits, width);
        i = (end - s) + 1;
    }
}

static const char *g_host = "127.0.0.1";
static int g_port = 0;

static void build_request(Req *r, uint64_t seq, char **out, size_t *out_len) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char *body = NULL;
    size_t blen = 0, bcap = 0;
    if (r->body) substitute(&body, &blen, &bcap, r->body, r->body_len, seq);
    append(&buf, &len, &cap, r->method, strlen(r->method));
    append(&buf, &len, &cap, " ", 1);
    substitute(&buf, &len, &cap, r->path, strlen(r->path), seq);
    char line[256];
    int n = snprintf(line, sizeof line, " HTTP/1.1\r\nHost: %s:%d\r\n", g_host, g_port);
    append(&buf, &len, &cap, line, n);
    append(&buf, &len, &cap, r->headers, strlen(r->headers));
    if (r->body || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT")) {
        n = snprintf(line, sizeof line, "Content-Length: %zu\r\n", blen);
        append(&buf, &len, &cap, line, n);
    }
    append(&buf, &len, &cap, "\r\n", 2);
    if (body) append(&buf, &len, &cap, body, blen);
    free(body);
    *out = buf;
    *out_len = len;
}

/* -- visitors and their connections ----------------------------------------------------------- */

enum { V_IDLE, V_CONNECTING, V_SENDING, V_RECEIVING, V_THINKING };
enum { B_HEAD, B_LENGTH, B_CHUNK_SIZE, B_CHUNK_DATA, B_CHUNK_CRLF, B_TRAILER, B_CLOSE, B_DONE };

typedef struct {
    int id, script, fd, state, in_view, req, attempts, used;
    double view_intended, intended, sent, wake_at;
    uint64_t seq;
    char *out;
    size_t out_len, out_off, out_owned;
    /* response */
    char head[16384];
    size_t head_len;
    int body_state, status, close_after, got_any;
    long long left;
    char line[128];
    size_t line_len;
    char retry_after[32];
    int has_retry_after;
} Visitor;

static Script *scripts;
static int nscripts;
static Visitor **visitors;
static int nvisitors, cap_visitors;
static int epfd;
static double g_timeout_ms = 10000, g_start, g_warm_until, g_end;
static uint64_t g_loopback_next = 0;
static struct sockaddr_in g_addr;

#define MAX_ERRORS 16
static char *error_names[MAX_ERRORS];
static uint64_t error_counts[MAX_ERRORS];

static void count_error(const char *what) {
    for (int i = 0; i < MAX_ERRORS; i++) {
        if (!error_names[i]) {
            error_names[i] = strdup(what);
            error_counts[i] = 1;
            return;
        }
        if (!strcmp(error_names[i], what)) {
            error_counts[i]++;
            return;
        }
    }
}

static Visitor *new_visitor(int script) {
    if (nvisitors == cap_visitors) {
        cap_visitors = cap_visitors ? cap_visitors * 2 : 256;
        visitors = xrealloc(visitors, cap_visitors * sizeof(Visitor *));
    }
    Visitor *v = xmalloc(sizeof(Visitor));
    v->id = nvisitors;
    v->script = script;
    v->fd = -1;
    visitors[nvisitors++] = v;
    scripts[script].nconns++;
    return v;
}

static void close_conn(Visitor *v) {
    if (v->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, v->fd, NULL);
        close(v->fd);
        v->fd = -1;
    }
    v->used = 0;
}

static int open_conn(Visitor *v) {
    Script *s = &scripts[v->script];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        count_error(strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s->bind_loopback) {
        uint64_t k = g_loopback_next++;
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl((127u << 24) | ((1 + k / 65025 % 254) << 16) | ((k / 255 % 255) << 8) |
                                    (1 + k % 254));
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            count_error("bind");
            close(fd);
            return -1;
        }
    }
    s->connects++;
    int rc = connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr);
    if (rc < 0 && errno != EINPROGRESS) {
        count_error(strerror(errno));
        close(fd);
        return -1;
    }
    v->fd = fd;
    v->used = 0;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)v->id};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    v->state = V_CONNECTING;
    return 0;
}

static void want(Visitor *v, uint32_t events) {
    struct epoll_event ev = {.events = events | EPOLLRDHUP, .data.u32 = (uint32_t)v->id};
    epoll_ctl(epfd, EPOLL_CTL_MOD, v->fd, &ev);
}

static int recording(double intended) { return intended >= g_warm_until; }

static void start_request(Visitor *v, double now);
static void end_view(Visitor *v, double now, int outcome);
static void record(Visitor *v, double now, int cls);
static void begin_view(Visitor *v, double intended, double now);

/* Send the visitor's current request (connecting first when needed). */
static void start_request(Visitor *v, double now) {
    Script *s = &scripts[v->script];
    Req *r = &s->reqs[v->req];
    if (v->out_owned) free(v->out);
    if (r->has_seq) {
        build_request(r, v->seq, &v->out, &v->out_len);
        v->out_owned = 1;
    } else {
        if (!r->prebuilt) build_request(r, 0, &r->prebuilt, &r->prebuilt_len);
        v->out = r->prebuilt;
        v->out_len = r->prebuilt_len;
        v->out_owned = 0;
    }
    v->out_off = 0;
    v->sent = now;
    v->head_len = 0;
    v->body_state = B_HEAD;
    v->got_any = 0;
    v->has_retry_after = 0;
    if (v->fd < 0) {
        if (open_conn(v) < 0) {
            record(v, now, CERROR);
            end_view(v, now, 2);
        }
        return;
    }
    v->state = V_SENDING;
    want(v, EPOLLOUT);
}

static void begin_view(Visitor *v, double intended, double now) {
    Script *s = &scripts[v->script];
    v->in_view = 1;
    v->req = 0;
    v->attempts = 0;
    v->view_intended = intended;
    v->intended = intended;
    v->seq = s->seq_start + s->seq_next++;
    if (s->seq_count) v->seq = v->seq % s->seq_count;
    if (recording(intended) && intended < g_end) s->views_started++;
    if (recording(intended)) add(&s->queue_wait, now - intended);
    if (s->fresh) close_conn(v);
    start_request(v, now);
}

/* outcome: 0 completed, 1 shed (503), 2 failed */
static void end_view(Visitor *v, double now, int outcome) {
    Script *s = &scripts[v->script];
    v->in_view = 0;
    if (recording(v->view_intended) && v->view_intended < g_end) {
        if (outcome == 0) {
            s->views_completed++;
            if (now <= g_end) s->views_by_end++;
            add(&s->view, now - v->view_intended);
        } else if (outcome == 1) s->views_shed++;
        else if (outcome == 2) s->views_failed++;
        else s->views_cut++;
    }
    if (s->fresh) close_conn(v);
    if (s->rate > 0) {
        v->state = V_IDLE;
        s->idle[s->nidle++] = v->id;
    } else {
        v->state = V_THINKING;
        v->wake_at = now + s->think_ms;
        /* as fast as served: the next view at once (after a failure, at the next scan) */
        if (outcome == 0 && s->think_ms <= 0 && now < g_end) begin_view(v, now, now);
    }
}

static void record(Visitor *v, double now, int cls) {
    Script *s = &scripts[v->script];
    Req *r = &s->reqs[v->req];
    if (!recording(v->view_intended) || v->view_intended >= g_end) return;
    double ms = now - v->intended;
    if (now <= g_end) {
        s->requests_by_end++;
        if (cls == C2XX || cls == C304) r->ok_by_end++;
    }
    s->status_class[cls]++;
    r->status_class[cls]++;
    add(&s->lat, ms);
    add(&r->lat, ms);
    add(&s->from_send, now - v->sent);
    if (cls == C503) {
        add(&s->lat503, ms);
        add(&s->from_send503, now - v->sent);
    }
    if (r->dynamic && (cls == C2XX || cls == C304)) add(&s->dynamic_ok, ms);
    if (cls == C503) {
        if (!v->has_retry_after) s->retry_after_missing++;
        else {
            for (int i = 0; i < MAX_RETRY_AFTER; i++) {
                if (!s->retry_after[i]) s->retry_after[i] = strdup(v->retry_after);
                if (!strcmp(s->retry_after[i], v->retry_after)) {
                    s->retry_after_n[i]++;
                    break;
                }
            }
        }
    }
    if (cls != CERROR && cls != CTIMEOUT && v->status > 0 && v->status < 600) s->statuses[v->status]++;
}

static void failed(Visitor *v, double now, int cls, const char *what) {
    Script *s = &scripts[v->script];
    /* a keep-alive connection the server closed while idle: send again on a new one */
    if (cls == CERROR && v->used && !v->got_any && v->attempts == 0) {
        v->attempts++;
        close_conn(v);
        start_request(v, now);
        return;
    }
    count_error(what);
    record(v, now, cls);
    close_conn(v);
    (void)s;
    end_view(v, now, 2);
}

static void response_done(Visitor *v, double now) {
    Script *s = &scripts[v->script];
    int st = v->status;
    int cls = st == 304 ? C304 : st == 503 ? C503 : (st >= 200 && st < 300) ? C2XX : COTHER;
    record(v, now, cls);
    v->used = 1;
    if (v->close_after) close_conn(v);
    if (cls == C503) {
        end_view(v, now, 1);
        return;
    }
    v->req++;
    v->attempts = 0;
    if (v->req >= s->nreq) {
        end_view(v, now, 0);
        return;
    }
    v->intended = now;
    start_request(v, now);
}

static void parse_head(Visitor *v, Req *r) {
    v->status = 0;
    sscanf(v->head, "HTTP/%*d.%*d %d", &v->status);
    long long length = -1;
    int chunked = 0;
    v->close_after = !strncmp(v->head, "HTTP/1.0", 8);
    char *p = strstr(v->head, "\r\n");
    while (p && p[2] != '\r') {
        char *h = p + 2;
        char *e = strstr(h, "\r\n");
        if (!e) break;
        char *colon = memchr(h, ':', e - h);
        if (colon) {
            char *val = colon + 1;
            while (*val == ' ' || *val == '\t') val++;
            size_t name = colon - h, vl = e - val;
            if (name == 14 && !strncasecmp(h, "content-length", 14)) length = atoll(val);
            else if (name == 17 && !strncasecmp(h, "transfer-encoding", 17))
                chunked = memmem(val, vl, "chunked", 7) != NULL;
            else if (name == 10 && !strncasecmp(h, "connection", 10)) {
                if (vl >= 5 && !strncasecmp(val, "close", 5)) v->close_after = 1;
                else if (vl >= 10 && !strncasecmp(val, "keep-alive", 10)) v->close_after = 0;
            } else if (name == 11 && !strncasecmp(h, "retry-after", 11)) {
                size_t n = vl < sizeof v->retry_after - 1 ? vl : sizeof v->retry_after - 1;
                memcpy(v->retry_after, val, n);
                v->retry_after[n] = 0;
                v->has_retry_after = 1;
            }
        }
        p = e;
    }
    if (r->no_body || v->status == 304 || v->status == 204 || (v->status >= 100 && v->status < 200))
        v->body_state = B_DONE;
    else if (chunked) {
        v->body_state = B_CHUNK_SIZE;
        v->line_len = 0;
    } else if (length >= 0) {
        v->left = length;
        v->body_state = length ? B_LENGTH : B_DONE;
    } else {
        v->body_state = B_CLOSE;
        v->close_after = 1;
    }
}

/* Feed body bytes; returns 1 when the response is complete, -1 on a malformed one. */
static int feed_body(Visitor *v, const char *d, size_t n) {
    size_t i = 0;
    while (i < n && v->body_state != B_DONE) {
        switch (v->body_state) {
        case B_LENGTH:
        case B_CHUNK_DATA:
        case B_CHUNK_CRLF: {
            size_t take = (size_t)v->left < n - i ? (size_t)v->left : n - i;
            i += take;
            v->left -= take;
            if (!v->left) {
                if (v->body_state == B_LENGTH) v->body_state = B_DONE;
                else if (v->body_state == B_CHUNK_DATA) {
                    v->body_state = B_CHUNK_CRLF;
                    v->left = 2;
                } else {
                    v->body_state = B_CHUNK_SIZE;
                    v->line_len = 0;
                }
            }
            break;
        }
        case B_CHUNK_SIZE:
        case B_TRAILER: {
            char c = d[i++];
            if (c != '\n') {
                if (v->line_len < sizeof v->line - 1) v->line[v->line_len++] = c;
                break;
            }
            if (v->line_len && v->line[v->line_len - 1] == '\r') v->line_len--;
            v->line[v->line_len] = 0;
            if (v->body_state == B_TRAILER) {
                if (!v->line_len) v->body_state = B_DONE;
            } else {
                char *end;
                long long size = strtoll(v->line, &end, 16);
                if (end == v->line || size < 0) return -1;
                if (size == 0) v->body_state = B_TRAILER;
                else {
                    v->body_state = B_CHUNK_DATA;
                    v->left = size;
                }
            }
            v->line_len = 0;
            break;
        }
        case B_CLOSE:
            i = n;
            break;
        }
    }
    return v->body_state == B_DONE;
}

static void on_readable(Visitor *v, double now) {
    Script *s = &scripts[v->script];
    static char buf[1 << 16];
    for (;;) {
        ssize_t got = read(v->fd, buf, sizeof buf);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            failed(v, now, CERROR, strerror(errno));
            return;
        }
        if (got == 0) {
            if (v->state == V_RECEIVING && v->body_state == B_CLOSE) {
                close_conn(v);
                v->close_after = 0;
                response_done(v, now);
            } else if (v->state == V_RECEIVING || v->state == V_SENDING) {
                failed(v, now, CERROR, "connection closed by the server");
            } else {
                close_conn(v); /* idle keep-alive connection closed: reconnect on next use */
            }
            return;
        }
        if (v->state != V_RECEIVING && v->state != V_SENDING) continue; /* stray bytes */
        v->got_any = 1;
        s->bytes_in += got;
        size_t off = 0;
        if (v->body_state == B_HEAD) {
            size_t room = sizeof v->head - 1 - v->head_len;
            size_t take = (size_t)got < room ? (size_t)got : room;
            memcpy(v->head + v->head_len, buf, take);
            size_t before = v->head_len;
            v->head_len += take;
            v->head[v->head_len] = 0;
            char *end = strstr(v->head, "\r\n\r\n");
            if (!end) {
                if (v->head_len == sizeof v->head - 1) {
                    failed(v, now, CERROR, "response head too long");
                    return;
                }
                continue;
            }
            size_t head_end = (end - v->head) + 4;
            parse_head(v, &s->reqs[v->req]);
            off = head_end - before;
        }
        int done = v->body_state == B_DONE ? 1 : feed_body(v, buf + off, got - off);
        if (done < 0) {
            failed(v, now, CERROR, "malformed chunked body");
            return;
        }
        if (done) {
            response_done(v, now);
            return;
        }
    }
}

static void on_writable(Visitor *v, double now) {
    if (v->state == V_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            failed(v, now, CERROR, strerror(err));
            return;
        }
        v->state = V_SENDING;
    }
    if (v->state != V_SENDING) return;
    while (v->out_off < v->out_len) {
        ssize_t n = send(v->fd, v->out + v->out_off, v->out_len - v->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            failed(v, now, CERROR, strerror(errno));
            return;
        }
        v->out_off += n;
    }
    v->state = V_RECEIVING;
    want(v, EPOLLIN);
}

/* -- arguments ------------------------------------------------------------------------------ */

static void parse_spec(Script *s, const char *spec) {
    char *copy = strdup(spec), *save = NULL;
    s->weight = 1;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) die("--script: '%s' is not key=value", kv);
        *eq = 0;
        const char *k = kv, *val = eq + 1;
        if (!strcmp(k, "file")) s->file = strdup(val);
        else if (!strcmp(k, "name")) s->name = strdup(val);
        else if (!strcmp(k, "weight")) s->weight = atof(val);
        else if (!strcmp(k, "visitors")) s->visitors = atoi(val), s->visitors_set = 1;
        else if (!strcmp(k, "rate")) s->rate = atof(val), s->rate_set = 1;
        else if (!strcmp(k, "think-ms")) s->think_ms = atof(val), s->think_set = 1;
        else if (!strcmp(k, "max-connections")) s->max_conns = atoi(val), s->max_set = 1;
        else if (!strcmp(k, "fresh")) s->fresh = atoi(val);
        else if (!strcmp(k, "bind")) s->bind_loopback = atoi(val);
        else if (!strcmp(k, "seq-start")) s->seq_start = strtoull(val, NULL, 10);
        else if (!strcmp(k, "seq-count")) s->seq_count = strtoull(val, NULL, 10);
        else die("--script: unknown key '%s'", k);
    }
    free(copy);
    if (!s->file) die("--script needs file=PATH");
}

static void usage(void) {
    fprintf(stderr, "usage: vaxviet-loadgen --port P [--host H] [--duration-s S] [--warmup-s S] "
                    "[--timeout-ms T] [--visitors N] [--rate R] [--think-ms T] [--out FILE] "
                    "--script file=PATH[,name=,weight=,visitors=,rate=,think-ms=,max-connections=,"
                    "fresh=,bind=,seq-start=,seq-count=] ...\n");
    exit(2);
}

/* -- report --------------------------------------------------------------------------------- */

static void report(FILE *f, double measured_s, double wall_s) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    fprintf(f, "{\"duration_s\": %.3f, \"wall_s\": %.3f, \"cpu_s\": %.3f, \"timeout_ms\": %.0f,\n",
            measured_s, wall_s, cpu, g_timeout_ms);
    fprintf(f, " \"errors\": {");
    for (int i = 0; i < MAX_ERRORS && error_names[i]; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_string(f, error_names[i]);
        fprintf(f, ": %llu", (unsigned long long)error_counts[i]);
    }
    fprintf(f, "},\n \"scripts\": [");
    for (int k = 0; k < nscripts; k++) {
        Script *s = &scripts[k];
        uint64_t requests = 0;
        for (int c = 0; c < NCLASS; c++) requests += s->status_class[c];
        fprintf(f, "%s\n  {\"name\": ", k ? "," : "");
        json_string(f, s->name);
        fprintf(f, ", \"file\": ");
        json_string(f, s->file);
        fprintf(f,
                ", \"mode\": \"%s\", \"visitors\": %d, \"offered_views_per_s\": %.3f, \"think_ms\": %.1f, "
                "\"connections_used\": %d, \"connects\": %llu,\n",
                s->rate > 0 ? "open" : "closed", s->visitors, s->rate, s->think_ms, s->nconns,
                (unsigned long long)s->connects);
        fprintf(f,
                "   \"views_started\": %llu, \"views_completed\": %llu, \"views_shed\": %llu, "
                "\"views_failed\": %llu, \"views_cut_at_end\": %llu, \"views_unstarted\": %llu, "
                "\"queue_max\": %zu,\n",
                (unsigned long long)s->views_started, (unsigned long long)s->views_completed,
                (unsigned long long)s->views_shed, (unsigned long long)s->views_failed,
                (unsigned long long)s->views_cut, (unsigned long long)s->views_unstarted, s->qmax);
        fprintf(f,
                "   \"views_completed_by_end\": %llu, \"views_per_s\": %.3f, \"requests\": %llu, "
                "\"requests_by_end\": %llu, \"requests_per_s\": %.3f, \"bytes_in\": %llu,\n",
                (unsigned long long)s->views_by_end, s->views_by_end / measured_s,
                (unsigned long long)requests, (unsigned long long)s->requests_by_end,
                s->requests_by_end / measured_s, (unsigned long long)s->bytes_in);
        fprintf(f, "   \"status_class\": {");
        for (int c = 0; c < NCLASS; c++)
            fprintf(f, "%s\"%s\": %llu", c ? ", " : "", CLASS_NAMES[c], (unsigned long long)s->status_class[c]);
        fprintf(f, "}, \"statuses\": {");
        int first = 1;
        for (int st = 0; st < 600; st++)
            if (s->statuses[st]) {
                fprintf(f, "%s\"%d\": %llu", first ? "" : ", ", st, (unsigned long long)s->statuses[st]);
                first = 0;
            }
        fprintf(f, "},\n   \"retry_after\": {");
        for (int i = 0; i < MAX_RETRY_AFTER && s->retry_after[i]; i++) {
            fprintf(f, "%s", i ? ", " : "");
            json_string(f, s->retry_after[i]);
            fprintf(f, ": %llu", (unsigned long long)s->retry_after_n[i]);
        }
        fprintf(f, "}, \"retry_after_missing\": %llu,\n", (unsigned long long)s->retry_after_missing);
        fprintf(f, "   \"latency_ms\": ");
        print_samples(f, &s->lat);
        fprintf(f, ",\n   \"latency_503_ms\": ");
        print_samples(f, &s->lat503);
        fprintf(f, ",\n   \"dynamic_ok_ms\": ");
        print_samples(f, &s->dynamic_ok);
        fprintf(f, ",\n   \"view_ms\": ");
        print_samples(f, &s->view);
        fprintf(f, ",\n   \"queue_ms\": ");
        print_samples(f, &s->queue_wait);
        fprintf(f, ",\n   \"from_send_ms\": ");
        print_samples(f, &s->from_send);
        fprintf(f, ",\n   \"from_send_503_ms\": ");
        print_samples(f, &s->from_send503);
        fprintf(f, ",\n   \"requests_by_index\": [");
        for (int i = 0; i < s->nreq; i++) {
            Req *r = &s->reqs[i];
            fprintf(f, "%s\n    {\"index\": %d, \"method\": ", i ? "," : "", i);
            json_string(f, r->method);
            fprintf(f, ", \"path\": ");
            json_string(f, r->path);
            fprintf(f, ", \"label\": ");
            json_string(f, r->label);
            fprintf(f, ", \"dynamic\": %s, \"status_class\": {", r->dynamic ? "true" : "false");
            for (int c = 0; c < NCLASS; c++)
                fprintf(f, "%s\"%s\": %llu", c ? ", " : "", CLASS_NAMES[c], (unsigned long long)r->status_class[c]);
            fprintf(f, "}, \"ok_by_end\": %llu, \"latency_ms\": ", (unsigned long long)r->ok_by_end);
            print_samples(f, &r->lat);
            fprintf(f, "}");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
}

/* -- main loop ------------------------------------------------------------------------------ */

static void enqueue(Script *s, double t) {
    if (s->qlen == s->qcap) {
        size_t ncap = s->qcap ? s->qcap * 2 : 1024;
        double *q = xmalloc(ncap * sizeof(double));
        for (size_t i = 0; i < s->qlen; i++) q[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = q;
        s->qhead = 0;
        s->qcap = ncap;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = t;
    s->qlen++;
    if (s->qlen > s->qmax) s->qmax = s->qlen;
}

static void dispatch(Script *s, int k, double now) {
    while (s->qlen) {
        Visitor *v;
        if (s->nidle) v = visitors[s->idle[--s->nidle]];
        else if (s->nconns < s->max_conns) {
            v = new_visitor(k);
        } else return;
        double t = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        begin_view(v, t, now);
    }
}

int main(int argc, char **argv) {
    double duration_s = 10, warmup_s = 0, g_rate = 0, g_think = 0;
    int g_visitors = 0;
    const char *out_path = NULL;
    scripts = xmalloc(sizeof(Script) * (size_t)argc);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val) usage();
        if (!strcmp(a, "--host")) g_host = val;
        else if (!strcmp(a, "--port")) g_port = atoi(val);
        else if (!strcmp(a, "--duration-s")) duration_s = atof(val);
        else if (!strcmp(a, "--warmup-s")) warmup_s = atof(val);
        else if (!strcmp(a, "--timeout-ms")) g_timeout_ms = atof(val);
        else if (!strcmp(a, "--visitors")) g_visitors = atoi(val);
        else if (!strcmp(a, "--rate")) g_rate = atof(val);
        else if (!strcmp(a, "--think-ms")) g_think = atof(val);
        else if (!strcmp(a, "--out")) out_path = val;
        else if (!strcmp(a, "--script")) parse_spec(&scripts[nscripts++], val);
        else usage();
        i++;
    }
    if (!g_port || !nscripts) usage();
    if (inet_pton(AF_INET, g_host, &g_addr.sin_addr) != 1) die("--host must be an IPv4 address");
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons(g_port);

    double shared_weight = 0;
    for (int k = 0; k < nscripts; k++) shared_weight += scripts[k].weight;
    for (int k = 0; k < nscripts; k++) {
        Script *s = &scripts[k];
        load_script(s);
        double share = shared_weight > 0 ? s->weight / shared_weight : 1.0 / nscripts;
        if (!s->visitors_set) s->visitors = (int)lround((g_visitors ? g_visitors : 1) * share);
        if (s->visitors < 1) s->visitors = 1;
        if (!s->rate_set) s->rate = g_rate * share;
        if (!s->think_set) s->think_ms = g_think;
        if (!s->max_set) s->max_conns = s->visitors;
        if (s->max_conns < s->visitors) s->max_conns = s->visitors;
    }

    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    g_start = now_ms();
    g_warm_until = g_start + warmup_s * 1e3;
    g_end = g_start + duration_s * 1e3;

    for (int k = 0; k < nscripts; k++) {
        Script *s = &scripts[k];
        if (s->rate > 0) {
            s->interval = 1e3 / s->rate;
            s->next_arrival = g_start;
            s->idle = xmalloc(s->max_conns * sizeof(int));
            for (int j = 0; j < s->visitors; j++) {
                Visitor *v = new_visitor(k);
                v->state = V_IDLE;
                s->idle[s->nidle++] = v->id;
            }
            /* the first visitors take the first arrivals */
            for (int a = 0, b = s->nidle - 1; a < b; a++, b--) {
                int t = s->idle[a];
                s->idle[a] = s->idle[b];
                s->idle[b] = t;
            }
        } else {
            for (int j = 0; j < s->visitors; j++) {
                Visitor *v = new_visitor(k);
                v->state = V_THINKING;
                /* spread the first views over the first think time (or 10 ms) */
                double spread = s->think_ms > 0 ? s->think_ms : 10;
                v->wake_at = g_start + spread * j / s->visitors;
            }
        }
    }

    struct epoll_event events[512];
    double last_scan = 0;
    int draining = 0;
    double drain_until = g_end + g_timeout_ms + 1000;
    for (;;) {
        double now = now_ms();
        if (now >= g_end) draining = 1;
        int busy = 0;
        for (int k = 0; k < nscripts; k++) {
            Script *s = &scripts[k];
            if (s->rate <= 0) continue;
            while (!draining && s->next_arrival <= now) {
                enqueue(s, s->next_arrival);
                s->next_arrival += s->interval;
            }
            dispatch(s, k, now); /* after the end too: views that arrived in time */
        }
        if (now - last_scan >= 2 || draining) {
            last_scan = now;
            for (int i = 0; i < nvisitors; i++) {
                Visitor *v = visitors[i];
                if (v->state == V_THINKING && !draining && v->wake_at <= now) {
                    begin_view(v, v->wake_at, now);
                } else if (v->in_view && (v->state == V_CONNECTING || v->state == V_SENDING ||
                                          v->state == V_RECEIVING)) {
                    if (now - v->sent > g_timeout_ms) failed(v, now, CTIMEOUT, "timeout");
                    else busy = 1;
                }
            }
        }
        for (int k = 0; k < nscripts; k++) busy |= scripts[k].qlen > 0;
        if (draining && (!busy || now > drain_until)) break;
        int wait = 2;
        for (int k = 0; k < nscripts; k++) {
            Script *s = &scripts[k];
            if (s->rate > 0 && !draining) {
                double d = s->next_arrival - now;
                if (d < wait) wait = d < 0 ? 0 : (int)d;
            }
        }
        int n = epoll_wait(epfd, events, 512, wait);
        now = now_ms();
        for (int e = 0; e < n; e++) {
            Visitor *v = visitors[events[e].data.u32];
            if (v->fd < 0) continue;
            uint32_t ev = events[e].events;
            if (ev & (EPOLLOUT | EPOLLERR)) {
                if (v->state == V_CONNECTING || v->state == V_SENDING) on_writable(v, now);
            }
            if (v->fd >= 0 && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) on_readable(v, now);
        }
    }
    double ended = now_ms();
    for (int k = 0; k < nscripts; k++) scripts[k].views_unstarted += scripts[k].qlen;
    for (int i = 0; i < nvisitors; i++) {
        Visitor *v = visitors[i];
        if (v->in_view && v->state != V_IDLE && v->state != V_THINKING) {
            Script *s = &scripts[v->script];
            if (recording(v->view_intended)) s->views_cut++;
        }
        close_conn(v);
    }
    double measured = duration_s - warmup_s;
    if (measured <= 0) measured = duration_s;
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) die("cannot write %s", out_path);
    report(out, measured, (ended - g_start) / 1e3);
    if (out != stdout) fclose(out);
    return 0;
}
