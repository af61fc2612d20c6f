/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim control: what tests and benchmarks use to script the simulated
 * devices without a guest OS.  A line protocol on the Unix socket named by
 * VFIO_SIM_CONTROL (served by a thread of the process the simulator is
 * preloaded into), or vfio_sim_control() in that process; the commands are
 * listed in the README.  Every command runs under the simulator's lock, so
 * it is atomic with respect to the device's ioctls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim.h"

#define CONTROL_LINE 4096
#define CONTROL_MAX_WRITE (64u << 20)

const char *sim_arg(const SimArgs *args, const char *key, const char *dflt)
{
    int i;

    for (i = 0; i < args->n; i++) {
        if (!strcmp(args->opt[i].key, key)) {
            return args->opt[i].value;
        }
    }
    return dflt;
}

bool sim_arg_u64(const SimArgs *args, const char *key, uint64_t *v)
{
    const char *s = sim_arg(args, key, NULL);
    unsigned long long n;
    char *end;

    if (!s || !*s || *s == '-') {
        return false;
    }
    errno = 0;
    n = strtoull(s, &end, 0);
    if (*end || errno) {
        return false;
    }
    *v = n;
    return true;
}

static int parse_args(char *rest, SimArgs *a, char *reply, size_t len)
{
    char *tok, *save = NULL, *eq;

    a->n = 0;
    for (tok = strtok_r(rest, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        eq = strchr(tok, '=');
        if (!eq || a->n == SIM_MAX_OPTS) {
            snprintf(reply, len, "'%s': expected key=value", tok);
            return -EINVAL;
        }
        *eq = 0;
        snprintf(a->opt[a->n].key, sizeof(a->opt[0].key), "%s", tok);
        snprintf(a->opt[a->n].value, sizeof(a->opt[0].value), "%s", eq + 1);
        a->n++;
    }
    return 0;
}

/* write offset=N len=N, then len bytes: into the device's memory */
static int cmd_write(SimDevice *dev, const SimArgs *a, const void *payload,
                     size_t paylen, char *reply, size_t len)
{
    uint64_t off, n, size;
    int fd;

    if (!dev->ops->memory || dev->ops->memory(dev, &fd, &size) < 0) {
        snprintf(reply, len, "%s has no memory to write", dev->ops->name);
        return -EINVAL;
    }
    if (!sim_arg_u64(a, "offset", &off) || !sim_arg_u64(a, "len", &n) ||
        n != paylen || off > size || n > size - off) {
        snprintf(reply, len, "offset and len must lie inside %llu bytes",
                 (unsigned long long)size);
        return -EINVAL;
    }
    if (pwrite(fd, payload, n, off) != (ssize_t)n) {
        snprintf(reply, len, "write: %s", strerror(errno));
        return -EIO;
    }
    return 0;
}

/* rect x= y= w= h= pattern=: into the primary plane now scanned out */
static int cmd_rect(SimDevice *dev, const SimArgs *a, char *reply, size_t len)
{
    uint64_t x, y, w, h;
    SimScanout sc;

    if (!dev->ops->scanout || dev->ops->scanout(dev, &sc) < 0) {
        snprintf(reply, len, "no primary plane is scanned out");
        return -ENODEV;
    }
    if (!sim_arg_u64(a, "x", &x) || !sim_arg_u64(a, "y", &y) ||
        !sim_arg_u64(a, "w", &w) || !sim_arg_u64(a, "h", &h) ||
        x > UINT32_MAX || y > UINT32_MAX || w > UINT32_MAX ||
        h > UINT32_MAX ||
        sim_draw(&sc, x, y, w, h, sim_arg(a, "pattern", "0xffffffff")) < 0) {
        snprintf(reply, len, "rect must lie inside the %ux%u plane, with "
                 "pattern=xy or a colour", sc.width, sc.height);
        return -EINVAL;
    }
    snprintf(reply, len, "%ux%u", sc.width, sc.height);
    return 0;
}

/* scanout: the primary plane the device scans out now, as the guest set it */
static int cmd_scanout(SimDevice *dev, char *reply, size_t len)
{
    SimScanout sc;

    if (!dev->ops->scanout || dev->ops->scanout(dev, &sc) < 0) {
        snprintf(reply, len, "no primary plane is scanned out");
        return -ENODEV;
    }
    snprintf(reply, len, "format=0x%08x modifier=0x%" PRIx64 " width=%u "
             "height=%u stride=%u offset=0x%" PRIx64, sc.fourcc, sc.modifier,
             sc.width, sc.height, sc.stride, sc.offset);
    return 0;
}

/* snapshot path=F: the primary plane's pixels into a PPM file */
static int cmd_snapshot(SimDevice *dev, const SimArgs *a, char *reply,
                        size_t len)
{
    const char *path = sim_arg(a, "path", NULL);
    SimScanout sc;
    int ret;

    if (!path || !*path) {
        snprintf(reply, len, "snapshot needs path=");
        return -EINVAL;
    }
    if (!dev->ops->scanout || dev->ops->scanout(dev, &sc) < 0) {
        snprintf(reply, len, "no primary plane is scanned out");
        return -ENODEV;
    }
    ret = sim_snapshot(&sc, path);
    if (ret < 0) {
        snprintf(reply, len, "%s: %s", path, strerror(-ret));
        return ret;
    }
    snprintf(reply, len, "%ux%u", sc.width, sc.height);
    return 0;
}

static int run(char *line, const void *payload, size_t paylen, char *reply,
               size_t len)
{
    char *save = NULL, *cmd = strtok_r(line, " \t\r\n", &save);
    char *uuid = strtok_r(NULL, " \t\r\n", &save);
    char *rest = strtok_r(NULL, "\r\n", &save);
    SimDevice *dev;
    SimArgs a;
    int ret, i;

    reply[0] = 0;
    if (!cmd) {
        snprintf(reply, len, "empty command");
        return -EINVAL;
    }
    if (!strcmp(cmd, "devices")) {
        for (i = 0; i < sim_device_count(); i++) {
            dev = sim_device_at(i);
            snprintf(reply + strlen(reply), len - strlen(reply), "%s%s:%s%s",
                     i ? " " : "", dev->uuid, dev->ops->name,
                     dev->removed ? ":removed" : "");
        }
        return 0;
    }
    dev = sim_device_find(uuid, true);
    if (!dev) {
        snprintf(reply, len, "no device '%s'", uuid ? uuid : "");
        return -ENOENT;
    }
    if (!strcmp(cmd, "counter")) {
        snprintf(reply, len, "%u", sim_counter(dev, rest ? rest : ""));
        return 0;
    }
    if (!strcmp(cmd, "counters")) {
        sim_counters_format(dev, reply, len);
        return 0;
    }
    if (!strcmp(cmd, "fault") || !strcmp(cmd, "hostile")) {
        return sim_fault_add(dev, cmd, rest ? rest : "", reply, len);
    }
    if (!strcmp(cmd, "clear")) {
        sim_fault_clear(dev);
        sim_stall_release(dev, true);
        return 0;
    }
    if (!strcmp(cmd, "stall")) {
        return sim_stall_add(dev, rest ? rest : "", reply, len);
    }
    if (!strcmp(cmd, "release")) {
        snprintf(reply, len, "%u", sim_stall_hung(dev));
        sim_stall_release(dev, false);
        return 0;
    }
    if (!strcmp(cmd, "hung")) {
        snprintf(reply, len, "%u", sim_stall_hung(dev));
        return 0;
    }
    if (!strcmp(cmd, "scanout")) {
        return cmd_scanout(dev, reply, len);
    }
    if (!strcmp(cmd, "unplug")) {
        snprintf(reply, len, "%s", sim_device_unplug(dev) ? "removed" :
                 "pending");
        return 0;
    }
    ret = parse_args(rest ? rest : (char[]){ "" }, &a, reply, len);
    if (ret < 0) {
        return ret;
    }
    if (!strcmp(cmd, "write")) {
        return cmd_write(dev, &a, payload, paylen, reply, len);
    }
    if (!strcmp(cmd, "rect")) {
        return cmd_rect(dev, &a, reply, len);
    }
    if (!strcmp(cmd, "snapshot")) {
        return cmd_snapshot(dev, &a, reply, len);
    }
    ret = dev->ops->control ? dev->ops->control(dev, cmd, &a, reply, len) :
          -ENOENT;
    if (ret == -ENOENT) {
        snprintf(reply, len, "%s has no command '%s'", dev->ops->name, cmd);
    }
    return ret;
}

int sim_control(const char *line, const void *payload, size_t paylen,
                char *reply, size_t len)
{
    char *copy = strdup(line);
    int ret;

    sim_init();
    sim_lock_acquire();
    ret = run(copy, payload, paylen, reply, len);
    sim_lock_release();
    free(copy);
    sim_log("control", "%s -> %d %s", line, ret, reply);
    return ret;
}

/* For tests in the process the simulator is preloaded into */
__attribute__((visibility("default")))
int vfio_sim_control(const char *line, const void *payload, size_t paylen,
                     char *reply, size_t len)
{
    return sim_control(line, payload, paylen, reply, len);
}

/* the payload a write announces, read after its line */
static void *read_payload(FILE *in, const char *line, size_t *n)
{
    const char *p = strstr(line, " len=");
    unsigned long long want;
    void *buf;

    *n = 0;
    if (strncmp(line, "write ", 6) || !p) {
        return NULL;
    }
    want = strtoull(p + 5, NULL, 0);
    if (!want || want > CONTROL_MAX_WRITE) {
        return NULL;
    }
    buf = malloc(want);
    if (fread(buf, 1, want, in) != want) {
        free(buf);
        return NULL;
    }
    *n = want;
    return buf;
}

static void *serve(void *opaque)
{
    int fd = (intptr_t)opaque;
    FILE *in = fdopen(fd, "r");
    char line[CONTROL_LINE], reply[CONTROL_LINE], out[CONTROL_LINE + 16];
    size_t paylen;
    void *payload;
    int ret, n;

    while (in && fgets(line, sizeof(line), in)) {
        payload = read_payload(in, line, &paylen);
        ret = sim_control(line, payload, paylen, reply, sizeof(reply));
        free(payload);
        n = snprintf(out, sizeof(out), "%s%s%s\n", ret < 0 ? "error" : "ok",
                     reply[0] ? " " : "", reply);
        if (write(fd, out, n) != n) {
            break;
        }
    }
    if (in) {
        fclose(in);
    }
    return NULL;
}

static void *listener(void *opaque)
{
    int s = (intptr_t)opaque, c;
    pthread_t t;

    for (;;) {
        c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR) {
                continue;
            }
            return NULL;
        }
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)c)) {
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}

void sim_control_start(void)
{
    const char *path = getenv("VFIO_SIM_CONTROL");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    pthread_t t;
    int s;

    if (!path) {
        return;
    }
    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "vfio-sim: VFIO_SIM_CONTROL=%s: path too long\n",
                path);
        exit(1);
    }
    strcpy(addr.sun_path, path);
    unlink(path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(s, 8) < 0 ||
        pthread_create(&t, NULL, listener, (void *)(intptr_t)s)) {
        fprintf(stderr, "vfio-sim: control socket %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    pthread_detach(t);
    sim_log("control", "listening on %s", path);
}

/*
 * What the host wrote into a GFX EDID region, as a guest driver would
 * read it: the link, the blob's size and validity (header, checksum of
 * the base block) and the preferred mode (the first detailed timing).
 */
void sim_edid_describe(const struct vfio_region_gfx_edid *regs,
                       const uint8_t *blob, char *reply, size_t len)
{
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0 };
    const uint8_t *dtd = blob + 54;
    unsigned w = 0, h = 0, i;
    uint8_t sum = 0;
    bool valid;

    for (i = 0; i < 128; i++) {
        sum += blob[i];
    }
    valid = regs->edid_size >= 128 && !memcmp(blob, header, 8) && !sum;
    if (valid && (dtd[0] || dtd[1])) {
        w = dtd[2] | (dtd[4] >> 4) << 8;
        h = dtd[5] | (dtd[7] >> 4) << 8;
    }
    snprintf(reply, len, "link=%s size=%u valid=%d mode=%ux%u max=%ux%u",
             regs->link_state == VFIO_DEVICE_GFX_LINK_STATE_UP ? "up" :
             "down", regs->edid_size, valid, w, h, regs->max_xres,
             regs->max_yres);
}
