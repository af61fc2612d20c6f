/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw-ABI tests of vfio-sim, without QEMU: run with the simulator
 * preloaded (LD_PRELOAD=libvfio-sim.so); one kernel rule per TAP line.
 */
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <libdrm/drm_fourcc.h>
#include <linux/dma-buf.h>
#include <linux/kvm.h>

#include "testlib.h"

#define MDPY "11111111-0000-0000-0000-00000000000a"
#define MBOCHS "22222222-0000-0000-0000-00000000000b"
#define MBOCHS_MMAP "33333333-0000-0000-0000-00000000000c"

static void write_config(void)
{
    sim_setup("# test devices\n"
              MDPY " mdpy type=xga group=7\n"
              MBOCHS " mbochs type=medium group=8\n"
              MBOCHS_MMAP " mbochs type=small group=9 dmabuf-cpu-mmap=allow\n",
              NULL, 0);
}

static void test_sysfs(void)
{
    int parents = 0, others = 0;
    char buf[PATH_MAX];
    struct dirent *e;
    struct stat st;
    DIR *dir;
    ssize_t n;
    char *rp;

    ok(stat("/sys/bus/mdev/devices/" MDPY, &st) == 0 && S_ISDIR(st.st_mode),
       "sysfs: the mdev directory exists");
    ok(stat("/sys/bus/mdev/devices/99999999-0000-0000-0000-000000000000",
            &st) < 0 && errno == ENOENT, "sysfs: an unknown uuid is ENOENT");
    n = readlink("/sys/bus/mdev/devices/" MDPY "/iommu_group", buf,
                 sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    ok(n > 0 && !strcmp(strrchr(buf, '/'), "/7"),
       "sysfs: iommu_group links to the configured group");
    rp = realpath("/sys/bus/mdev/devices/" MDPY "/subsystem", NULL);
    ok(rp && !strcmp(rp, "/sys/bus/mdev"),
       "sysfs: realpath of subsystem is /sys/bus/mdev");
    free(rp);
    /* mdpy_types, mbochs_types; 256 MB less mbochs medium's 16 and small's 4 */
    check_sysfs(&(SysfsWant){
        "mdpy", MDPY, 7, "devices/virtual/mdpy/mdpy", "mdpy-xga", "mdpy",
        "vendor/resolution", "1024x768\n", "mdpy-xga\n",
        "virtual display, 1024x768 framebuffer\n", "3\n" });
    check_sysfs(&(SysfsWant){
        "mbochs", MBOCHS, 8, "devices/virtual/mbochs/mbochs",
        "mbochs-medium", "mbochs", "vendor/memory", "16 MB\n",
        "mbochs-medium\n", "virtual display, 16 MB video memory\n",
        "14\n" });
    check_sysfs(&(SysfsWant){
        "mbochs", MBOCHS_MMAP, 9, "devices/virtual/mbochs/mbochs",
        "mbochs-small", "mbochs", "vendor/memory", "4 MB\n",
        "mbochs-small\n", "virtual display, 4 MB video memory\n",
        "59\n" });
    ok(!strcmp(sys_read("/sys/devices/virtual/mbochs/mbochs/"
                        "mdev_supported_types/mbochs-large/"
                        "available_instances"), "3\n") &&
       !strcmp(sys_read("/sys/devices/virtual/mdpy/mdpy/"
                        "mdev_supported_types/mdpy-hd/available_instances"),
               "3\n"),
       "sysfs: every type of a parent, its count shared with the others");
    dir = opendir("/sys/class/mdev_bus");
    while (dir && (e = readdir(dir))) {
        parents += !strcmp(e->d_name, "mbochs") || !strcmp(e->d_name, "mdpy");
        others += e->d_name[0] != '.' && strcmp(e->d_name, "mbochs") &&
                  strcmp(e->d_name, "mdpy");
    }
    if (dir) {
        closedir(dir);
    }
    ok(parents == 2 && !others,
       "sysfs: a listing of /sys/class/mdev_bus shows the configured parents");
    ok(access("/sys/devices/system", F_OK) == 0 &&
       access("/sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types",
              F_OK) < 0,
       "sysfs: the rest of the host's /sys, gvt's unconfigured parent too, "
       "is the host's");
}

static void test_container_group(void)
{
    struct vfio_group_status st = { .argsz = sizeof(st) };
    struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
    struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
    int c = open("/dev/vfio/vfio", O_RDWR);
    int g = open("/dev/vfio/7", O_RDWR);
    int null = open("/dev/null", O_RDWR), bad = 999, dev;

    ok(open("/dev/vfio/999", O_RDWR) < 0 && errno == ENOENT,
       "group: a group without devices does not exist");
    ok(call(c, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION,
       "container: GET_API_VERSION");
    ok(call(c, VFIO_CHECK_EXTENSION, (void *)VFIO_TYPE1v2_IOMMU) == 1 &&
       call(c, VFIO_CHECK_EXTENSION, (void *)VFIO_SPAPR_TCE_IOMMU) == 0,
       "container: type1v2 is supported, spapr not");
    ok(call(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == -EINVAL,
       "container: SET_IOMMU without a group is EINVAL");
    ok(call(c, VFIO_IOMMU_GET_INFO, &st) == -EINVAL,
       "container: IOMMU ioctls before SET_IOMMU are EINVAL");
    ok(call(g, VFIO_GROUP_GET_STATUS, &st) == 0 &&
       st.flags == VFIO_GROUP_FLAGS_VIABLE, "group: viable, no container");
    ok(call(g, VFIO_GROUP_GET_DEVICE_FD, MDPY) == -EINVAL,
       "group: GET_DEVICE_FD before SET_CONTAINER is EINVAL");
    ok(call(g, VFIO_GROUP_SET_CONTAINER, &null) == -EINVAL,
       "group: SET_CONTAINER with a non-container fd is EINVAL");
    ok(call(g, VFIO_GROUP_SET_CONTAINER, &bad) == -EBADF,
       "group: SET_CONTAINER with a closed fd is EBADF");
    ok(call(g, VFIO_GROUP_SET_CONTAINER, &c) == 0 &&
       call(g, VFIO_GROUP_GET_STATUS, &st) == 0 &&
       st.flags == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
       "group: SET_CONTAINER sets CONTAINER_SET");
    ok(call(c, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_IOMMU) == -ENODEV,
       "container: SET_IOMMU of an unsupported type is ENODEV");
    ok(call(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == 0 &&
       call(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == -EINVAL,
       "container: SET_IOMMU once, then EINVAL");
    map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    map.vaddr = 0x100000;
    map.iova = 0x1000;
    map.size = 0x1800;
    ok(call(c, VFIO_IOMMU_MAP_DMA, &map) == -EINVAL,
       "type1: MAP_DMA of an unaligned size is EINVAL");
    map.size = 0x2000;
    ok(call(c, VFIO_IOMMU_MAP_DMA, &map) == 0 &&
       call(c, VFIO_IOMMU_MAP_DMA, &map) == -EEXIST,
       "type1: MAP_DMA over a mapping is EEXIST");
    unmap.iova = 0;
    unmap.size = 0x10000;
    ok(call(c, VFIO_IOMMU_UNMAP_DMA, &unmap) == 0 && unmap.size == 0x2000,
       "type1: UNMAP_DMA reports the size unmapped");
    ok(call(g, VFIO_GROUP_GET_DEVICE_FD, "nope") == -ENODEV,
       "group: GET_DEVICE_FD of an unknown name is ENODEV");
    dev = call(g, VFIO_GROUP_GET_DEVICE_FD, MDPY);
    ok(dev >= 0 && call(g, VFIO_GROUP_UNSET_CONTAINER, NULL) == -EBUSY,
       "group: UNSET_CONTAINER with a device open is EBUSY");
    close(dev);
    close(g);
    close(c);
    close(null);
}

/*
 * KVM's VFIO device (virt/kvm/vfio.c) takes a group fd as the kernel
 * takes a real one; the ioctl goes to whatever fd (here /dev/null): the
 * simulator answers for its own fds before a kernel would see it.
 */
static void test_kvm_vfio(void)
{
    int c = open("/dev/vfio/vfio", O_RDWR);
    int g = open("/dev/vfio/7", O_RDWR);
    int kvm = open("/dev/null", O_RDWR), fd;
    struct kvm_device_attr a = {
        .group = KVM_DEV_VFIO_GROUP, .attr = KVM_DEV_VFIO_GROUP_ADD,
        .addr = (uintptr_t)&fd,
    };

    fd = g;
    ok(call(kvm, KVM_SET_DEVICE_ATTR, &a) == 0,
       "kvm-vfio: GROUP_ADD of a group fd");
    ok(call(kvm, KVM_SET_DEVICE_ATTR, &a) == -EEXIST,
       "kvm-vfio: the same group again is EEXIST");
    fd = c;
    ok(call(kvm, KVM_SET_DEVICE_ATTR, &a) == -EINVAL,
       "kvm-vfio: GROUP_ADD of a container fd is EINVAL");
    a.attr = KVM_DEV_VFIO_GROUP_DEL;
    ok(call(kvm, KVM_SET_DEVICE_ATTR, &a) == -ENOENT,
       "kvm-vfio: GROUP_DEL of a file never added is ENOENT");
    fd = g;
    ok(call(kvm, KVM_SET_DEVICE_ATTR, &a) == 0 &&
       call(kvm, KVM_SET_DEVICE_ATTR, &a) == -ENOENT,
       "kvm-vfio: GROUP_DEL of the group, then ENOENT");
    close(g);
    ok(call(kvm, KVM_SET_DEVICE_ATTR, &a) == -ENOTTY,
       "kvm-vfio: a closed fd is not ours: the call goes to the kernel");
    close(c);
    close(kvm);
}

static void test_mdpy(void)
{
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = 0 };
    struct vfio_region_info reg = { .argsz = sizeof(reg) };
    struct vfio_device_gfx_plane_info p = { .argsz = sizeof(p) };
    struct vfio_device_feature feat = { .argsz = sizeof(feat) };
    Dev d = open_dev(7, MDPY);
    uint8_t cfg[4];
    uint32_t *fb, px = 0x00ff0000, got;

    ok(d.fd >= 0, "mdpy: device fd");
    ok(call(d.fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == -EINVAL,
       "mdpy: GET_IRQ_INFO before GET_INFO is EINVAL (num_irqs still 0)");
    ok(call(d.fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
       info.flags == VFIO_DEVICE_FLAGS_PCI && info.num_regions == 9 &&
       info.num_irqs == 5, "mdpy: GET_INFO: PCI, 9 regions, 5 irqs");
    ok(call(d.fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0 && irq.count == 0,
       "mdpy: GET_IRQ_INFO: no interrupts");
    reg.index = 16;
    ok(call(d.fd, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0 &&
       reg.offset == PAGE && reg.size == 4 << 20 &&
       reg.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                     VFIO_REGION_INFO_FLAG_MMAP),
       "mdpy: display region 16 = BAR0 at one page, 4 MiB, mmap");
    reg.index = 10;
    ok(call(d.fd, VFIO_DEVICE_GET_REGION_INFO, &reg) == -EINVAL,
       "mdpy: region 10 is EINVAL");
    reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
    ok(call(d.fd, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0 && reg.size == 0xff,
       "mdpy: config region is 0xff bytes");
    ok(pread(d.fd, cfg, 4, 0) == 4 && cfg[0] == 0x36 && cfg[1] == 0x1b &&
       cfg[2] == 0x0f && cfg[3] == 0x00, "mdpy: config space 1b36:000f");
    p.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
    ok(call(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p) == 0,
       "mdpy: PROBE|REGION is 0");
    p.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
    ok(call(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p) == -EINVAL,
       "mdpy: PROBE|DMABUF is EINVAL");
    p.flags = VFIO_GFX_PLANE_TYPE_REGION | VFIO_GFX_PLANE_TYPE_DMABUF;
    ok(call(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p) == -EINVAL,
       "mdpy: REGION|DMABUF is EINVAL");
    p.flags = VFIO_GFX_PLANE_TYPE_REGION;
    p.drm_plane_type = PLANE_PRIMARY;
    ok(call(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p) == 0 &&
       p.drm_format == DRM_FORMAT_XRGB8888 && p.width == 1024 &&
       p.height == 768 && p.stride == 4096 && p.size == 4 << 20 &&
       p.region_index == 16, "mdpy: primary plane xga XRGB8888 in region 16");
    p.drm_plane_type = PLANE_CURSOR;
    p.width = 0;
    ok(call(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p) == 0 && p.width == 1024,
       "mdpy: a CURSOR query returns the primary plane (type ignored)");
    ok(mmap(NULL, 4 << 20, PROT_READ, MAP_PRIVATE, d.fd, PAGE) ==
       MAP_FAILED && errno == EINVAL, "mdpy: MAP_PRIVATE mmap is EINVAL");
    ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d.fd, 2 * PAGE) ==
       MAP_FAILED && errno == EINVAL, "mdpy: mmap off the BAR is EINVAL");
    ok(mmap(NULL, 8 << 20, PROT_READ, MAP_SHARED, d.fd, PAGE) ==
       MAP_FAILED && errno == EINVAL, "mdpy: mmap past memsize is EINVAL");
    fb = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, PAGE);
    ok(fb != MAP_FAILED && fb[0] == 0 && fb[767 * 1024] ==
       (767 * 255 / 768) * 0x01010101u, "mdpy: BAR0 holds the gray gradient");
    ok(pwrite(d.fd, &px, 4, PAGE + 4096) == 4 && fb[0] == px &&
       fb[1024] != px, "mdpy: a BAR0 pwrite lands at offset 0 (6.1 bug)");
    ok(pread(d.fd, &got, 4, PAGE + 8192) == 4 && got == px,
       "mdpy: a BAR0 pread reads offset 0 (6.1 bug)");
    ok(pread(d.fd, &got, 4, PAGE + (4 << 20)) < 0 && errno == EFAULT,
       "mdpy: pread past BAR0 is EFAULT");
    ok(call(d.fd, VFIO_DEVICE_RESET, NULL) == 0 && fb[0] == 0,
       "mdpy: RESET redraws the gradient");
    ok(call(d.fd, _IO(VFIO_TYPE, VFIO_BASE + 40), NULL) == -ENOTTY,
       "mdpy: an unknown ioctl is ENOTTY");
    feat.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_MIGRATION;
    ok(call(d.fd, VFIO_DEVICE_FEATURE, &feat) == -ENOTTY,
       "core: FEATURE migration probe is ENOTTY (no mig_ops)");
    feat.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | 1;
    ok(call(d.fd, VFIO_DEVICE_FEATURE, &feat) == -EINVAL,
       "core: FEATURE with GET and SET, no PROBE, is EINVAL");
    ok(call(d.fd, VFIO_DEVICE_SET_IRQS, &feat) == -EINVAL,
       "mdpy: SET_IRQS is EINVAL");
    munmap(fb, 4 << 20);
    close_dev(&d);
}

/* write a bochs dispi register through BAR2 (mmio at one page, 0x500) */
static void dispi(int fd, int index, uint16_t v)
{
    pwrite(fd, &v, 2, PAGE + 0x500 + index * 2);
}

static void set_mode(int fd, int w, int h, int bpp)
{
    dispi(fd, 4, 0);
    dispi(fd, 1, w);
    dispi(fd, 2, h);
    dispi(fd, 3, bpp);
    dispi(fd, 4, 1);
}

static long query(int fd, int type, struct vfio_device_gfx_plane_info *p)
{
    return query_plane(fd, VFIO_GFX_PLANE_TYPE_DMABUF, type, p);
}

static void test_mbochs(void)
{
    int dup_fd;
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct {
        struct vfio_region_info base;
        struct vfio_region_info_cap_type type;
    } ext = { .base.argsz = sizeof(ext) };
    struct vfio_region_gfx_edid edid;
    struct vfio_device_gfx_plane_info p;
    struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
    Dev d = open_dev(8, MBOCHS);
    uint32_t id, bad = 99, v, link = VFIO_DEVICE_GFX_LINK_STATE_UP;
    uint32_t esize = 128, *vram;
    uint8_t blob[4] = { 0, 0xff, 0xff, 0xff }, got[4];
    uint16_t reg;
    int fd, fd2;

    ok(call(d.fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
       info.num_regions == 10, "mbochs: GET_INFO: 10 regions (EDID last)");
    ok(pread(d.fd, &reg, 2, PAGE + 0x500) == 2 && reg == 0xB0C5,
       "mbochs: dispi ID register reads VBE_DISPI_ID5");
    ext.base.index = 9;
    ok(call(d.fd, VFIO_DEVICE_GET_REGION_INFO, &ext) == 0 &&
       ext.base.offset == 2 * PAGE && ext.base.size == PAGE &&
       (ext.base.flags & VFIO_REGION_INFO_FLAG_CAPS) &&
       ext.type.header.id == VFIO_REGION_INFO_CAP_TYPE &&
       ext.type.type == VFIO_REGION_TYPE_GFX &&
       ext.type.subtype == VFIO_REGION_SUBTYPE_GFX_EDID,
       "mbochs: region 9 is the GFX EDID region with its type capability");
    ext.base.argsz = sizeof(ext) + 8;
    ok(call(d.fd, VFIO_DEVICE_GET_REGION_INFO, &ext) == -EINVAL,
       "mbochs: region info argsz above what it knows is EINVAL");
    ok(pread(d.fd, &edid, sizeof(edid), 2 * PAGE) == sizeof(edid) &&
       edid.max_xres == 1920 && edid.max_yres == 1440 &&
       edid.edid_offset == PAGE / 2 && edid.edid_max_size == 0x400,
       "mbochs: EDID registers of type medium");
    pwrite(d.fd, blob, 4, 2 * PAGE + PAGE / 2);
    pwrite(d.fd, &esize, 4, 2 * PAGE +
           offsetof(struct vfio_region_gfx_edid, edid_size));
    pwrite(d.fd, &link, 4, 2 * PAGE +
           offsetof(struct vfio_region_gfx_edid, link_state));
    ok(pread(d.fd, got, 4, PAGE) == 4 && !memcmp(got, blob, 4),
       "mbochs: the EDID blob shows in BAR2 once the link is up");
    ok(query(d.fd, PLANE_PRIMARY, &p) == 0 && p.drm_format == 0 &&
       p.dmabuf_id == 0 && p.size == 0,
       "mbochs: no mode set: primary plane with drm_format 0");
    set_mode(d.fd, 1024, 768, 16);
    ok(query(d.fd, PLANE_PRIMARY, &p) == 0 && p.drm_format == 0,
       "mbochs: 16 bpp is no framebuffer");
    set_mode(d.fd, 1024, 768, 32);
    ok(query(d.fd, PLANE_PRIMARY, &p) == -ENOMEM,
       "mbochs: first query of a new mode is ENOMEM (6.1 bug)");
    ok(query(d.fd, PLANE_PRIMARY, &p) == 0 &&
       p.drm_format == DRM_FORMAT_XRGB8888 && p.width == 1024 &&
       p.height == 768 && p.stride == 4096 && p.size == 4096 * 768 &&
       p.dmabuf_id == 1 && p.drm_format_mod == 0 && p.x_hot == 0,
       "mbochs: second query: XRGB8888 1024x768, dmabuf id 1");
    id = p.dmabuf_id;
    ok(query(d.fd, PLANE_CURSOR, &p) == 0 && p.drm_format == 0,
       "mbochs: no cursor plane");
    ok(call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &bad) == -ENOENT,
       "mbochs: GET of an unknown id is ENOENT");
    fd = call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(fd >= 0, "mbochs: GET returns a dma-buf fd");
    ok(lseek(fd, 0, SEEK_END) == 4096 * 768,
       "mbochs: dma-buf size is stride * height, not page-rounded");
    ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED &&
       errno == EINVAL, "mbochs: CPU mmap of the dma-buf is EINVAL");
    ok(counter(MBOCHS, "dmabuf-cpu-mmap-refused") == 1,
       "mbochs: the refused mmap is counted");
    dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ok(dup_fd >= 0 && lseek(dup_fd, 0, SEEK_END) == 4096 * 768 &&
       mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dup_fd, 0) == MAP_FAILED &&
       errno == EINVAL && counter(MBOCHS, "dmabuf-cpu-mmap-refused") == 2,
       "dma-buf: a duplicate (F_DUPFD_CLOEXEC) is the same dma-buf");
    close(dup_fd);
    dup_fd = dup(fd);
    ok(dup_fd >= 0 && lseek(dup_fd, 0, SEEK_END) == 4096 * 768,
       "dma-buf: so is one made by dup()");
    close(dup_fd);
    ok(call(fd, DMA_BUF_IOCTL_SYNC, &sync) == 0,
       "dma-buf: DMA_BUF_IOCTL_SYNC succeeds");
    ok(pread(fd, &v, 4, 0) < 0 && errno == EINVAL,
       "dma-buf: read is EINVAL");
    vram = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
                3 * PAGE);
    v = 0x12345678;
    ok(vram != MAP_FAILED && (vram[8192 / 4] = v) &&
       pread(d.fd, got, 4, 3 * PAGE) == 4 && !memcmp(got, &v, 4),
       "mbochs: a VRAM pread at X reads X + 2 pages (6.1 bug)");
    ok(counter(MBOCHS, "mbochs-bug-second-fd") == 0,
       "mbochs: no refcount bug yet");
    fd2 = call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(fd2 >= 0 && counter(MBOCHS, "mbochs-bug-second-fd") == 1,
       "mbochs: a second GET while an fd is open is caught");
    close(fd);
    close(fd2);
    fd = call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    ok(counter(MBOCHS, "mbochs-bug-reexport") == 1,
       "mbochs: a GET after the dma-buf's release is caught");
    close(fd);
    munmap(vram, 16 << 20);
    close_dev(&d);

    d = open_dev(9, MBOCHS_MMAP);
    set_mode(d.fd, 640, 480, 32);
    query(d.fd, PLANE_PRIMARY, &p);
    query(d.fd, PLANE_PRIMARY, &p);
    id = p.dmabuf_id;
    fd = call(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    vram = mmap(NULL, 640 * 480 * 4, PROT_READ, MAP_SHARED, fd, 0);
    ok(vram != MAP_FAILED,
       "mbochs dmabuf-cpu-mmap=allow: CPU mmap of the dma-buf works");
    close(fd);
    close_dev(&d);
}

int main(void)
{
    write_config();
    test_sysfs();
    test_container_group();
    test_kvm_vfio();
    test_mdpy();
    test_mbochs();
    return done_testing();
}
