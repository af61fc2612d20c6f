/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw-ABI tests of vfio-sim's nvidia model, without QEMU: each rule of the
 * 460.73.01 nvidia-vgpu-vfio.c the model follows (and each guess it makes,
 * marked so), one TAP line each, the console mode set through the control
 * call as the vGPU plugin would.
 */
#include <sys/mman.h>
#include <libdrm/drm_fourcc.h>

#include <pthread.h>

#include "testlib.h"

#define NV "55555555-0000-0000-0000-00000000000e"
#define CONSOLE 9                           /* VFIO_PCI_NUM_REGIONS */
#define VGPU_ID 7
#define REGION(i) ((uint64_t)(i) << 40 | (uint64_t)VGPU_ID << 44)

static void test_device(Dev *d)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct vfio_irq_info irq = { .argsz = sizeof(irq) };
    struct vfio_region_info r;
    uint8_t cfg[4];

    irq.index = VFIO_PCI_INTX_IRQ_INDEX;
    ok(call(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == -EINVAL,
       "nvidia: GET_IRQ_INFO before GET_INFO is EINVAL (num_irqs 0)");
    ok(call(d->fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
       info.flags == (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET) &&
       info.num_regions == 9 && info.num_irqs == 5,
       "nvidia: GET_INFO: PCI|RESET, 9 regions (REGIONS_MAX), 5 irqs");
    irq.index = VFIO_PCI_MSI_IRQ_INDEX;
    ok(call(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0 && irq.count == 1 &&
       irq.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE),
       "nvidia: MSI: one vector, EVENTFD|NORESIZE");
    memset(&irq, 0xa5, sizeof(irq));
    irq.argsz = sizeof(irq);
    irq.index = VFIO_PCI_ERR_IRQ_INDEX;
    ok(call(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0 &&
       irq.flags == 0xa5a5a5a5 && irq.count == 0xa5a5a5a5,
       "nvidia: ERR irq info: 0 with the caller's struct echoed");
    memset(&r, 0xa5, sizeof(r));
    r.argsz = sizeof(r);
    r.index = CONSOLE;
    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &r) == 0 &&
       r.size == 16u << 20 && r.offset == REGION(CONSOLE) &&
       r.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                   VFIO_REGION_INFO_FLAG_MMAP),
       "nvidia: the console region at index num_regions: 16 MiB, R|W|MMAP, "
       "the vGPU id in the offset");
    ok(!(r.flags & VFIO_REGION_INFO_FLAG_CAPS) && r.cap_offset == 0xa5a5a5a5,
       "nvidia: the console region has no type capability (cap_offset "
       "echoed)");
    memset(&r, 0xa5, sizeof(r));
    r.argsz = sizeof(r);
    r.index = 12;
    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &r) == 0 &&
       r.size == 0xa5a5a5a5a5a5a5a5ull && r.flags == 0xa5a5a5a5,
       "nvidia: a region past the console: 0, the caller's struct echoed");
    r.argsz = 8;
    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &r) == -EINVAL,
       "nvidia: GET_REGION_INFO with argsz < minsz is EINVAL");
    memset(&r, 0, sizeof(r));
    r.argsz = sizeof(r);
    r.index = VFIO_PCI_CONFIG_REGION_INDEX;
    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &r) == 0 && r.size == 4096 &&
       pread(d->fd, cfg, 4, r.offset) == 4 && cfg[0] == 0xde &&
       cfg[1] == 0x10, "nvidia: 4 KiB config space, vendor 10de");
    ok(pread(d->fd, cfg, 4, REGION(CONSOLE)) < 0 && errno == EFAULT,
       "nvidia: the console region cannot be read (access: EINVAL -> "
       "EFAULT)");
    ok(call(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &(uint32_t){ 1 }) == -EINVAL,
       "nvidia: GET_GFX_DMABUF is EINVAL (no case: ret = -EINVAL)");
    ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d->fd, REGION(0)) ==
       MAP_FAILED && errno == EINVAL,
       "nvidia: mmap of BAR0 without sparse areas is EINVAL");
}

static void test_planes(Dev *d)
{
    struct vfio_device_gfx_plane_info p;
    uint8_t *m, *m2;

    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_PROBE |
                   VFIO_GFX_PLANE_TYPE_REGION, 0, &p) == 0,
       "nvidia: PROBE|REGION is 0");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_PROBE |
                   VFIO_GFX_PLANE_TYPE_DMABUF, 0, &p) == -EINVAL,
       "nvidia: PROBE|DMABUF is EINVAL (no REGION flag)");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -EINVAL, "nvidia: a DMABUF query is EINVAL");
    ok(query_plane(d->fd, 0, PLANE_PRIMARY, &p) == -EINVAL,
       "nvidia: a query with no flags is EINVAL");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) ==
       -EIO, "nvidia: no console mode yet: EIO (guess)");
    ok(sim_ctl("mode " NV " width=640 height=480 depth=24 pattern=xy") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_RGB888 && p.width == 640 &&
       p.height == 480 && p.stride == 1920 && p.size == 1920 * 480 &&
       p.region_index == CONSOLE,
       "nvidia: depth 24 is RGB888, stride = width * 3 = 1920");
    ok(p.drm_format_mod == 0xa5a5a5a5a5a5a5a5ull && p.x_hot == 0xa5a5a5a5 &&
       p.x_pos == 0xa5a5a5a5,
       "nvidia: the fields it does not set come back as the caller sent");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION | VFIO_GFX_PLANE_TYPE_DMABUF,
                   PLANE_PRIMARY, &p) == 0 && p.region_index == CONSOLE,
       "nvidia: REGION|DMABUF answers the region plane");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_CURSOR, &p) == 0 &&
       p.width == 640 && p.drm_format == DRM_FORMAT_RGB888,
       "nvidia: a CURSOR query answers the console (plane type not looked "
       "at)");
    m = mmap(NULL, 16u << 20, PROT_READ, MAP_SHARED, d->fd, REGION(CONSOLE));
    ok(m != MAP_FAILED && m[(5 * 1920 + 300 * 3) + 2] == 300 % 256 &&
       m[5 * 1920 + 300 * 3 + 1] == 5 && m[5 * 1920 + 300 * 3] == 0x10,
       "nvidia: the console maps whole; RGB888 bytes B G R, stride 1920");
    m2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d->fd,
              REGION(CONSOLE) + 2 * PAGE);
    ok(m2 != MAP_FAILED && m != MAP_FAILED && !memcmp(m, m2, PAGE),
       "nvidia: a console mmap at an offset still maps its first page "
       "(remap_vmalloc_range(.., 0))");
    if (m2 != MAP_FAILED) {
        munmap(m2, PAGE);
    }
    ok(mmap(NULL, (16u << 20) + PAGE, PROT_READ, MAP_SHARED, d->fd,
            REGION(CONSOLE)) == MAP_FAILED && errno == EINVAL,
       "nvidia: a console mmap longer than the surface is EINVAL");
    ok(sim_ctl("mode " NV " width=641 height=480 depth=24") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 1923, "nvidia: RGB888 641 wide: stride 1923, not 4-aligned");
    ok(sim_ctl("mode " NV " width=641 height=480 depth=16") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_RGB565 && p.stride == 1282,
       "nvidia: depth 16 is RGB565, 641 wide: stride 1282");
    ok(sim_ctl("mode " NV " width=800 height=600 depth=8 "
               "pattern=0xffe0c0ff") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_C8 && p.stride == 800 && m != MAP_FAILED &&
       m[0] == 0xfb, "nvidia: depth 8 is C8, stride = width");
    ok(sim_ctl("mode " NV " width=1024 height=768 depth=32") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_XRGB8888 && p.stride == 4096,
       "nvidia: depth 32 is XRGB8888, stride = width * 4");
    ok(sim_ctl("mode " NV " width=641 height=480 depth=15") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_XRGB8888 && p.stride == 641 * 15 / 8,
       "nvidia: any other depth is XRGB8888 with stride depth * width / 8");
    ok(sim_ctl("mode " NV " width=100 height=100 depth=32 size=12345") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.size == 12345, "nvidia: size is the plugin's, reported as sent");
    ok(sim_ctl("mode " NV " width=320 height=200 depth=32 pitch=1536 "
           "pattern=xy") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 1280 && m != MAP_FAILED &&
       *(uint32_t *)(m + 7 * 1536 + 9 * 4) == xy(9, 7),
       "nvidia: a plugin lineSize unlike depth * width / 8 is not reported");
    ok(sim_ctl("mode " NV " width=4096 height=4096 depth=32") < 0,
       "nvidia: control refuses a mode larger than the surface");
    ok(call(d->fd, VFIO_DEVICE_RESET, NULL) == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) ==
       -EIO, "nvidia: after RESET no console mode until the guest sets one "
       "(guess)");
    if (m != MAP_FAILED) {
        munmap(m, 16u << 20);
    }
}

typedef struct Waiter {
    int fd;
    long ret;
    struct vfio_device_gfx_plane_info p;
} Waiter;

static void *waiting_query(void *opaque)
{
    Waiter *w = opaque;

    memset(&w->p, 0, sizeof(w->p));
    w->p.argsz = sizeof(w->p);
    w->p.flags = VFIO_GFX_PLANE_TYPE_REGION;
    w->p.drm_plane_type = PLANE_PRIMARY;
    w->p.drm_format_mod = 0x1234;       /* echoed, or left alone */
    w->p.width = 77;
    w->ret = call(w->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &w->p);
    return NULL;
}

/* nvidia-vgpu-mgr slow or hung: 8 s, -ETIMEDOUT, under ops_lock */
static void test_manager(Dev *d)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    Waiter w = { .fd = d->fd };
    pthread_t t;
    double t0 = now_s();

    sim_ctl("mode " NV " width=640 height=480 depth=32");
    ok(sim_ctl("manager " NV " answer=300") == 0 &&
       !pthread_create(&t, NULL, waiting_query, &w) &&
       !pthread_join(t, NULL) && w.ret == 0 && w.p.width == 640 &&
       now_s() - t0 >= 0.3, "nvidia: a slow manager: the query answers late");
    t0 = now_s();
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_PROBE |
                   VFIO_GFX_PLANE_TYPE_REGION, 0, &w.p) == 0 &&
       now_s() - t0 < 0.2, "nvidia: a probe does not wait for the manager");
    ok(sim_ctl("manager " NV " answer=never") == 0 &&
       !pthread_create(&t, NULL, waiting_query, &w),
       "nvidia: a hung manager: a query waits");
    usleep(200000);
    t0 = now_s();
    ok(call(d->fd, VFIO_DEVICE_GET_INFO, &info) == 0 && now_s() - t0 > 6,
       "nvidia: another ioctl waits behind it (ops_lock)");
    pthread_join(t, NULL);
    ok(w.ret == -ETIMEDOUT && w.p.width == 77 && w.p.drm_format_mod == 0x1234,
       "nvidia: after 8 s -ETIMEDOUT, the caller's struct untouched");
    ok(sim_ctl("manager " NV " answer=now") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY,
                   &w.p) == 0 && w.p.width == 640,
       "nvidia: the manager answers again");
}

int main(void)
{
    Dev d;

    sim_setup(NV " nvidia group=11 vgpu-id=7\n", NULL, 0);
    d = open_dev(11, NV);
    ok(d.fd >= 0, "nvidia: device fd");
    /* the type's name, description and count: guesses (README) */
    check_sysfs(&(SysfsWant){
        "nvidia", NV, 11, "devices/pci0000:00/0000:00:01.0/0000:01:00.0",
        "nvidia-222", "nvidia-vgpu-vfio", "nvidia/vgpu_params", "\n",
        "GRID T4-1Q\n", "num_heads=4, frl_config=60, framebuffer=1024M, "
        "max_resolution=5120x2880, max_instance=16\n", "15\n" });
    test_device(&d);
    test_planes(&d);
    test_manager(&d);
    close_dev(&d);
    return done_testing();
}
