/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vncfeel: the benchmark's VNC client (tests/bench/feel.py), in C so that
 * it is not what limits the frames a second it measures.  RFB 3.8, no
 * authentication, 32-bit true colour, raw encoding (the server's
 * cheapest), one update request always outstanding.  It reads the two
 * markers the desktop guest's animation draws (tests/guest/desktop/
 * anim.c): the frame's colour at 0,0 and the input count's at 16,0, and
 * prints a line each time either changes:
 *   u NS FRAME INPUT        (NS: CLOCK_MONOTONIC, both 24-bit hex)
 * With --events N it then moves the pointer N times, each move once the
 * last one's answer has shown (or after a second), 20 to 80 ms apart:
 *   e NS X Y                (when the PointerEvent went out)
 * and at the end its own cost:
 *   end cpu-ns N bytes N updates N seconds S
 *
 * usage: vncfeel PORT SECONDS [--events N] [--x0 X --y0 Y]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sock;
static uint64_t bytes, updates;
static uint16_t fb_w, fb_h;

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "vncfeel: %s%s%s\n", what, errno ? ": " : "",
            errno ? strerror(errno) : "");
    exit(1);
}

static void get(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = read(sock, p, len);

        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            die(n ? "read" : "the server closed the connection");
        }
        p += n;
        len -= (size_t)n;
        bytes += (uint64_t)n;
    }
}

static void put(const void *buf, size_t len)
{
    if (write(sock, buf, len) != (ssize_t)len) {
        die("write");
    }
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static void request(int incremental)
{
    uint8_t m[10] = { 3, (uint8_t)incremental, 0, 0, 0, 0,
                      (uint8_t)(fb_w >> 8), (uint8_t)fb_w,
                      (uint8_t)(fb_h >> 8), (uint8_t)fb_h };

    put(m, sizeof(m));
}

static void pointer(uint16_t x, uint16_t y)
{
    uint8_t m[6] = { 5, 0, (uint8_t)(x >> 8), (uint8_t)x,
                     (uint8_t)(y >> 8), (uint8_t)y };

    put(m, sizeof(m));
}

static void handshake(void)
{
    uint8_t v[12], n, types[256], r[4], init[24];
    /* 32 bpp, depth 24, little endian, true colour, 8 bits a channel,
     * red at bit 16: a pixel is 0x00RRGGBB in memory order B G R X */
    static const uint8_t pf[20] = {
        0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0
    };
    /* raw, and DesktopSize so a new mode is a rectangle, not an error */
    static const uint8_t enc[12] = { 2, 0, 0, 2, 0, 0, 0, 0,
                                     0xff, 0xff, 0xff, 0x21 };
    uint32_t len;
    char *name;

    get(v, sizeof(v));
    put("RFB 003.008\n", 12);
    get(&n, 1);
    if (!n) {
        die("the server refused the connection");
    }
    get(types, n);
    if (!memchr(types, 1, n)) {
        die("the server wants authentication");
    }
    put("\1", 1);
    get(r, 4);
    if (be32(r)) {
        die("security handshake failed");
    }
    put("\1", 1);                       /* shared */
    get(init, 24);
    fb_w = be16(init);
    fb_h = be16(init + 2);
    len = be32(init + 20);
    name = malloc(len + 1);
    get(name, len);
    free(name);
    put(pf, sizeof(pf));
    put(enc, sizeof(enc));
    request(0);
}

/* the marker pixel at @x,@y of a raw rectangle, if it holds it */
static void marker(const uint8_t *px, uint16_t rx, uint16_t ry, uint16_t rw,
                   uint16_t rh, int x, int y, uint32_t *out)
{
    if (x >= rx && x < rx + rw && y >= ry && y < ry + rh) {
        const uint8_t *p = px + ((size_t)(y - ry) * rw + (x - rx)) * 4;

        *out = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    }
}

static uint32_t frame_mark = 0xffffffff, input_mark = 0xffffffff;

/* one server message; a line if it changed a marker */
static void message(void)
{
    static uint8_t *px;
    static size_t px_size;
    uint8_t type, h[3], r[12];
    uint32_t f = frame_mark, in = input_mark;
    int i, nrects;

    get(&type, 1);
    switch (type) {
    case 0:
        get(h, 3);
        nrects = be16(h + 1);
        for (i = 0; i < nrects; i++) {
            uint16_t x, y, w, hh;
            int32_t e;
            size_t size;

            get(r, 12);
            x = be16(r);
            y = be16(r + 2);
            w = be16(r + 4);
            hh = be16(r + 6);
            e = (int32_t)be32(r + 8);
            if (e == -223) {            /* DesktopSize */
                fb_w = w;
                fb_h = hh;
                continue;
            }
            if (e != 0) {
                die("an encoding not asked for");
            }
            size = (size_t)w * hh * 4;
            if (size > px_size) {
                px = realloc(px, size);
                px_size = size;
            }
            get(px, size);
            marker(px, x, y, w, hh, 8, 8, &f);
            marker(px, x, y, w, hh, 24, 8, &in);
        }
        updates++;
        request(1);
        break;
    case 1:                             /* SetColourMapEntries */
        get(r, 5);
        for (i = be16(r + 3); i > 0; i--) {
            get(r, 6);
        }
        break;
    case 2:                             /* Bell */
        break;
    case 3: {                           /* ServerCutText */
        uint8_t t[7];
        uint32_t n;
        char c;

        get(t, 7);
        for (n = be32(t + 3); n > 0; n--) {
            get(&c, 1);
        }
        break;
    }
    default:
        die("an unknown server message");
    }
    if (f != frame_mark || in != input_mark) {
        printf("u %llu %06x %06x\n", (unsigned long long)now_ns(), f, in);
        frame_mark = f;
        input_mark = in;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int port, events = 0, sent = 0, awaiting = 0, one = 1, i;
    double seconds;
    uint16_t x0 = 200, y0 = 200;
    uint64_t t0, end, next = 0, sent_at = 0;
    uint32_t input_before = 0;
    struct rusage ru;

    if (argc < 3) {
        fprintf(stderr, "usage: vncfeel PORT SECONDS [--events N] "
                "[--x0 X --y0 Y]\n");
        return 2;
    }
    port = atoi(argv[1]);
    seconds = atof(argv[2]);
    for (i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--events")) {
            events = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--x0")) {
            x0 = (uint16_t)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--y0")) {
            y0 = (uint16_t)atoi(argv[i + 1]);
        }
    }
    sock = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof(a)) < 0) {
        die("connect");
    }
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    handshake();
    srandom(1);
    t0 = now_ns();
    end = t0 + (uint64_t)(seconds * 1e9);
    /* the first second: frames only, the markers settle */
    next = events ? t0 + 1000000000ull : 0;
    for (;;) {
        uint64_t t = now_ns();
        struct pollfd p = { .fd = sock, .events = POLLIN };

        if (t >= end && (!events || (sent >= events && !awaiting))) {
            break;
        }
        if (awaiting && (input_mark != input_before ||
                         t - sent_at > 1000000000ull)) {
            /* answered (or lost, after a second): the next move 20 to
             * 80 ms later, off the refresh's beat */
            awaiting = 0;
            next = t + 20000000ull + (uint64_t)(random() % 61) * 1000000ull;
        }
        if (events && sent < events) {
            if (!awaiting && t >= next) {
                uint16_t x = (uint16_t)(x0 + (sent % 2) * 40);

                input_before = input_mark;
                pointer(x, y0);
                sent_at = now_ns();
                printf("e %llu %u %u\n", (unsigned long long)sent_at, x, y0);
                sent++;
                awaiting = 1;
            }
        }
        if (poll(&p, 1, 10) > 0) {
            message();
        }
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("end cpu-ns %llu bytes %llu updates %llu seconds %.3f\n",
           (unsigned long long)(ru.ru_utime.tv_sec * 1000000000ull +
                                ru.ru_utime.tv_usec * 1000ull +
                                ru.ru_stime.tv_sec * 1000000000ull +
                                ru.ru_stime.tv_usec * 1000ull),
           (unsigned long long)bytes, (unsigned long long)updates,
           (now_ns() - t0) / 1e9);
    return 0;
}
