/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw-ABI tests of vfio-sim's gvt model, without QEMU: each rule of Linux
 * 6.1's kvmgt.c, dmabuf.c and fb_decoder.c the model follows, one TAP
 * line each, with the display registers set through the control call.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <libdrm/drm_fourcc.h>

#include "testlib.h"

#define GVT "44444444-0000-0000-0000-00000000000d"
#define SLICE (64u << 20)                   /* the host's low GM before */
#define LOW_GM (128u << 20)                 /* GVTg_V5_4 */
#define BAR2 ((uint64_t)VFIO_PCI_BAR2_REGION_INDEX << 40)

/* byte (xb, y) of an Intel tiled surface (PRM: X 512x8, Y 16x32 columns) */
static uint64_t tiled(int mod, uint32_t stride, uint32_t xb, uint32_t y)
{
    if (mod == 'x') {
        return (((uint64_t)(y >> 3) * (stride >> 9) + (xb >> 9)) << 12) |
               ((y & 7) << 9) | (xb & 511);
    }
    return (((uint64_t)(y >> 5) * (stride >> 7) + (xb >> 7)) << 12) |
           (((xb & 127) >> 4) << 9) | ((y & 31) << 4) | (xb & 15);
}

/*
 * byte (xb, y) of a Yf surface as README "Yf layout" writes it down (IGT's
 * yf_ptr bit order), computed here independently of pixels.c
 */
static uint64_t yf(uint32_t stride, uint32_t xb, uint32_t y)
{
    static const struct {
        char axis;
        int bit;
    } order[12] = {
        { 'x', 0 }, { 'x', 1 }, { 'x', 2 }, { 'x', 3 }, { 'y', 0 },
        { 'y', 1 }, { 'y', 2 }, { 'x', 4 }, { 'y', 3 }, { 'x', 5 },
        { 'y', 4 }, { 'x', 6 },
    };
    uint64_t off = 0;
    int i;

    for (i = 0; i < 12; i++) {
        off |= (uint64_t)(((order[i].axis == 'x' ? xb : y) >>
                           order[i].bit) & 1) << i;
    }
    return off + ((uint64_t)(y / 32) * (stride / 128) + xb / 128) * 4096;
}

static uint64_t gma_of(void)
{
    const char *p = strstr(sim_reply, "gma=");

    return p ? strtoull(p + 4, NULL, 0) : 0;
}

static void test_device(Dev *d)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct vfio_irq_info irq = { .argsz = sizeof(irq) };
    struct {
        struct vfio_region_info r;
        struct vfio_region_info_cap_sparse_mmap s;
        struct vfio_region_sparse_mmap_area a;
    } bar2 = { .r = { .argsz = sizeof(bar2), .index = 2 } };
    struct vfio_region_info small = { .argsz = sizeof(small), .index = 2 };
    uint8_t cfg[16];
    void *m;

    ok(d->fd >= 0, "gvt: device fd");
    ok(call(d->fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
       info.flags == (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET) &&
       info.num_regions == 11 && info.num_irqs == 5,
       "gvt: GET_INFO: PCI|RESET, 9 + 2 regions, 5 irqs");
    ok(pread(d->fd, cfg, 16, (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) ==
       16 && cfg[0] == 0x86 && cfg[1] == 0x80 &&
       cfg[11] == 0x03 && cfg[10] == 0x00, "gvt: config 8086:xxxx, VGA class");
    irq.index = VFIO_PCI_MSI_IRQ_INDEX;
    ok(call(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0 && irq.count == 1 &&
       (irq.flags & VFIO_IRQ_INFO_NORESIZE), "gvt: one MSI, NORESIZE");
    irq.index = VFIO_PCI_REQ_IRQ_INDEX;
    ok(call(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == -EINVAL,
       "gvt: GET_IRQ_INFO for REQ is EINVAL");
    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &small) == 0 &&
       (small.flags & VFIO_REGION_INFO_FLAG_CAPS) && !small.cap_offset &&
       small.argsz > sizeof(small),
       "gvt: BAR2 info with a short argsz asks for more, cap_offset 0");
    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &bar2) == 0 &&
       bar2.r.size == 256u << 20 && bar2.r.cap_offset == sizeof(bar2.r) &&
       bar2.s.header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
       bar2.s.nr_areas == 1 && bar2.a.offset == SLICE &&
       bar2.a.size == LOW_GM,
       "gvt: BAR2 256 MiB, sparse mmap area = the vGPU's aperture slice");
    ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d->fd, BAR2) == MAP_FAILED &&
       errno == EINVAL, "gvt: mmap of BAR2 below the slice is EINVAL");
    ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d->fd, 0) == MAP_FAILED &&
       errno == EINVAL, "gvt: mmap of BAR0 is EINVAL");
    m = mmap(NULL, LOW_GM, PROT_READ, MAP_SHARED, d->fd, BAR2 + SLICE);
    ok(m != MAP_FAILED, "gvt: mmap of the whole slice works");
    munmap(m, LOW_GM);
    ok(pread(d->fd, cfg, 4, BAR2 + SLICE + LOW_GM - 4) < 0 && errno == EFAULT,
       "gvt: aperture pread ending at the slice end fails (6.1 check)");
}

static void test_regions(Dev *d)
{
    struct {
        struct vfio_region_info r;
        struct vfio_region_info_cap_type t;
    } reg = { .r = { .argsz = sizeof(reg), .index = 10 } };
    uint64_t off = (uint64_t)10 << 40;
    uint32_t v = VFIO_DEVICE_GFX_LINK_STATE_UP, size;
    uint8_t blob[128], bad;
    char sig[17] = "";

    ok(call(d->fd, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0 &&
       reg.t.type == VFIO_REGION_TYPE_GFX &&
       reg.t.subtype == VFIO_REGION_SUBTYPE_GFX_EDID && reg.r.size == 128,
       "gvt: region 10 is the GFX EDID region, 128 bytes");
    ok(pread(d->fd, &size, 4, off + offsetof(struct vfio_region_gfx_edid,
                                              edid_offset)) == 4 &&
       size == PAGE / 2, "gvt: EDID blob at half a page");
    ok(pwrite(d->fd, &v, 4, off + offsetof(struct vfio_region_gfx_edid,
                                            link_state)) == 4,
       "gvt: link up with the vGPU's own EDID works");
    ok(pread(d->fd, blob, 128, off + PAGE / 2) == 128 && blob[0] == 0 &&
       blob[1] == 0xff && blob[18] == 1, "gvt: the EDID blob is EDID 1.x");
    bad = blob[127] + 1;
    pwrite(d->fd, &bad, 1, off + PAGE / 2 + 127);
    ok(pwrite(d->fd, &v, 4, off + offsetof(struct vfio_region_gfx_edid,
                                            link_state)) < 0 &&
       counter(GVT, "gvt-edid-invalid") == 1,
       "gvt: link up with a bad EDID checksum fails");
    pwrite(d->fd, &blob[127], 1, off + PAGE / 2 + 127);
    v = 7;
    ok(pwrite(d->fd, &v, 4, off + offsetof(struct vfio_region_gfx_edid,
                                            max_xres)) < 0,
       "gvt: writing max_xres (read-only) fails");
    ok(pread(d->fd, sig, 16, (uint64_t)9 << 40) == 16 &&
       !strcmp(sig, "IntelGraphicsMem"), "gvt: OpRegion signature");
    ok(pwrite(d->fd, sig, 4, (uint64_t)9 << 40) < 0,
       "gvt: the OpRegion is read-only");
}

static void test_planes(Dev *d)
{
    struct vfio_device_gfx_plane_info p;
    uint32_t id, *ap;
    int fd, fd2;


    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_PROBE |
                   VFIO_GFX_PLANE_TYPE_DMABUF, 0, &p) == 0,
       "gvt: PROBE|DMABUF is 0");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_PROBE |
                   VFIO_GFX_PLANE_TYPE_REGION, 0, &p) == -EINVAL,
       "gvt: PROBE|REGION is EINVAL");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p) ==
       -EINVAL, "gvt: a REGION query is EINVAL");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == 0xa5a5a5a5 && p.dmabuf_id == 0xa5a5a5a5,
       "gvt: no plane yet: 0 and the caller's struct untouched (ENODEV)");
    ok(sim_ctl("present " GVT " format=XRGB8888 width=1024 height=768 "
           "pattern=xy") == 0, "gvt: control presents a linear frame");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_XRGB8888 && p.width == 1024 &&
       p.height == 768 && p.stride == 4096 && p.size == 4096 * 768 &&
       p.drm_format_mod == DRM_FORMAT_MOD_LINEAR && p.dmabuf_id == 1,
       "gvt: the primary plane, linear, id 1");
    id = p.dmabuf_id;
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.dmabuf_id == id, "gvt: the same buffer keeps its id");
    ap = mmap(NULL, LOW_GM, PROT_READ, MAP_SHARED, d->fd, BAR2 + SLICE);
    ok(ap != MAP_FAILED && ap[(gma_of() - SLICE) / 4 + 5 * 1024 + 300] ==
       xy(300, 5), "gvt: the frame's pixels are in the aperture");
    fd = call(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(fd >= 0 && lseek(fd, 0, SEEK_END) == 4096 * 768,
       "gvt: GET_GFX_DMABUF: a dma-buf of the page-rounded size");
    ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "gvt: the dma-buf fd is CLOEXEC");
    ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED &&
       errno == ENODEV, "gvt: CPU mmap of the dma-buf is ENODEV (i915 6.1)");
    fd2 = call(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(fd2 >= 0 && fd2 != fd && counter(GVT, "gvt-dmabuf-fds") == 2,
       "gvt: a second GET of a held id is a new dma-buf");
    close(fd);
    fd = call(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(fd >= 0, "gvt: the id lives while one dma-buf is open");
    close(fd);
    close(fd2);
    ok(counter(GVT, "gvt-dmabuf-obj-freed") == 1,
       "gvt: the last close frees the object");
    ok(call(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id) == -EINVAL,
       "gvt: GET of a freed id is EINVAL (stale)");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.dmabuf_id == 1, "gvt: the next query reuses the lowest free id");
    ok(sim_ctl("flip " GVT) == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.dmabuf_id == 2, "gvt: a flip to the other buffer is a new id");
    ok(sim_ctl("flip " GVT) == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.dmabuf_id == 1, "gvt: flipping back finds the first id again");
    ok(sim_ctl("present " GVT " format=XRGB8888 width=1000 height=500 "
           "modifier=y pattern=xy") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format_mod == I915_FORMAT_MOD_Y_TILED && p.stride == 4096 &&
       p.size == 4096 * 512, "gvt: Y-tiled: size = stride * rows to 32");
    ok(ap[(gma_of() - SLICE + tiled('y', 4096, 999 * 4, 499)) / 4] ==
       xy(999, 499) &&
       ap[(gma_of() - SLICE + tiled('y', 4096, 17 * 4, 40)) / 4] == xy(17, 40),
       "gvt: Y-tiled pixels where the PRM puts them");
    ok(sim_ctl("present " GVT " format=XRGB8888 width=640 height=481 "
           "modifier=x pattern=xy") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format_mod == I915_FORMAT_MOD_X_TILED && p.stride == 2560 &&
       p.size == 2560 * 488, "gvt: X-tiled: size = stride * rows to 8");
    ok(ap[(gma_of() - SLICE + tiled('x', 2560, 639 * 4, 480)) / 4] ==
       xy(639, 480), "gvt: X-tiled pixels where the PRM puts them");
    ok(sim_ctl("present " GVT " format=RGB565 width=800 height=600") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_RGB565 && p.stride == 1600,
       "gvt: RGB565, stride to 64 bytes");
    ok(sim_ctl("present " GVT " format=0x3231564e width=800 height=600") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -EINVAL, "gvt: a format the decoder does not know (NV12) is EINVAL");
    ok(sim_ctl("present " GVT " width=800 height=600 gma=0x1000") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -EINVAL, "gvt: a surface outside the vGPU's graphics memory is EINVAL");
    ok(sim_ctl("present " GVT " width=1024 height=768 gma=%u", SLICE + LOW_GM -
           PAGE) == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -EFAULT, "gvt: a frame running past the graphics memory is EFAULT");
    ok(sim_ctl("present " GVT " width=100 height=100 stride=100") < 0,
       "gvt: control refuses a stride the register cannot hold");
    ok(sim_ctl("present " GVT " format=XBGR8888 width=64 height=64 stride=64 "
           "pattern=xy") < 0, "gvt: control does not draw into a stride < "
       "width * bpp (it sets the registers, as a guest may)");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 64 && p.width == 64, "gvt: GVT reports such a plane as is");
    ok(call(d->fd, VFIO_DEVICE_RESET, NULL) == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == 0xa5a5a5a5, "gvt: RESET turns the planes off");
    munmap(ap, LOW_GM);
}


/* skl_pixel_formats, intel_vgpu_get_stride and the Yf case of
 * vgpu_get_plane_info, one rule a line */
static void test_formats(Dev *d)
{
    static const struct {
        const char *name;
        uint32_t fourcc;
        unsigned cpp;
    } fmts[] = {
        { "YUYV", DRM_FORMAT_YUYV, 2 }, { "UYVY", DRM_FORMAT_UYVY, 2 },
        { "YVYU", DRM_FORMAT_YVYU, 2 }, { "VYUY", DRM_FORMAT_VYUY, 2 },
        { "C8", DRM_FORMAT_C8, 1 }, { "RGB565", DRM_FORMAT_RGB565, 2 },
        { "ABGR8888", DRM_FORMAT_ABGR8888, 4 },
        { "XBGR8888", DRM_FORMAT_XBGR8888, 4 },
        { "ARGB8888", DRM_FORMAT_ARGB8888, 4 },
        { "XRGB8888", DRM_FORMAT_XRGB8888, 4 },
        { "XBGR2101010", DRM_FORMAT_XBGR2101010, 4 },
        { "XRGB2101010", DRM_FORMAT_XRGB2101010, 4 },
    };
    struct vfio_device_gfx_plane_info p;
    uint8_t *ap, *px;
    char name[128];
    uint32_t id;
    size_t i;
    int fd;
    bool good;

    ap = mmap(NULL, LOW_GM, PROT_READ, MAP_SHARED, d->fd, BAR2 + SLICE);
    for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        good = sim_ctl("present " GVT " format=%s width=320 height=200",
                   fmts[i].name) == 0 &&
               query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY,
                           &p) == 0 &&
               p.drm_format == fmts[i].fourcc &&
               p.stride == (320 * fmts[i].cpp + 63) / 64 * 64;
        snprintf(name, sizeof(name), "gvt: %s is a format skl_pixel_formats "
                 "decodes, reported as such", fmts[i].name);
        ok(good, name);
    }
    ok(sim_ctl("present " GVT " format=XRGB8888 width=1000 height=500 "
           "modifier=yf pattern=xy") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format_mod == I915_FORMAT_MOD_Yf_TILED,
       "gvt: Yf tiling is reported as I915_FORMAT_MOD_Yf_TILED");
    ok(p.stride == 4096 && p.size == 4096 * 512,
       "gvt: Yf 32 bpp: stride in 128-byte units, size to 32 rows");
    id = p.dmabuf_id;
    fd = call(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(fd >= 0 && lseek(fd, 0, SEEK_END) == 4096 * 512,
       "gvt: Yf dma-buf size is the plane size page-rounded");
    close(fd);
    ok(*(uint32_t *)(ap + gma_of() - SLICE + yf(4096, 999 * 4, 499)) ==
       xy(999, 499) &&
       *(uint32_t *)(ap + gma_of() - SLICE + yf(4096, 37 * 4, 45)) ==
       xy(37, 45), "gvt: Yf 32 bpp pixels where the README's layout puts them");
    ok(sim_ctl("present " GVT " format=RGB565 width=100 height=33 modifier=yf "
           "pattern=xy") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 256 && p.size == 256 * 64,
       "gvt: Yf 16 bpp: stride in 128-byte units, size to 32 rows");
    ok(*(uint16_t *)(ap + gma_of() - SLICE + yf(256, 99 * 2, 32)) ==
       ((99 >> 3) << 11 | (32 >> 2) << 5 | 0),
       "gvt: Yf 16 bpp pixels where the README's layout puts them");
    ok(sim_ctl("present " GVT " format=C8 width=100 height=33 "
               "modifier=yf") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.stride == 128 && p.size == 128 * 64,
       "gvt: Yf 8 bpp: stride in 64-byte units, size still to 32 rows");
    ok(sim_ctl("present " GVT " format=C8 width=100 height=10 modifier=yf "
           "pattern=xy") < 0,
       "gvt: control refuses to draw 8 bpp Yf (no public layout, README)");
    ok(sim_ctl("present " GVT " format=XRGB8888 width=64 height=64 stride=256 "
           "modifier=2") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format_mod == DRM_FORMAT_MOD_LINEAR && p.stride == 256 &&
       p.size == 256 * 64,
       "gvt: an invalid tiling value is reported linear, raw stride units");
    ok(sim_ctl("present " GVT " format=YUYV width=6 height=2 "
           "pattern=0xff0000ff") == 0 &&
       (px = ap + gma_of() - SLICE) && px[0] == 32 && px[1] == 240 &&
       px[2] == 32 && px[3] == 118,
       "gvt: YUYV blue stored Y0 Cb Y1 Cr, BT.709 limited (README)");
    ok(sim_ctl("present " GVT " format=UYVY width=6 height=2 "
           "pattern=0xff0000ff") == 0 &&
       (px = ap + gma_of() - SLICE) && px[0] == 240 && px[1] == 32 &&
       px[2] == 118 && px[3] == 32, "gvt: UYVY stored Cb Y0 Cr Y1");
    ok(sim_ctl("present " GVT " format=YVYU width=6 height=2 "
           "pattern=0xff0000ff") == 0 &&
       (px = ap + gma_of() - SLICE) && px[0] == 32 && px[1] == 118 &&
       px[2] == 32 && px[3] == 240, "gvt: YVYU stored Y0 Cr Y1 Cb");
    ok(sim_ctl("present " GVT " format=VYUY width=6 height=2 "
           "pattern=0xff0000ff") == 0 &&
       (px = ap + gma_of() - SLICE) && px[0] == 118 && px[1] == 32 &&
       px[2] == 240 && px[3] == 32, "gvt: VYUY stored Cr Y0 Cb Y1");
    ok(sim_ctl("present " GVT " format=YUYV width=6 height=2 "
           "pattern=0xffffffff") == 0 &&
       (px = ap + gma_of() - SLICE) && px[0] == 235 && px[1] == 128 &&
       px[3] == 128, "gvt: YUYV white is Y 235, Cb Cr 128 (limited range)");
    ok(sim_ctl("present " GVT " format=C8 width=8 height=2 "
               "pattern=0xffe0c0ff") ==
       0 && (px = ap + gma_of() - SLICE) && px[0] == 0xfb,
       "gvt: C8 stores the RGB 3:3:2 palette index (README)");
    munmap(ap, LOW_GM);
}

static void test_cursor(Dev *d)
{
    struct vfio_device_gfx_plane_info p;
    uint32_t id;

    ok(sim_ctl("cursor " GVT " size=64 x=-5 y=10 hot_x=3 hot_y=4 "
           "pattern=0x80ff0000") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_CURSOR, &p) == 0 &&
       p.drm_format == DRM_FORMAT_ARGB8888 && p.width == 64 &&
       p.height == 64 && p.stride == 256 && p.size == 256 * 64 &&
       p.drm_format_mod == 0 && p.x_hot == 3 && p.y_hot == 4,
       "gvt: cursor plane ARGB8888 64x64 with its hotspot");
    ok(p.x_pos == 5 && p.y_pos == 10,
       "gvt: cursor x_pos is the magnitude, the sign bit dropped (6.1)");
    id = p.dmabuf_id;
    ok(sim_ctl("cursor " GVT " x=200 y=300") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_CURSOR, &p) == 0 &&
       p.dmabuf_id == id && p.x_pos == 200 && p.y_pos == 300,
       "gvt: a moved cursor keeps its id, new position");
    ok(sim_ctl("cursor " GVT " hot_x=65") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_CURSOR, &p) == 0 &&
       p.x_hot == UINT32_MAX && p.y_hot == UINT32_MAX,
       "gvt: a hotspot outside the cursor is UINT_MAX in both");
    ok(sim_ctl("cursor " GVT " size=off") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_CURSOR, &p) == 0 &&
       p.drm_format == 0xa5a5a5a5, "gvt: cursor off: untouched struct");
    ok(sim_ctl("present " GVT " width=640 height=480") == 0 &&
       sim_ctl("plane " GVT " pipe=off") == 0 &&
       query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == 0xa5a5a5a5, "gvt: no active pipe: no plane");
    sim_ctl("plane " GVT " pipe=on");
}

static void test_close(void)
{
    struct vfio_device_gfx_plane_info p;
    Dev d = open_dev(10, GVT);
    uint32_t id;
    int fd;

    query_plane(d.fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p);
    id = p.dmabuf_id;
    fd = call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    close_dev(&d);
    ok(fd >= 0 && lseek(fd, 0, SEEK_END) == 2560 * 480,
       "gvt: a dma-buf outlives the device fd (orphan object)");
    close(fd);
    d = open_dev(10, GVT);
    ok(call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id) == -EINVAL,
       "gvt: ids do not survive closing the device");
    close_dev(&d);
}

/*
 * A frame past the vGPU's low graphics memory: the guest cannot draw it
 * (its memory ends there), and the query refuses it as
 * vgpu_get_plane_info's intel_gvt_ggtt_validate_range does (EFAULT).
 */
static void test_beyond_gm(Dev *d)
{
    struct vfio_device_gfx_plane_info p;

    ok(sim_ctl("present " GVT " format=YVYU width=5503 height=7227 modifier=y "
           "buffer=1 pattern=xy") < 0 && strstr(sim_reply, "cannot draw"),
       "gvt: a frame past low GM cannot be drawn (found by the fuzzer: it "
       "wrote past the memfd)");
    ok(query_plane(d->fd, VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p) ==
       -EFAULT, "gvt: a frame past low GM: the query is EFAULT");
    ok(sim_ctl("present " GVT " width=640 height=480") == 0,
       "gvt: a frame inside low GM again");
}

int main(void)
{
    Dev d;

    sim_setup(GVT " gvt type=GVTg_V5_4 group=10\n", NULL, 0);
    d = open_dev(10, GVT);
    /*
     * intel_vgpu_show_description; intel_vgpu_get_available on a 256 MiB
     * aperture: its 128 MiB left to vGPUs taken by this one
     */
    check_sysfs(&(SysfsWant){
        "gvt", GVT, 10, "devices/pci0000:00/0000:00:02.0", "i915-GVTg_V5_4",
        "intel_vgpu_mdev", "intel_vgpu/vgpu_id", "1\n", "GVTg_V5_4\n",
        "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\n"
        "resolution: 1920x1200\nweight: 4\n", "0\n" });
    ok(!strcmp(sys_read("/sys/devices/pci0000:00/0000:00:02.0/"
                        "mdev_supported_types/i915-GVTg_V5_8/"
                        "description"),
               "low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\n"
               "resolution: 1024x768\nweight: 2\n"),
       "sysfs: gvt's other type, GVTg_V5_8");
    test_device(&d);
    test_regions(&d);
    test_planes(&d);
    test_formats(&d);
    test_cursor(&d);
    test_beyond_gm(&d);
    close_dev(&d);
    test_close();
    return done_testing();
}
