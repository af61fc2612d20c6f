/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The GPU importer side of vfio-sim's dma-bufs, without QEMU: Mesa's
 * llvmpipe on the surfaceless EGL platform imports an mbochs dma-buf
 * (EGL_EXT_image_dma_buf_import) and reads its pixels back, zero-copy,
 * while a CPU mmap of the same fd is refused.  TAP; run preloaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <libdrm/drm_fourcc.h>
#include <linux/vfio.h>

#define MBOCHS "44444444-0000-4000-8000-00000000000d"
#define PAGE 4096
#define W 256
#define H 128

static int ntest, nfail;

static void ok(int cond, const char *name)
{
    ntest++;
    nfail += !cond;
    printf("%sok %d - %s\n", cond ? "" : "not ", ntest, name);
    fflush(stdout);
}

static unsigned counter(const char *what)
{
    unsigned (*fn)(const char *, const char *) =
        (unsigned (*)(const char *, const char *))dlsym(RTLD_DEFAULT,
                                                       "vfio_sim_counter");

    return fn ? fn(MBOCHS, what) : ~0u;
}

static void write_config(void)
{
    char dir[] = "/tmp/vfio-sim-egl.XXXXXX";
    char path[PATH_MAX];
    FILE *f;

    if (!mkdtemp(dir)) {
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/config", dir);
    f = fopen(path, "w");
    fprintf(f, MBOCHS " mbochs type=small group=61\n");
    fclose(f);
    setenv("VFIO_SIM_CONFIG", path, 1);
    snprintf(path, sizeof(path), "%s/root", dir);
    setenv("VFIO_SIM_DIR", path, 1);
}

static int open_mbochs(void)
{
    int c = open("/dev/vfio/vfio", O_RDWR);
    int g = open("/dev/vfio/61", O_RDWR);

    ioctl(g, VFIO_GROUP_SET_CONTAINER, &c);
    ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
    return ioctl(g, VFIO_GROUP_GET_DEVICE_FD, MBOCHS);
}

static void dispi(int fd, int index, uint16_t v)
{
    pwrite(fd, &v, 2, PAGE + 0x500 + index * 2);
}

/* set W x H at 32 bpp and GET the primary plane's dma-buf */
static int get_dmabuf(int dev)
{
    struct vfio_device_gfx_plane_info p = { .argsz = sizeof(p) };
    int i;

    dispi(dev, 4, 0);
    dispi(dev, 1, W);
    dispi(dev, 2, H);
    dispi(dev, 3, 32);
    dispi(dev, 4, 1);
    for (i = 0; i < 2; i++) {  /* the first query of a mode is ENOMEM */
        p.flags = VFIO_GFX_PLANE_TYPE_DMABUF;
        p.drm_plane_type = 1;
        if (ioctl(dev, VFIO_DEVICE_QUERY_GFX_PLANE, &p) == 0) {
            return ioctl(dev, VFIO_DEVICE_GET_GFX_DMABUF, &p.dmabuf_id);
        }
    }
    return -1;
}

static EGLDisplay egl_surfaceless(void)
{
    EGLDisplay dpy = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA,
                                              EGL_DEFAULT_DISPLAY, NULL);
    static const EGLint ctx_attr[] = { EGL_CONTEXT_MAJOR_VERSION, 2,
                                       EGL_NONE };
    EGLContext ctx;

    if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, NULL, NULL) ||
        !eglBindAPI(EGL_OPENGL_ES_API)) {
        return EGL_NO_DISPLAY;
    }
    ctx = eglCreateContext(dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ctx_attr);
    if (ctx == EGL_NO_CONTEXT ||
        !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
        return EGL_NO_DISPLAY;
    }
    return dpy;
}

/* import @fd as a W x H XRGB8888 image; glReadPixels one RGBA pixel */
static EGLImageKHR import(EGLDisplay dpy, int fd, GLuint *fb)
{
    const EGLint attr[] = {
        EGL_WIDTH, W, EGL_HEIGHT, H,
        EGL_LINUX_DRM_FOURCC_EXT, DRM_FORMAT_XRGB8888,
        EGL_DMA_BUF_PLANE0_FD_EXT, fd,
        EGL_DMA_BUF_PLANE0_OFFSET_EXT, 0,
        EGL_DMA_BUF_PLANE0_PITCH_EXT, W * 4,
        EGL_NONE,
    };
    EGLImageKHR img = eglCreateImageKHR(dpy, EGL_NO_CONTEXT,
                                        EGL_LINUX_DMA_BUF_EXT, NULL, attr);
    GLuint tex;

    if (img == EGL_NO_IMAGE_KHR) {
        return img;
    }
    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glEGLImageTargetTexture2DOES(GL_TEXTURE_2D, img);
    glGenFramebuffers(1, fb);
    glBindFramebuffer(GL_FRAMEBUFFER, *fb);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
                           GL_TEXTURE_2D, tex, 0);
    return img;
}

static uint32_t read_pixel(int x, int y)
{
    uint8_t rgba[4];

    glReadPixels(x, y, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
    return rgba[0] << 16 | rgba[1] << 8 | rgba[2];
}

int main(void)
{
    const char *gpu = getenv("VFIO_SIM_GPU");
    bool no_gpu = gpu && !strcmp(gpu, "none");
    EGLDisplay dpy;
    EGLImageKHR img;
    uint32_t *vram;
    GLuint fb;
    int dev, fd;

    write_config();
    dpy = egl_surfaceless();
    if (dpy == EGL_NO_DISPLAY ||
        !epoxy_has_egl_extension(dpy, "EGL_EXT_image_dma_buf_import")) {
        printf("1..0 # SKIP no surfaceless EGL with dma-buf import\n");
        return 0;
    }
    printf("# GL_RENDERER: %s\n", glGetString(GL_RENDERER));
    dev = open_mbochs();
    vram = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
                3 * PAGE);
    vram[0] = 0x00112233;
    vram[5 * W + 7] = 0x00a0b0c0;
    fd = get_dmabuf(dev);
    ok(fd >= 0, "mbochs: a dma-buf of the primary plane");
    ok(mmap(NULL, W * H * 4, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED &&
       errno == EINVAL, "a CPU mmap of it is refused with EINVAL");
    img = import(dpy, fd, &fb);
    if (no_gpu) {
        /* as on a host without GPU, with a real vendor's dma-buf */
        ok(img == EGL_NO_IMAGE_KHR ||
           read_pixel(0, 0) != 0x112233 || glGetError() != GL_NO_ERROR,
           "VFIO_SIM_GPU=none: llvmpipe cannot read it (it needs a CPU "
           "mapping, which the exporter refuses)");
        ok(counter("dmabuf-cpu-mmap-refused") >= 2,
           "VFIO_SIM_GPU=none: llvmpipe's mapping was refused too");
        printf("1..%d\n", ntest);
        return nfail ? 1 : 0;
    }
    ok(img != EGL_NO_IMAGE_KHR && eglGetError() == EGL_SUCCESS,
       "llvmpipe imports it (surfaceless EGL, dma-buf import)");
    ok(glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE,
       "the imported image is a complete framebuffer");
    ok(read_pixel(0, 0) == 0x112233 && read_pixel(7, 5) == 0xa0b0c0,
       "glReadPixels returns what was written into VRAM");
    vram[5 * W + 7] = 0x00445566;
    ok(read_pixel(7, 5) == 0x445566,
       "zero-copy: a later VRAM write shows through the same image");
    ok(counter("dmabuf-cpu-mmap-refused") == 1,
       "only the CPU mmap was refused, not the GPU driver's mapping");
    ok(glGetError() == GL_NO_ERROR, "no GL error");
    eglDestroyImageKHR(dpy, img);
    close(fd);
    printf("1..%d\n", ntest);
    return nfail ? 1 : 0;
}
