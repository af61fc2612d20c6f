/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of vfio-sim's control socket and fault injection, without QEMU:
 * a client on the Unix socket VFIO_SIM_CONTROL scripts the mdpy, mbochs
 * and gvt models and injects faults; the raw ABI shows the effect.
 */
#include <libgen.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <libdrm/drm_fourcc.h>

#include "testlib.h"

#define MDPY "11111111-0000-0000-0000-00000000000a"
#define MBOCHS "22222222-0000-0000-0000-00000000000b"
#define GVT "44444444-0000-0000-0000-00000000000d"
#define GVT2 "55555555-0000-0000-0000-00000000000e"
#define GVT3 "66666666-0000-0000-0000-00000000000f"
#define GVT_PARENT "/sys/devices/pci0000:00/0000:00:02.0"

static FILE *sock;
static char reply[4096];

/* one command (and its payload) on the socket; true if the reply is ok */
static bool ctl_payload(const void *payload, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(sock, fmt, ap);
    va_end(ap);
    fputc('\n', sock);
    if (len) {
        fwrite(payload, 1, len, sock);
    }
    fflush(sock);
    if (!fgets(reply, sizeof(reply), sock)) {
        snprintf(reply, sizeof(reply), "(no reply)");
        return false;
    }
    reply[strcspn(reply, "\n")] = 0;
    return !strncmp(reply, "ok", 2);
}

#define ctl(...) ctl_payload(NULL, 0, __VA_ARGS__)

static void connect_control(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    if (strlen(path) >= sizeof(addr.sun_path)) {
        ok(0, "control: the socket path fits sun_path");
        exit(1);
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    ok(s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0,
       "control: the socket accepts a client");
    sock = fdopen(s, "r+");
}

static void test_protocol(void)
{
    ok(ctl("devices") && strstr(reply, MDPY ":mdpy") &&
       strstr(reply, GVT ":gvt"), "control: devices lists uuid:model");
    ok(!ctl("present 99999999-0000-0000-0000-000000000000 width=1") &&
       strstr(reply, "no device"), "control: an unknown uuid is an error");
    ok(!ctl("frobnicate " MDPY) && strstr(reply, "no command"),
       "control: an unknown command is an error");
    ok(!ctl("rect " MDPY " x=1000 y=0 w=100 h=1 pattern=0xff0000"),
       "control: a rect outside the plane is refused");
    ok(!ctl("present " GVT " width=0 height=10"),
       "control: a zero-width frame is refused");
}

static void test_memory(void)
{
    Dev m = open_dev(7, MDPY), b = open_dev(8, MBOCHS);
    struct vfio_device_gfx_plane_info p;
    uint32_t *fb, *vram, words[4] = { 1, 2, 3, 0xdeadbeef };

    fb = mmap(NULL, 4 << 20, PROT_READ, MAP_SHARED, m.fd, PAGE);
    ok(ctl("rect " MDPY " x=10 y=20 w=5 h=3 pattern=0x00ff00") &&
       fb[20 * 1024 + 10] == 0x0000ff00 && fb[22 * 1024 + 14] == 0x0000ff00 &&
       fb[23 * 1024 + 10] != 0x0000ff00,
       "control: rect draws into mdpy's BAR0, inside the rect only");
    ok(ctl("rect " MDPY " x=0 y=0 w=1024 h=768 pattern=xy") &&
       fb[300 * 1024 + 700] == (0xff000000u | (700 & 0xff) << 16 |
                                (300 & 0xff) << 8 | 0x21),
       "control: the xy pattern on mdpy");
    vram = mmap(NULL, 16 << 20, PROT_READ, MAP_SHARED, b.fd, 3 * PAGE);
    ok(vram != MAP_FAILED &&
       ctl_payload(words, sizeof(words),
                   "write " MBOCHS " offset=4096 len=16") &&
       vram[1024 + 3] == 0xdeadbeef, "control: write puts bytes in VRAM");
    ok(!ctl_payload(words, sizeof(words), "write " MBOCHS " offset=%u len=16",
                    16 << 20),
       "control: a write past the memory is refused");
    ok(!ctl("rect " MBOCHS " x=0 y=0 w=1 h=1"),
       "control: no rect before mbochs has a mode");
    ok(ctl("mode " MBOCHS " width=800 height=600") &&
       query_plane(b.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -ENOMEM &&
       query_plane(b.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.width == 800 && p.height == 600 && p.stride == 3200,
       "control: mode sets the DISPI registers mbochs decodes");
    ok(ctl("rect " MBOCHS " x=799 y=599 w=1 h=1 pattern=0x123456") &&
       vram[599 * 800 + 799] == 0x123456, "control: rect into mbochs's mode");
    munmap(fb, 4 << 20);
    munmap(vram, 16 << 20);
    close_dev(&m);
    close_dev(&b);
}

/* the RGB of (x, y) in a PPM file snapshot wrote; false if unreadable */
static bool ppm_pixel(const char *path, uint32_t x, uint32_t y,
                      uint32_t *w, uint32_t *h, uint32_t *rgb)
{
    FILE *f = fopen(path, "r");
    uint8_t px[3] = { 0 };
    bool good;

    good = f && fscanf(f, "P6 %u %u 255", w, h) == 2 && fgetc(f) == '\n' &&
           x < *w && y < *h &&
           fseek(f, ((long)y * *w + x) * 3, SEEK_CUR) == 0 &&
           fread(px, 1, 3, f) == 3;
    if (f) {
        fclose(f);
    }
    *rgb = px[0] << 16 | px[1] << 8 | px[2];
    return good;
}

static void test_snapshot(const char *dir)
{
    uint32_t w = 0, h = 0, rgb, want;
    char ppm[PATH_MAX];
    bool all = true;
    int i;

    snprintf(ppm, sizeof(ppm), "%s/snap.ppm", dir);
    ok(ctl("scanout " MBOCHS) && strstr(reply, "format=0x34325258 ") &&
       strstr(reply, "width=800 height=600 stride=3200 offset=0x0"),
       "control: scanout tells mbochs's mode");
    /* closing mbochs put its VRAM pages: the registers stay, pixels not */
    ok(ctl("snapshot " MBOCHS " path=%s", ppm) &&
       ppm_pixel(ppm, 799, 599, &w, &h, &rgb) && rgb == 0,
       "control: snapshot of mbochs after a close: zeroed VRAM");
    ok(ctl("rect " MBOCHS " x=799 y=599 w=1 h=1 pattern=0x123456") &&
       ctl("snapshot " MBOCHS " path=%s", ppm) &&
       !strcmp(reply, "ok 800x600") &&
       ppm_pixel(ppm, 799, 599, &w, &h, &rgb) && w == 800 && h == 600 &&
       rgb == 0x123456, "control: snapshot of mbochs, a pixel rect drew");
    ok(ctl("present " GVT " format=RGB565 width=600 height=300 modifier=y "
           "pattern=xy") && ctl("scanout " GVT) &&
       strstr(reply, "format=0x36314752 ") &&
       strstr(reply, "modifier=0x100000000000002 "),
       "control: scanout tells gvt's Y-tiled RGB565 frame");
    ok(ctl("snapshot " GVT " path=%s", ppm), "control: snapshot of gvt");
    for (i = 0; i < 40; i++) {
        uint32_t x = (i * 97) % 600, y = (i * 61) % 300;

        want = xy(x, y);
        if (!ppm_pixel(ppm, x, y, &w, &h, &rgb) ||
            (rgb & 0xf8fcf8) != (want & 0xf8fcf8)) {
            all = false;
        }
    }
    ok(all && w == 600 && h == 300,
       "control: snapshot detiles and decodes RGB565 (40 pixels)");
    ok(!ctl("snapshot " GVT " path=/nonexistent/dir/x.ppm") &&
       strstr(reply, "No such file"), "control: snapshot reports errors");
    ok(!ctl("snapshot " GVT) && strstr(reply, "path="),
       "control: snapshot needs path=");
}

static void test_faults(void)
{
    Dev g = open_dev(10, GVT), g2 = open_dev(11, GVT2);
    struct vfio_device_gfx_plane_info p;
    uint32_t id;

    ok(query_plane(g2.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -EINTR && query_plane(g2.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY,
                             &p) == 0,
       "fault: from the config file, EINTR once, then the real answer");
    ctl("present " GVT " width=640 height=480 pattern=xy");
    ok(ctl("fault " GVT " query:EIO:2") &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY,
                   &p) == -EIO &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY,
                   &p) == -EIO &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.width == 640, "fault: query:EIO:2 fails two queries");
    ok(ctl("fault " GVT " query/cursor:ENODEV:1") &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_CURSOR, &p) ==
       -ENODEV && p.drm_format == 0 && p.width == 0 && p.dmabuf_id == 0 &&
       p.x_hot == 0, "fault: ENODEV on the cursor only, out-fields zeroed");
    query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p);
    id = p.dmabuf_id;
    ok(ctl("fault " GVT " get:EINVAL:1") &&
       call(g.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id) == -EINVAL,
       "fault: get:EINVAL:1 fails a GET");
    ok(call(g.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id) >= 0,
       "fault: the next GET works");
    ok(ctl("fault " GVT " probe:EINVAL:1") &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
                   0, &p) == -EINVAL, "fault: probe:EINVAL:1 fails a probe");
    ok(ctl("hostile " GVT " primary:stride=16:1") &&
       ctl("hostile " GVT " primary:size=0xffffffff:1") &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 16 && p.size == 0xffffffffu && p.width == 640,
       "hostile: two fields overwritten in one answer");
    ok(query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 2560 && p.size == 2560 * 480,
       "hostile: count 1 is used up");
    ok(ctl("hostile " GVT " primary:drm_format=0x34325258") &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == 0x34325258, "hostile: no count means every time");
    ok(ctl("clear " GVT) &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_XRGB8888, "fault: clear removes them all");
    ok(!ctl("fault " GVT " get/primary:EIO") &&
       !ctl("fault " GVT " query:EWHAT") &&
       !ctl("hostile " GVT " primary:colour=1"),
       "fault: malformed specs are refused");
    ok(ctl("counter " GVT " faults-injected") && !strcmp(reply, "ok 5"),
       "fault: counted (faults-injected)");
    ok(ctl("counters " GVT) && strstr(reply, "hostile-injected=3"),
       "fault: counters lists hostile-injected");
    close_dev(&g);
    close_dev(&g2);
}

typedef struct Blocked {
    int fd, ret;
    struct vfio_device_gfx_plane_info p;
} Blocked;

static void *blocked_query(void *opaque)
{
    Blocked *b = opaque;

    b->ret = query_plane(b->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY,
                         &b->p);
    return NULL;
}

/* the number in an "ok N" reply */
static unsigned reply_number(void)
{
    return strtoul(reply + 2, NULL, 10);
}

static void test_stalls(void)
{
    Dev g = open_dev(12, GVT3);
    struct vfio_device_gfx_plane_info p;
    struct vfio_device_info info = { .argsz = sizeof(info) };
    Blocked b = { .fd = g.fd };
    pthread_t t;
    double t0;
    int i;

    ctl("present " GVT3 " width=640 height=480 pattern=xy");
    t0 = now_s();
    ok(query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_CURSOR, &p) == 0 &&
       now_s() - t0 >= 0.05, "stall: from the config file, 50 ms once");
    t0 = now_s();
    ok(ctl("stall " GVT3 " query/primary:200:1") &&
       query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.width == 640 && now_s() - t0 >= 0.2,
       "stall: query/primary:200:1 answers after 200 ms");
    t0 = now_s();
    ok(query_plane(g.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       now_s() - t0 < 0.1, "stall: count 1 is used up");
    ok(ctl("stall " GVT3 " query:hang:1") &&
       !pthread_create(&t, NULL, blocked_query, &b),
       "stall: a query hangs on another thread");
    for (i = 0; i < 200 && (!ctl("hung " GVT3) || reply_number() != 1); i++) {
        usleep(5000);
    }
    ok(reply_number() == 1, "stall: control counts it hung");
    t0 = now_s();
    ok(call(g.fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
       ctl("counter " GVT3 " stalls-hung") && reply_number() == 1 &&
       now_s() - t0 < 0.1, "stall: meanwhile other calls and control go on");
    close_dev(&g);
    ok(ctl("unplug " GVT3) && !strcmp(reply, "ok pending"),
       "stall: with its fds closed, the hung call still holds the device");
    ok(ctl("release " GVT3) && reply_number() == 1,
       "stall: release lets the hung call return");
    pthread_join(t, NULL);
    ok(b.ret == 0 && b.p.width == 640,
       "stall: the released call answers as the device was");
    ok(ctl("devices") && strstr(reply, GVT3 ":gvt:removed"),
       "stall: the device goes when the call returns");
    ok(!ctl("stall " GVT " get/primary:10") &&
       !ctl("stall " GVT " query:soon") && !ctl("stall " GVT " rw/99:1") &&
       !ctl("stall " GVT " query:-1"), "stall: malformed specs are refused");
    ok(ctl("stall " GVT " rw/10:hang") && ctl("clear " GVT) &&
       ctl("hung " GVT) && reply_number() == 0,
       "stall: clear removes the stalls");
}

static void test_unplug(void)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    Dev g = open_dev(11, GVT2);
    struct stat st;

    ok(ctl("unplug " GVT2) && !strcmp(reply, "ok pending"),
       "unplug: with the device open, removal waits");
    ok(call(g.fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
       stat("/sys/bus/mdev/devices/" GVT2, &st) == 0,
       "unplug: meanwhile the device works and is in sysfs");
    close_dev(&g);
    ok(stat("/sys/bus/mdev/devices/" GVT2, &st) < 0 && errno == ENOENT,
       "unplug: the last close removes it from sysfs");
    ok(open("/dev/vfio/11", O_RDWR) < 0 && errno == ENOENT,
       "unplug: its group is gone");
    ok(lstat(GVT_PARENT "/" GVT2, &st) < 0 &&
       lstat(GVT_PARENT "/mdev_supported_types/i915-GVTg_V5_4/devices/"
             GVT2, &st) < 0 &&
       lstat("/sys/bus/mdev/drivers/intel_vgpu_mdev/" GVT2, &st) < 0 &&
       lstat("/sys/class/vfio-dev/vfio3", &st) < 0 &&
       lstat("/sys/kernel/iommu_groups/11", &st) < 0,
       "unplug: its directory, its links and its IOMMU group are gone");
    ok(stat(GVT_PARENT "/" GVT "/mdev_type/available_instances", &st) == 0 &&
       stat("/sys/bus/mdev/devices/" GVT "/iommu_group/devices/" GVT,
            &st) == 0,
       "unplug: the other vGPU of the parent stays");
    ok(ctl("devices") && strstr(reply, GVT2 ":gvt:removed"),
       "unplug: control lists it as removed");
}

int main(void)
{
    char path[PATH_MAX];
    Dev d;

    sim_setup(MDPY " mdpy type=xga group=7\n"
              MBOCHS " mbochs type=medium group=8\n"
              GVT " gvt group=10\n"
              GVT2 " gvt group=11 fault=query:EINTR:1\n"
              GVT3 " gvt group=12 stall=query/cursor:50:1\n", path,
              sizeof(path));
    d = open_dev(7, MDPY);        /* the simulator starts on first use */
    close_dev(&d);
    connect_control(path);
    test_protocol();
    test_memory();
    test_snapshot(dirname(path));
    test_faults();
    test_stalls();
    test_unplug();
    return done_testing();
}
